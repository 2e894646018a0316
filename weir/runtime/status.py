"""The one way a controller writes status: diff what the run produced against what it read and
send only the difference, as a JSON merge patch (RFC 7386) of the ``status`` subresource.

No difference, no request: a run that changes nothing costs no write, and the watch event our
own write causes is filtered out by :mod:`weir.runtime.predicates`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from weir.types import Obj


class StatusWriter(Protocol):
    """Sends a merge patch to an object's ``status`` subresource."""

    async def patch_status(self, obj: Obj, patch: dict[str, Any]) -> Obj | None: ...


def merge_patch(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON merge patch that turns ``before`` into ``after`` (empty when equal).

    Maps are diffed recursively; lists and scalars are replaced whole; removed keys become null.
    """
    patch: dict[str, Any] = {}
    for key, new in after.items():
        old = before.get(key, _MISSING)
        if old == new:
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping) and new:
            patch[key] = merge_patch(old, new)
        else:
            patch[key] = new
    for key in before:
        if key not in after:
            patch[key] = None
    return patch


def status_patch(before: Obj, after: Obj) -> dict[str, Any]:
    """The merge patch for ``status`` between two versions of one object (empty when equal)."""
    return merge_patch(before.get("status") or {}, after.get("status") or {})


class _Missing:
    pass


_MISSING: Any = _Missing()
