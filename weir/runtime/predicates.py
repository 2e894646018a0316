"""Which informer events deserve a reconcile.

An object is queued when it is new to the controller, when its ``metadata.generation`` (its
spec) changes, when its annotations change (``reconcile.fluxcd.io/requestedAt`` and friends), or
when it starts terminating. Anything else, in particular status updates (ours) and relists that
repeat what we have seen, is skipped. Deletions always go through, so the controller can forget
the object.
"""

from __future__ import annotations

from weir.types import Obj

Fingerprint = tuple[object, tuple[tuple[str, str], ...], bool]


def fingerprint(obj: Obj) -> Fingerprint:
    """What of an object, when changed, asks for a reconcile."""
    meta = obj.get("metadata") or {}
    annotations = tuple(sorted((meta.get("annotations") or {}).items()))
    return meta.get("generation"), annotations, bool(meta.get("deletionTimestamp"))


class ChangeFilter:
    """Remembers the last fingerprint of each key and says whether an event changes it."""

    def __init__(self) -> None:
        self._seen: dict[str, Fingerprint] = {}

    def should_enqueue(self, event_type: str, key: str, obj: Obj) -> bool:
        if event_type == "DELETED":
            self._seen.pop(key, None)
            return True
        new = fingerprint(obj)
        if self._seen.get(key) == new:
            return False
        self._seen[key] = new
        return True

    def forget(self, key: str) -> None:
        self._seen.pop(key, None)
