"""Every read of the web UI as the signed-in user sees it: the shared caches, filtered by what
that user may list (:mod:`weir.auth.rbac`), so that a thousand users cost no more watches than
one.

A :class:`Scope` is made per request from the caller's :class:`~weir.auth.rbac.UserAccess`
(reviewed for the namespaces the caches hold). Without sign-in (``none``) the scope is
unfiltered: the UI shows what weir's own identity reads, as before.

An object is visible when the user may ``list`` its kind in its namespace (a list returns
whole objects, so ``get`` adds nothing); Events need ``list`` on events in their namespace.
Asking for something outside the scope by name (an object's page, an exact namespace filter)
is a 403 in the API server's words, never an empty answer.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from weir.auth.rbac import AccessReviewer, Resource, UserAccess
from weir.auth.signin import Caller
from weir.auth.users import Identity
from weir.errors import WeirError
from weir.web.cache import Row, ViewCache
from weir.web.kinds import EVENTS, FLUX_KINDS, PODS, WORKLOADS

EVENT_RESOURCE = Resource(EVENTS.group, EVENTS.plural)
POD_RESOURCE = Resource(PODS.group, PODS.plural)
LOG_RESOURCE = Resource(PODS.group, "pods/log")
KIND_RESOURCES: dict[str, Resource] = {
    **{k.kind: Resource(k.resource.group, k.resource.plural) for k in FLUX_KINDS},
    **{kind: Resource(ref.group, ref.plural) for kind, ref in WORKLOADS.items()},
    "Event": EVENT_RESOURCE,
    "Pod": POD_RESOURCE,
}
READ_RESOURCES: tuple[Resource, ...] = tuple(sorted(set(KIND_RESOURCES.values())))
"""What the views read, and therefore what every user's access is reviewed for."""


class ForbiddenReadError(WeirError):
    """A read outside the caller's scope (HTTP 403)."""


def resource_of(kind: str) -> Resource | None:
    return KIND_RESOURCES.get(kind)


@dataclass(frozen=True)
class Scope:
    """What one request may see (``access`` None: everything)."""

    access: UserAccess | None = None

    @property
    def filtered(self) -> bool:
        return self.access is not None

    @property
    def user(self) -> str:
        return self.access.identity.user if self.access is not None else ""

    def allows(self, kind: str, namespace: str) -> bool:
        if self.access is None:
            return True
        resource = KIND_RESOURCES.get(kind)
        return resource is not None and self.access.sees(resource, namespace)

    def allows_key(self, key: str) -> bool:
        kind, _, rest = key.partition("/")
        return self.allows(kind, rest.partition("/")[0])

    def rows(self, rows: Iterable[Row]) -> Iterator[Row]:
        if self.access is None:
            yield from rows
            return
        for row in rows:
            if self.allows(row["kind"], row["namespace"]):
                yield row

    def events(self, events: Iterable[Any]) -> Iterator[Any]:
        """Events (rows or objects) in namespaces where the user may list events."""
        if self.access is None:
            yield from events
            return
        for event in events:
            ns = _event_namespace(event)
            if self.access.sees(EVENT_RESOURCE, ns):
                yield event

    def filtered_event(self, row: Row) -> bool:
        """Whether the scope sees an Event row."""
        return self.access is None or self.access.sees(EVENT_RESOURCE, _event_namespace(row))

    def namespaces(self, namespaces: Iterable[str]) -> list[str]:
        if self.access is None:
            return sorted(set(namespaces))
        return self.access.visible_namespaces(namespaces)

    def require(self, kind: str, namespace: str, verb: str = "list") -> None:
        """Raise :class:`ForbiddenReadError` unless the user may read ``kind`` there."""
        if self.allows(kind, namespace):
            return
        resource = KIND_RESOURCES.get(kind)
        what = str(resource) if resource is not None else kind
        raise ForbiddenReadError(
            f'User "{self.user}" cannot {verb} resource "{what}" in the namespace "{namespace}"'
        )

    def require_namespaces(self, namespaces: Iterable[str], kinds: Iterable[str]) -> None:
        """A filter naming exact namespaces must name visible ones (wildcards just filter)."""
        if self.access is None:
            return
        kinds = list(kinds)
        for ns in namespaces:
            if ns.startswith("!") or any(c in ns for c in "*?"):
                continue
            if not any(self.allows(k, ns) for k in kinds):
                self.require(kinds[0] if kinds else "Event", ns)

    @property
    def limited(self) -> bool:
        """True when the user can list nothing anywhere (the UI's "limited access" notice)."""
        if self.access is None:
            return False
        if self.access.cluster:
            return False
        return not any(
            ns.allows("list", r) or ns.reviewed.get(("list", r), False)
            for ns in self.access.namespaces.values()
            for r in self.access.resources
        )


def _event_namespace(event: Any) -> str:
    if "object" in event and isinstance(event.get("object"), str):  # an event row
        return str(event["object"]).split("/", 2)[1] if event["object"].count("/") >= 2 else ""
    meta = event.get("metadata") or {}
    return str(meta.get("namespace") or (event.get("involvedObject") or {}).get("namespace", ""))


def identity_of(request: Request) -> Identity | None:
    caller = getattr(request.state, "caller", None)
    return caller.identity if isinstance(caller, Caller) else None


async def scope_of(request: Request, reviewer: AccessReviewer | None, cache: ViewCache) -> Scope:
    """The scope of a request (see the module docstring)."""
    identity = identity_of(request)
    if reviewer is None or identity is None:
        return Scope()
    access = await reviewer.scope(identity, cache.namespaces())
    return Scope(access)


class FilteredRows:
    """Sorted rows per user scope, kept until the cache or the user's access changes (an LRU
    of ``capacity`` lists): a user paging through 10,000 rows filters them once."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._lists: OrderedDict[tuple[Any, ...], tuple[tuple[int, int, float], list[Row]]] = (
            OrderedDict()
        )

    def get(
        self,
        scope: Scope,
        *,
        cache: ViewCache,
        group: str,
        kinds: tuple[str, ...],
        sort_key: Callable[[Row], Any],
        sort: str,
    ) -> list[Row]:
        ordered = cache.sorted_rows(group, kinds, sort_key, sort)
        access = scope.access
        if access is None or access.everywhere:
            return ordered
        key = (access.identity, group, kinds, sort)
        stamp = (cache.version, access.version, access.made)
        hit = self._lists.get(key)
        if hit is not None and hit[0] == stamp:
            self._lists.move_to_end(key)
            return hit[1]
        rows = list(scope.rows(ordered))
        self._lists[key] = (stamp, rows)
        self._lists.move_to_end(key)
        while len(self._lists) > self.capacity:
            self._lists.popitem(last=False)
        return rows
