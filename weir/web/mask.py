"""What is removed or masked before an object leaves the server: ``managedFields``, the
``last-applied-configuration`` annotation (it may hold a Secret's data), and the values of
Secrets (``data``, ``stringData``), which are replaced by ``****``."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from weir.types import Obj

MASK = "****"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def mask_secret(obj: Mapping[str, Any]) -> Obj:
    """A copy of a Secret with every value of ``data`` and ``stringData`` masked."""
    out = dict(obj)
    for field in ("data", "stringData"):
        values = obj.get(field)
        if isinstance(values, Mapping):
            out[field] = dict.fromkeys(values, MASK)
    return out


def sanitize(obj: Mapping[str, Any]) -> Obj:
    """A deep copy fit for the API's output (see the module docstring)."""
    out: Obj = copy.deepcopy(dict(obj))
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict) and LAST_APPLIED in annotations:
            meta["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
    if out.get("kind") == "Secret" and out.get("apiVersion") == "v1":
        out = mask_secret(out)
    if out.get("kind") == "List" and isinstance(out.get("items"), list):
        out["items"] = [sanitize(i) for i in out["items"] if isinstance(i, Mapping)]
    return out
