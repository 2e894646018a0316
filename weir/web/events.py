"""Events for the UI: the feed of recent reconciliations (Events about Flux objects, newest
first) and the Events of one object, read from the UI's Event informer."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from weir.actions.events import is_flux
from weir.web.cache import ViewCache, event_row

if TYPE_CHECKING:
    from weir.web.access import Scope

Row = dict[str, Any]


def _newest_first(rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (r["time"] or "", r["seq"]), reverse=True)


def _matcher(patterns: Sequence[str], *, exact: bool = False) -> Any:
    """Names: a substring (``exact``: the whole value), or wildcards ``*`` ``?``; ``!`` in front
    excludes (case-insensitive)."""
    include = [p.lower() for p in patterns if p and not p.startswith("!")]
    exclude = [p[1:].lower() for p in patterns if p.startswith("!") and len(p) > 1]

    def one(pattern: str, value: str) -> bool:
        if exact or any(c in pattern for c in "*?"):
            return fnmatch.fnmatchcase(value, pattern)
        return pattern in value

    def matches(value: str) -> bool:
        v = value.lower()
        if any(one(p, v) for p in exclude):
            return False
        return not include or any(one(p, v) for p in include)

    return matches


def feed(
    cache: ViewCache,
    *,
    namespace: str | None = None,
    namespaces: Sequence[str] = (),
    kinds: Sequence[str] = (),
    names: Sequence[str] = (),
    severity: str | None = None,
    reasons: Sequence[str] = (),
    limit: int = 50,
    scope: Scope | None = None,
) -> list[Row]:
    """The latest Events about Flux objects (``Ready`` changes, applied revisions, errors,
    who did what in the UI), filtered by namespace (exact or wildcards), kind, object name
    (substring, wildcards, ``!`` excludes), severity (``Normal``/``Warning``) and reason, and
    by what the caller may see."""
    wanted_ns = [*namespaces, *([namespace] if namespace else [])]
    ns_ok = _matcher(wanted_ns, exact=True) if wanted_ns else None
    name_ok = _matcher(names) if names else None
    kind_set = set(kinds)
    reason_set = set(reasons)
    events: Iterable[Any] = cache.all_events()
    if scope is not None:
        events = scope.events(events)
    found = []
    for event in events:
        if not is_flux(event):
            continue
        inv = event.get("involvedObject") or {}
        ns = str(inv.get("namespace") or "")
        if ns_ok is not None and not ns_ok(ns):
            continue
        if kind_set and inv.get("kind") not in kind_set:
            continue
        if name_ok is not None and not name_ok(str(inv.get("name", ""))):
            continue
        if severity and event.get("type") != severity:
            continue
        if reason_set and event.get("reason") not in reason_set:
            continue
        found.append(event_row(event))
    return _newest_first(found)[:limit]


def recent(cache: ViewCache, *, limit: int = 40, scope: Scope | None = None) -> list[Row]:
    """The newest Events about Flux objects the scope sees (the dashboard's feed), from the
    cache's record of recent ones: no scan of every Event."""
    out: list[Row] = []
    seen: set[str] = set()
    for row in reversed(cache.recent_events):
        uid = str(row["uid"])
        if uid in seen:
            continue
        seen.add(uid)
        if scope is not None and not scope.filtered_event(row):
            continue
        out.append(row)
    return _newest_first(out)[:limit]


def object_events(cache: ViewCache, key: str, limit: int = 200) -> list[Row]:
    """The Events about one object (``Kind/ns/name``), newest first."""
    return _newest_first(event_row(e) for e in cache.events_of(key))[:limit]


def warnings_count(events: Iterable[Mapping[str, Any]]) -> int:
    return sum(1 for e in events if e.get("type") == "Warning")
