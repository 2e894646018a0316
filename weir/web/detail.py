"""The detail view of a Flux object: row, object (sanitised) and its YAML, conditions,
inventory (each entry linked when the UI knows it), history, source and artifact,
dependencies both ways, the chain of managers, Helm values, and the actions it supports."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.actions.inventory import entries
from weir.actions.masking import sanitize
from weir.api import KindInfo
from weir.types import Obj
from weir.web import status as rows
from weir.web.cache import ViewCache
from weir.web.history import timeline
from weir.web.kinds import APPLIER_KINDS, SOURCE_KINDS, WORKLOADS
from weir.web.values import helm_values
from weir.web.yamltext import to_yaml

Row = dict[str, Any]
MAX_MANAGERS = 32
Visible = Callable[[str, str], bool]
"""Whether the caller may see objects of a kind in a namespace."""


def _everything(kind: str, namespace: str) -> bool:
    return True


def suspendable(info: KindInfo) -> bool:
    """Whether the kind has ``spec.suspend``."""
    spec = info.model.model_fields.get("spec")
    fields = getattr(getattr(spec, "annotation", None), "model_fields", {})
    return "suspend" in fields


def actions_of(info: KindInfo, obj: Mapping[str, Any]) -> list[str]:
    """The UI actions that apply to the object."""
    out = []
    suspended = bool((obj.get("spec") or {}).get("suspend"))
    if info.has_status and not suspended:
        out.append("reconcile")
        if info.kind in APPLIER_KINDS or info.kind == "HelmChart":
            out.append("reconcile-source")
    if suspendable(info):
        out.append("resume" if suspended else "suspend")
    artifact = (obj.get("status") or {}).get("artifact") or {}
    if info.kind in SOURCE_KINDS and artifact.get("url"):
        out.append("download")
    return out


def _link(
    cache: ViewCache, kind: str, namespace: str, name: str, visible: Visible = _everything
) -> Row:
    key = rows.key_of(kind, namespace, name)
    row = cache.row(kind, namespace, name) if visible(kind, namespace) else None
    if kind in WORKLOADS:
        view = "workload"
    elif cache.flux.get(kind) is not None:
        view = "resource"
    else:
        view = None
    return {
        "key": key,
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "view": view
        if (row is not None or (view == "resource" and visible(kind, namespace)))
        else None,
        "status": row["status"] if row is not None else None,
        "message": row["message"] if row is not None else None,
    }


def _key_link(cache: ViewCache, key: str | None, visible: Visible = _everything) -> Row | None:
    if not key:
        return None
    kind, namespace, name = key.split("/", 2)
    return _link(cache, kind, namespace, name, visible)


def inventory(
    cache: ViewCache, obj: Mapping[str, Any], visible: Visible = _everything
) -> list[Row]:
    out = []
    for ref in entries(obj):
        link = _link(cache, ref.kind, ref.namespace, ref.name, visible)
        link["apiVersion"] = ref.api_version
        out.append(link)
    return out


def dependents(cache: ViewCache, kind: str, key: str, visible: Visible = _everything) -> list[Row]:
    """Objects of ``kind`` whose ``spec.dependsOn`` names ``key``."""
    found = (rows.flux_row(o) for o in cache.dependents_of(kind, key))
    return sorted((r for r in found if visible(r["kind"], r["namespace"])), key=lambda r: r["key"])


def managers(cache: ViewCache, obj: Mapping[str, Any], visible: Visible = _everything) -> list[Row]:
    """The Kustomizations/HelmReleases that applied the object, nearest first, up to the
    root."""
    out: list[Row] = []
    meta = obj.get("metadata") or {}
    seen = {
        rows.key_of(str(obj.get("kind")), str(meta.get("namespace", "")), str(meta.get("name")))
    }
    key = rows.manager_key(obj)
    while key and key not in seen and len(out) < MAX_MANAGERS:
        seen.add(key)
        link = _key_link(cache, key, visible)
        assert link is not None
        out.append(link)
        kind, namespace, name = key.split("/", 2)
        if not visible(kind, namespace):
            break  # the caller may not read it, nor what manages it
        parent = cache.get(kind, namespace, name)
        key = rows.manager_key(parent) if parent is not None else None
    return out


async def flux_detail(
    api: ApiClient, cache: ViewCache, info: KindInfo, obj: Obj, visible: Visible = _everything
) -> Obj:
    row = rows.flux_row(obj)
    clean = sanitize(obj)
    st = clean.get("status") or {}
    detail: Obj = {
        "row": row,
        "object": clean,
        "yaml": {
            "object": to_yaml(clean),
            "spec": to_yaml(clean.get("spec")),
            "status": to_yaml(st),
            "metadata": to_yaml(clean.get("metadata")),
        },
        "conditions": st.get("conditions") or [],
        "inventory": inventory(cache, obj, visible),
        "history": st.get("history") or [],
        "timeline": timeline(info.kind, st.get("history") or []),
        "artifact": st.get("artifact"),
        "source": _key_link(cache, row["source"], visible),
        "dependsOn": [_key_link(cache, k, visible) for k in rows.depends_on(obj)],
        "dependents": dependents(cache, info.kind, row["key"], visible),
        "managers": managers(cache, obj, visible),
        "actions": actions_of(info, obj),
        "values": None,
    }
    if info.kind == "HelmRelease":
        detail["values"] = await helm_values(api, obj)
    return detail
