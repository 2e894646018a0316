"""``status.inventory`` of a HelmRelease (Flux 2.8+): the objects of the release manifest plus
the chart's CRDs, in kustomize-controller's entry format (``<ns>_<name>_<group>_<kind>``), in
apply order. Hooks are not part of the manifest, so they are not listed. Namespaced objects
without a namespace are in the release namespace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.errors import KubeError
from weir.helm.drift import parse_manifest
from weir.helmengine.errors import DriftError
from weir.kube.inventory import entries_from_objects, to_wire
from weir.kube.resources import mapper_for
from weir.types import Obj


async def release_inventory(
    api: ApiClient,
    manifest: str,
    namespace: str,
    crds: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The ``status.inventory`` value of a release."""
    try:
        objects = parse_manifest(manifest)
    except DriftError:
        objects = []
    mapper = mapper_for(api)
    out: list[Obj] = [dict(c) for c in crds]
    for obj in objects:
        meta = dict(obj.get("metadata") or {})
        try:
            namespaced = (await mapper.for_object(obj)).namespaced
        except KubeError:
            namespaced = True  # unknown kinds: assume namespaced, as most are
        if namespaced and not meta.get("namespace"):
            meta["namespace"] = namespace
        elif not namespaced:
            meta.pop("namespace", None)
        out.append({**obj, "metadata": meta})
    return to_wire(entries_from_objects(out))
