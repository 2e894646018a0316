"""The informer's in-memory cache: objects by key with secondary indexes, and the event
computation for watch events and relists. Pure logic, no I/O.

Keys are ``namespace/name``, or ``name`` for cluster-scoped objects. Stored objects are shared,
not copied: treat everything returned as read-only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping

from weir.log import kv
from weir.types import Obj

log = logging.getLogger(__name__)

Indexer = Callable[[Obj], list[str]]
ObjList = list[Obj]
Event = tuple[str, Obj]
EventList = list[Event]

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"
NAMESPACE_INDEX = "namespace"


def object_key(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta['name']}" if ns else str(meta["name"])


def make_key(namespace: str | None, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


def resource_version(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion", ""))


def index_by_namespace(obj: Obj) -> list[str]:
    return [(obj.get("metadata") or {}).get("namespace") or ""]


class Store:
    """Objects by key plus ``index name -> value -> keys`` maps, kept in step on every change."""

    def __init__(self, indexers: Mapping[str, Indexer] | None = None) -> None:
        self._indexers: dict[str, Indexer] = {NAMESPACE_INDEX: index_by_namespace}
        self._indexers.update(indexers or {})
        self._items: dict[str, Obj] = {}
        self._indices: dict[str, dict[str, set[str]]] = {n: {} for n in self._indexers}
        self._values: dict[str, dict[str, list[str]]] = {}  # key -> index name -> values

    def __len__(self) -> int:
        return len(self._items)

    def add_indexer(self, name: str, indexer: Indexer) -> None:
        """Add an index (idempotent by name) and index the objects already stored."""
        if name in self._indexers:
            return
        self._indexers[name] = indexer
        self._indices[name] = {}
        for key, obj in self._items.items():
            self._put(key, obj)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def get(self, key: str) -> Obj | None:
        return self._items.get(key)

    def items(self) -> Iterable[Obj]:
        return self._items.values()

    def list(self, namespace: str | None = None) -> ObjList:
        if namespace is None:
            return list(self._items.values())
        return self.by_index(NAMESPACE_INDEX, namespace)

    def by_index(self, index: str, value: str) -> ObjList:
        try:
            keys = self._indices[index].get(value, ())
        except KeyError:
            raise KeyError(
                f"no index {index!r}: pass an indexer for it when creating the informer"
            ) from None
        return [self._items[k] for k in keys]

    # ----------------------------------------------------------------------------- changes
    def apply_event(self, event_type: str, obj: Obj) -> Event | None:
        """Apply one watch event; returns the event handlers should see, or None when it changes
        nothing (a replay of a version already stored, or a delete of an unknown object)."""
        key = object_key(obj)
        old = self._items.get(key)
        if event_type == DELETED:
            if old is None:
                return None
            self._remove(key)
            return DELETED, obj
        if old is not None and resource_version(old) == resource_version(obj):
            return None
        self._put(key, obj)
        return (MODIFIED if old is not None else ADDED), obj

    def replace(self, objs: Iterable[Obj]) -> EventList:
        """Replace the whole content with a fresh list; returns the synthetic events that turn the
        old content into the new: ADDED for new keys, MODIFIED for a changed resourceVersion,
        DELETED (with the last known object) for keys that vanished."""
        events: list[Event] = []
        seen: set[str] = set()
        for obj in objs:
            key = object_key(obj)
            seen.add(key)
            old = self._items.get(key)
            if old is not None and resource_version(old) == resource_version(obj):
                continue
            self._put(key, obj)
            events.append(((MODIFIED if old is not None else ADDED), obj))
        for key in [k for k in self._items if k not in seen]:
            events.append((DELETED, self._items[key]))
            self._remove(key)
        return events

    def _put(self, key: str, obj: Obj) -> None:
        if key in self._items:
            self._unindex(key)
        self._items[key] = obj
        values: dict[str, list[str]] = {}
        for name, indexer in self._indexers.items():
            try:
                vals = indexer(obj)
            except Exception:  # a buggy indexer must not corrupt the cache
                log.exception("indexer failed", extra=kv(index=name, key=key))
                vals = []
            if vals:
                values[name] = vals
                index = self._indices[name]
                for v in vals:
                    index.setdefault(v, set()).add(key)
        self._values[key] = values

    def _remove(self, key: str) -> None:
        self._unindex(key)
        del self._items[key]

    def _unindex(self, key: str) -> None:
        for name, vals in self._values.pop(key, {}).items():
            index = self._indices[name]
            for v in vals:
                keys = index.get(v)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[v]
