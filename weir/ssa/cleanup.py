"""Taking over fields from ``kubectl`` (Flux's apply "cleanup"), as a JSON patch.

An object first created with ``kubectl apply``/``kubectl edit`` has fields owned by managers
such as ``kubectl-client-side-apply``. Server-side apply only removes fields that *its* manager
owns, so a field deleted from Git but owned by kubectl would stay forever. Flux therefore moves
the fields of these managers to ``kustomize-controller`` (as an ``Apply`` entry) and drops
kubectl's ``last-applied-configuration`` annotation before applying, unless the object has
``kustomize.toolkit.fluxcd.io/ssa: Merge``.

:func:`cleanup_patch` computes that JSON patch (None when there is nothing to clean).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

STALE_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "kustomize.toolkit.fluxcd.io/checksum",
    "fluxcd.io/sync-checksum",
)
STALE_LABELS = ("fluxcd.io/sync-gc-mark",)


@dataclass(frozen=True)
class TakeOver:
    """Managed-fields entries to take over: manager name prefix and operation."""

    prefix: str
    operation: str


def default_takeovers(field_manager: str) -> tuple[TakeOver, ...]:
    """Flux's list: kubectl (Apply and Update), before-first-apply, our own Update entries."""
    return (
        TakeOver("kubectl", "Apply"),
        TakeOver("kubectl", "Update"),
        TakeOver("before-first-apply", "Update"),
        TakeOver(field_manager, "Update"),
    )


def _union(a: Any, b: Any) -> Any:
    """The union of two ``fieldsV1`` trees."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        return a if isinstance(a, dict) else b
    out = dict(a)
    for key, value in b.items():
        out[key] = _union(out[key], value) if key in out else value
    return out


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _takes_over(entry: Mapping[str, Any], takeovers: Sequence[TakeOver], manager: str) -> bool:
    name = str(entry.get("manager") or "")
    op = entry.get("operation")
    if name == manager and op == "Apply":
        return False
    return any(name.startswith(t.prefix) and op == t.operation for t in takeovers)


def managed_fields_after(
    entries: Sequence[Mapping[str, Any]], manager: str, takeovers: Sequence[TakeOver]
) -> list[dict[str, Any]] | None:
    """The managedFields with the taken-over entries folded into ``manager``'s Apply entries
    (one per apiVersion); None when no entry is taken over."""
    if not any(_takes_over(e, takeovers, manager) for e in entries):
        return None
    kept: list[dict[str, Any]] = []
    ours: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if not (
            _takes_over(entry, takeovers, manager)
            or (entry.get("manager") == manager and entry.get("operation") == "Apply")
        ):
            kept.append(dict(entry))
            continue
        version = str(entry.get("apiVersion") or "")
        target = ours.setdefault(
            version,
            {
                "manager": manager,
                "operation": "Apply",
                "apiVersion": version,
                "fieldsType": "FieldsV1",
                "fieldsV1": {},
            },
        )
        if entry.get("time"):
            target["time"] = entry["time"]
        target["fieldsV1"] = _union(target["fieldsV1"], entry.get("fieldsV1") or {})
    return [*kept, *ours.values()]


def cleanup_patch(
    live: Mapping[str, Any], manager: str, takeovers: Sequence[TakeOver] | None = None
) -> list[dict[str, Any]] | None:
    """The JSON patch that cleans ``live`` (see the module docstring), or None."""
    meta = live.get("metadata") or {}
    ops: list[dict[str, Any]] = []
    fields = managed_fields_after(
        meta.get("managedFields") or [], manager, takeovers or default_takeovers(manager)
    )
    if fields is not None:
        ops.append({"op": "replace", "path": "/metadata/managedFields", "value": fields})
    for key in STALE_ANNOTATIONS:
        if key in (meta.get("annotations") or {}):
            ops.append({"op": "remove", "path": _pointer("metadata", "annotations", key)})
    for key in STALE_LABELS:
        if key in (meta.get("labels") or {}):
            ops.append({"op": "remove", "path": _pointer("metadata", "labels", key)})
    return ops or None
