"""Kubernetes Events about Flux objects and the objects they manage (``weir events``).

Without a target, an Event is shown when it involves a Flux kind (any ``*.toolkit.fluxcd.io``
group) or an object listed in the inventory of a Kustomization or HelmRelease. With a target
(``--for``), only that object's Events are shown, plus those of its sources when it is a Flux
object.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.actions.inventory import entries
from weir.actions.objects import (
    APPLIER_KINDS,
    FLUX_GROUP_SUFFIX,
    find_object,
    kind_of,
    list_objects,
    meta,
    parse_time,
)
from weir.actions.reconcile import source_chain
from weir.api import KINDS
from weir.kube.errors import ApiError, ForbiddenError
from weir.kube.informer import list_all, strip_managed_fields
from weir.kube.resources import ResourceRef
from weir.types import Obj

Key = tuple[str, str, str]
"""(kind, namespace, name) of an involved object."""

EVENTS = ResourceRef("", "v1", "events", True, "Event")


def involved(event: Mapping[str, Any]) -> Key:
    inv = event.get("involvedObject") or event.get("regarding") or {}
    return str(inv.get("kind", "")), str(inv.get("namespace") or ""), str(inv.get("name", ""))


def is_flux(event: Mapping[str, Any]) -> bool:
    inv = event.get("involvedObject") or {}
    group = str(inv.get("apiVersion", "")).rpartition("/")[0]
    return group.endswith(FLUX_GROUP_SUFFIX)


def event_time(event: Mapping[str, Any]) -> datetime | None:
    """When the Event last happened: lastTimestamp, eventTime, the series' last observation,
    firstTimestamp, or its creation time, whichever is set first."""
    series = event.get("series") or {}
    for value in (
        event.get("lastTimestamp"),
        series.get("lastObservedTime"),
        event.get("eventTime"),
        event.get("firstTimestamp"),
        meta(event).get("creationTimestamp"),
    ):
        found = parse_time(value)
        if found is not None:
            return found
    return None


def sort_events(events: Iterable[Obj]) -> list[Obj]:
    """Oldest first (Events without any time first)."""
    return sorted(events, key=lambda e: t.timestamp() if (t := event_time(e)) else 0.0)


@dataclass(frozen=True)
class EventFilter:
    """Which Events to show: those of ``objects`` when given, else Flux ones and those of
    ``managed`` objects."""

    objects: frozenset[Key] | None = None
    managed: frozenset[Key] = frozenset()

    def matches(self, event: Mapping[str, Any]) -> bool:
        key = involved(event)
        if self.objects is not None:
            return key in self.objects
        return is_flux(event) or key in self.managed

    def namespaces(self) -> set[str] | None:
        """The namespaces to list Events in for ``objects`` (None: not restricted)."""
        if self.objects is None:
            return None
        return {ns for _, ns, _ in self.objects}


async def managed_objects(api: ApiClient, namespace: str | None) -> frozenset[Key]:
    """Objects in the inventories of Kustomizations and HelmReleases. They are looked for in
    all namespaces (an applier may deploy into any), or only in ``namespace`` when listing
    cluster-wide is forbidden."""
    found: set[Key] = set()
    for info in APPLIER_KINDS:
        try:
            objs = await list_objects(api, info, None)
        except ForbiddenError:
            objs = await list_objects(api, info, namespace) if namespace else []
        except ApiError:
            continue
        for obj in objs:
            for ref in entries(obj):
                if namespace is None or ref.namespace == namespace:
                    found.add((ref.kind, ref.namespace, ref.name))
    return frozenset(found)


async def filter_for(
    api: ApiClient, namespace: str | None, target: tuple[ResourceRef, str, str] | None = None
) -> EventFilter:
    """The filter for all Flux-related Events in ``namespace`` (None: everywhere), or for one
    object ``(resource, namespace, name)`` and its sources."""
    if target is None:
        return EventFilter(managed=await managed_objects(api, namespace))
    resource, ns, name = target
    keys: set[Key] = {(resource.kind, ns if resource.namespaced else "", name)}
    info = KINDS.get(resource.kind)
    if info is not None and resource.group == info.group:
        obj = await find_object(api, info, ns, name)
        if obj is not None and kind_of(obj) is not None:
            keys.update((k.info.kind, k.namespace, k.name) for k in source_chain(info, obj))
    return EventFilter(objects=frozenset(keys))


async def list_events(api: ApiClient, namespace: str | None, flt: EventFilter) -> list[Obj]:
    """The matching Events, oldest first."""
    wanted = flt.namespaces()
    scopes: list[str | None] = [*sorted(wanted)] if wanted is not None else [namespace]
    lists = await asyncio.gather(
        *(list_all(api, EVENTS, namespace=scope or None) for scope in scopes)
    )
    return sort_events(
        strip_managed_fields(e) for items, _ in lists for e in items if flt.matches(e)
    )


@dataclass(frozen=True)
class EventRow:
    """What ``weir events`` shows of an Event."""

    time: datetime | None
    namespace: str
    type: str
    reason: str
    object: str
    message: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "lastSeen": self.time.isoformat() if self.time else None,
            "namespace": self.namespace,
            "type": self.type,
            "reason": self.reason,
            "object": self.object,
            "message": self.message,
            "count": self.count,
        }


def row(event: Mapping[str, Any]) -> EventRow:
    kind, _, name = involved(event)
    count = event.get("count") or (event.get("series") or {}).get("count") or 1
    return EventRow(
        time=event_time(event),
        namespace=str(meta(event).get("namespace", "")),
        type=str(event.get("type", "")),
        reason=str(event.get("reason", "")),
        object=f"{kind}/{name}",
        message=str(event.get("message") or event.get("note") or "").strip(),
        count=int(count),
    )
