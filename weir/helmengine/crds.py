"""CRD policies of HelmRelease ``install.crds`` / ``upgrade.crds``, applied by weir before Helm
runs (Helm itself is always called with CRDs skipped, as helm-controller does):

- ``Skip``: leave the chart's ``crds/`` alone;
- ``Create`` (install default): create the CRDs that do not exist, never touch existing ones;
- ``CreateReplace``: create or update them all (server-side apply, forced). CRDs that left the
  chart are never deleted.

Created or updated CRDs get the origin labels and are waited for until ``Established``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from kubernetes_asyncio.client import ApiClient

from weir import yamlio
from weir.helmengine.errors import ReleaseError, ReleaseTimeoutError
from weir.helmengine.postrender import origin_labels
from weir.kube.apply import apply, create, get
from weir.kube.errors import AlreadyExistsError, ApiError
from weir.kube.resources import ResourceRef, mapper_for

CRDPolicy = Literal["Skip", "Create", "CreateReplace"]
CRD_RESOURCE = ResourceRef("apiextensions.k8s.io", "v1", "customresourcedefinitions", False)


def crd_documents(files: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """The CustomResourceDefinition objects in a chart's ``crds/`` files ((name, YAML) pairs)."""
    out = []
    for name, text in files:
        try:
            docs = list(yamlio.load_all(text))
        except yamlio.YAMLError as e:
            raise ReleaseError(f"CRD file {name} is not valid YAML: {e}") from e
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                out.append(doc)
    return out


def _established(obj: Mapping[str, Any]) -> bool:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Established" and cond.get("status") == "True":
            return True
    return False


async def apply_crds(
    api: ApiClient,
    crds: Iterable[Mapping[str, Any]],
    policy: CRDPolicy,
    *,
    field_manager: str,
    origin: tuple[str, str] | None = None,
    action: str = "install",
    timeout: float = 60.0,  # noqa: ASYNC109 - bounds the wait for Established
) -> list[str]:
    """Apply ``crds`` under ``policy``; returns the names created or updated."""
    if policy == "Skip":
        return []
    if policy not in ("Create", "CreateReplace"):
        raise ReleaseError(
            f"invalid CRD policy {policy!r}: use Skip, Create or CreateReplace", action=action
        )
    touched: list[str] = []
    for crd in crds:
        obj = {**crd, "metadata": dict(crd.get("metadata") or {})}
        if origin is not None:
            labels = {**(obj["metadata"].get("labels") or {}), **origin_labels(*origin)}
            obj["metadata"]["labels"] = labels
        name = str(obj["metadata"].get("name") or "")
        try:
            if policy == "Create":
                try:
                    await create(api, CRD_RESOURCE, obj, field_manager=field_manager)
                except AlreadyExistsError:
                    continue
            else:
                await apply(api, obj, field_manager, force=True)
        except ApiError as e:
            raise ReleaseError(
                f"failed to apply CustomResourceDefinition {name}: {e}", action=action
            ) from e
        touched.append(name)
    deadline = time.monotonic() + timeout
    for name in touched:
        while True:
            live = await get(api, CRD_RESOURCE, None, name)
            if _established(live):
                break
            if time.monotonic() > deadline:
                raise ReleaseTimeoutError(
                    f"CustomResourceDefinition {name} was not Established within {timeout:g}s",
                    action=action,
                )
            await asyncio.sleep(0.1)
    if touched:
        mapper_for(api).invalidate()
    return touched
