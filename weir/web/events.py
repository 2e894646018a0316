"""Events for the UI: the feed of recent reconciliations (Events about Flux objects, newest
first) and the Events of one object, read from the UI's Event informer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from weir.actions.events import is_flux
from weir.web.cache import ViewCache, event_row

Row = dict[str, Any]


def _newest_first(rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (r["time"] or "", r["seq"]), reverse=True)


def feed(cache: ViewCache, *, namespace: str | None = None, limit: int = 50) -> list[Row]:
    """The latest Events about Flux objects (``Ready`` changes, applied revisions, errors)."""
    found = []
    for event in cache.all_events():
        if not is_flux(event):
            continue
        if namespace and (event.get("involvedObject") or {}).get("namespace") != namespace:
            continue
        found.append(event_row(event))
    return _newest_first(found)[:limit]


def object_events(cache: ViewCache, key: str, limit: int = 200) -> list[Row]:
    """The Events about one object (``Kind/ns/name``), newest first."""
    return _newest_first(event_row(e) for e in cache.events_of(key))[:limit]


def warnings_count(events: Iterable[Mapping[str, Any]]) -> int:
    return sum(1 for e in events if e.get("type") == "Warning")
