"""The Helm values of a HelmRelease as the UI shows them: the inline ``spec.values``, the
``valuesFrom`` references, and the values composed as helm-controller composes them.

Values from Secrets are never read: the composition leaves those references out and says so,
so secret values cannot leak through the UI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.errors import WeirError
from weir.helmengine.values import ValuesRef, resolve_values
from weir.kube import apply
from weir.kube.errors import NotFoundError
from weir.kube.resources import CONFIG_MAPS
from weir.types import Obj
from weir.web.yamltext import to_yaml


def _ref(raw: Mapping[str, Any]) -> ValuesRef:
    return ValuesRef(
        kind=str(raw.get("kind", "")),
        name=str(raw.get("name", "")),
        values_key=raw.get("valuesKey"),
        target_path=raw.get("targetPath"),
        optional=bool(raw.get("optional")),
        literal=bool(raw.get("literal")),
    )


async def helm_values(api: ApiClient, obj: Mapping[str, Any]) -> Obj:
    """``{inline, valuesFrom, composed, composedYaml, hiddenSecrets, error}``."""
    spec = obj.get("spec") or {}
    namespace = str((obj.get("metadata") or {}).get("namespace", ""))
    inline = spec.get("values") or {}
    raw_refs = [r for r in spec.get("valuesFrom") or [] if isinstance(r, Mapping)]
    refs = [_ref(r) for r in raw_refs if r.get("kind") == "ConfigMap"]
    hidden = sum(1 for r in raw_refs if r.get("kind") == "Secret")

    async def get(kind: str, name: str) -> Mapping[str, Any] | None:
        if kind != "ConfigMap":
            return None
        try:
            return await apply.get(api, CONFIG_MAPS, namespace, name)
        except NotFoundError:
            return None

    composed: Obj | None = None
    error = None
    try:
        composed = await resolve_values(get, refs, inline, namespace=namespace)
    except WeirError as e:
        error = str(e)
    return {
        "inline": inline,
        "inlineYaml": to_yaml(inline),
        "valuesFrom": [dict(r) for r in raw_refs],
        "composed": composed,
        "composedYaml": to_yaml(composed),
        "hiddenSecrets": hidden,
        "error": error,
    }
