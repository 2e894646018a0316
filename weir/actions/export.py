"""Clean manifests of live objects, for re-applying them elsewhere (``weir export``).

Like ``flux export``, an exported object keeps ``apiVersion``, ``kind``, ``spec`` and, of its
metadata, only ``name``, ``namespace``, ``labels`` and ``annotations``: ``status``,
``managedFields``, ``uid``, ``resourceVersion``, ``generation``, ``creationTimestamp``,
finalizers and owner references go, and so do the ``reconcile.fluxcd.io/*`` annotations (one-off
requests) and ``kubectl.kubernetes.io/last-applied-configuration``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from weir.types import Obj

KEPT_METADATA = ("name", "namespace", "labels", "annotations")
DROPPED_ANNOTATION_PREFIXES = ("reconcile.fluxcd.io/",)
DROPPED_ANNOTATIONS = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})


def _keep_annotation(key: str) -> bool:
    return key not in DROPPED_ANNOTATIONS and not key.startswith(DROPPED_ANNOTATION_PREFIXES)


def clean(obj: Mapping[str, Any]) -> Obj:
    """A copy of ``obj`` fit for ``kubectl apply``: see the module docstring."""
    meta = obj.get("metadata") or {}
    out_meta: Obj = {}
    for key in KEPT_METADATA:
        value = meta.get(key)
        if key == "annotations" and isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if _keep_annotation(str(k))}
        if value:
            out_meta[key] = value
    out: Obj = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": out_meta}
    for key, value in obj.items():
        if key not in ("apiVersion", "kind", "metadata", "status"):
            out[key] = value
    return out


def to_yaml(objs: Iterable[Mapping[str, Any]]) -> str:
    """Multi-document YAML, each document starting with ``---`` (as ``flux export`` prints)."""
    return "".join(
        "---\n" + yaml.safe_dump(dict(o), sort_keys=False, default_flow_style=False) for o in objs
    )
