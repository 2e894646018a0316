"""Keeping secret values out of tool results.

- Secrets: every value of ``data`` and ``stringData`` becomes ``***`` (the keys stay, so a
  model can tell which keys exist); the last-applied annotation, which repeats the values, is
  dropped.
- Values that came from Secrets elsewhere (Helm values through ``valuesFrom``, post-build
  variables substituted into built manifests) are masked by the tools that compose them
  (:func:`mask_leaves`, :func:`scrub`).
- Anything logged goes through the runtime's redaction (``user:password@`` in URLs, secret-looking
  keys).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from weir.mcp.output import LAST_APPLIED
from weir.types import Obj

MASK = "***"
MIN_SCRUB_LENGTH = 4
"""Shorter secret values are not scrubbed from free text (they would hide ordinary words)."""


def is_secret(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "Secret" and obj.get("apiVersion") in ("v1", None)


def mask_secret(obj: Mapping[str, Any]) -> Obj:
    """A copy of a Secret with its values replaced by ``***``."""
    out = dict(obj)
    for key in ("data", "stringData"):
        values = out.get(key)
        if isinstance(values, Mapping):
            out[key] = dict.fromkeys(values, MASK)
    meta = out.get("metadata")
    if isinstance(meta, Mapping):
        annotations = meta.get("annotations")
        if isinstance(annotations, Mapping) and LAST_APPLIED in annotations:
            meta = dict(meta)
            meta["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
            out["metadata"] = meta
    return out


def mask_object(obj: Mapping[str, Any], enabled: bool = True) -> Obj:
    """``obj`` with secret values masked when ``enabled`` (Secrets, and the items of Lists)."""
    if not enabled:
        return dict(obj)
    if is_secret(obj):
        return mask_secret(obj)
    items = obj.get("items")
    if str(obj.get("kind", "")).endswith("List") and isinstance(items, list):
        return {**obj, "items": [mask_object(i) if isinstance(i, Mapping) else i for i in items]}
    return dict(obj)


def mask_leaves(value: Any) -> Any:
    """Every scalar of a values tree replaced by ``***`` (maps and lists keep their shape)."""
    if isinstance(value, Mapping):
        return {k: mask_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_leaves(v) for v in value]
    return MASK


def has_mask(value: Any) -> bool:
    """Whether a (masked) values tree holds a masked leaf anywhere."""
    if isinstance(value, Mapping):
        return any(has_mask(v) for v in value.values())
    if isinstance(value, list):
        return any(has_mask(v) for v in value)
    return bool(value == MASK)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret value (longest first) replaced by
    ``***``; values shorter than :data:`MIN_SCRUB_LENGTH` are left alone."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_SCRUB_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
