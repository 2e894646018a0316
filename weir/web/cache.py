"""The informers the UI reads, and the rows kept from them.

- Flux kinds: the informers of ``weir run``'s shared pool when it has them (the controllers
  already watch those kinds), otherwise the UI's own, with the same namespace and label
  selector.
- Workloads (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs) and core/v1 Events: the
  UI's own informers, slimmed by a transform (pod templates and annotations dropped), in the
  watched namespace but not restricted by the label selector (what Flux applies does not
  carry the sharding label).

Every change of a Flux object, of a workload that Flux manages (owner labels) and of an Event
about one of them goes into the :class:`~weir.web.changes.ChangeLog`, with the object's row.
The UI's own informers are started without waiting for them, so a kind whose CRD is missing
never holds anything up: it shows as not synced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.actions.events import event_time, is_flux
from weir.actions.health import REQUESTED_AT
from weir.api import KindInfo
from weir.kube.informer import Informer, strip_managed_fields
from weir.kube.resources import ResourceRef
from weir.log import kv
from weir.runtime.informers import InformerPool
from weir.types import Obj
from weir.web import status as rows
from weir.web.changes import ChangeLog
from weir.web.kinds import EVENTS, FLUX_KINDS, WORKLOADS

log = logging.getLogger("weir.web")

Row = dict[str, Any]
INVOLVED_INDEX = "involved"
RECENT_EVENTS = 2000
AUDIT_PREFIX = "event.toolkit.fluxcd.io/"
"""Annotations of the ``WebAction`` audit Events (who did what) that rows keep."""
DEPENDS_INDEX = "weir-web/dependsOn"

_WORKLOAD_META = ("name", "namespace", "uid", "labels", "generation", "creationTimestamp")
_EVENT_FIELDS = (
    "apiVersion",
    "kind",
    "involvedObject",
    "reason",
    "message",
    "type",
    "count",
    "firstTimestamp",
    "lastTimestamp",
    "eventTime",
    "series",
    "source",
    "reportingComponent",
)


def _containers(pod_spec: Any) -> list[Obj]:
    if not isinstance(pod_spec, Mapping):
        return []
    return [
        {"name": c.get("name"), "image": c.get("image")}
        for c in pod_spec.get("containers") or []
        if isinstance(c, Mapping)
    ]


def slim_workload(obj: Obj) -> Obj:
    """A workload with what the UI shows: metadata, replicas, selector, suspend, schedule,
    container images, and the whole status."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    out_spec: Obj = {
        k: spec[k]
        for k in ("replicas", "selector", "suspend", "completions", "parallelism", "schedule")
        if k in spec
    }
    template = spec.get("template") or {}
    if template:
        out_spec["template"] = {"spec": {"containers": _containers(template.get("spec"))}}
    job = (spec.get("jobTemplate") or {}).get("spec") or {}
    if job:
        job_pod = (job.get("template") or {}).get("spec")
        out_spec["jobTemplate"] = {
            "spec": {"template": {"spec": {"containers": _containers(job_pod)}}}
        }
    return {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "metadata": {k: meta[k] for k in (*_WORKLOAD_META, "resourceVersion") if k in meta},
        "spec": out_spec,
        "status": obj.get("status") or {},
    }


def slim_event(obj: Obj) -> Obj:
    """An Event with the fields the UI shows."""
    meta = obj.get("metadata") or {}
    out = {k: obj[k] for k in _EVENT_FIELDS if k in obj}
    out["metadata"] = {
        k: meta[k]
        for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        if k in meta
    }
    annotations = meta.get("annotations") or {}
    kept = {
        k: v
        for k, v in annotations.items()
        if str(k).endswith("/revision") or str(k).startswith(AUDIT_PREFIX)
    }
    if kept:
        out["metadata"]["annotations"] = kept
    return out


def needs_attention(obj: Mapping[str, Any]) -> bool:
    """Whether a controller has something to do about the object that it may not have done:
    a reconcile request not handled, or a generation not observed (never when suspended)."""
    spec = obj.get("spec") or {}
    if spec.get("suspend"):
        return False
    meta = obj.get("metadata") or {}
    st = obj.get("status") or {}
    requested = (meta.get("annotations") or {}).get(REQUESTED_AT)
    if requested and requested != st.get("lastHandledReconcileAt"):
        return True
    generation, observed = meta.get("generation"), st.get("observedGeneration", -1)
    return isinstance(generation, int) and isinstance(observed, int) and observed < generation


def involved_key(event: Mapping[str, Any]) -> str:
    inv = event.get("involvedObject") or event.get("regarding") or {}
    return rows.key_of(
        str(inv.get("kind", "")), str(inv.get("namespace") or ""), str(inv.get("name", ""))
    )


def index_involved(obj: Obj) -> list[str]:
    return [involved_key(obj)]


class ViewCache:
    """What the web UI reads: see the module docstring."""

    def __init__(
        self,
        api: ApiClient,
        changes: ChangeLog,
        *,
        pool: InformerPool | None = None,
        namespace: str | None = None,
        label_selector: str | None = None,
    ) -> None:
        self.api = api
        self.changes = changes
        self.namespace = namespace
        self.label_selector = label_selector
        self._pool = pool
        self._own: list[Informer] = []
        self.flux: dict[str, Informer] = {}
        self.workloads: dict[str, Informer] = {}
        self.events: Informer | None = None
        self._flux_rows: dict[str, dict[str, Row]] = {k.kind: {} for k in FLUX_KINDS}
        self._workload_rows: dict[str, dict[str, Row]] = {k: {} for k in WORKLOADS}
        self.version = 0
        """Bumped at every change of a row (for the sorted-list caches)."""
        self._sorted: dict[tuple[Any, ...], tuple[int, list[Row]]] = {}
        self._namespaces: tuple[int, frozenset[str]] = (-1, frozenset())
        self.counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        """Rows by (kind, namespace), counted by status word (kept up to date by the handlers,
        so the dashboard of any scope is a sum, not a scan)."""
        self.failing: dict[str, Row] = {}
        """Flux rows whose status is ``failed``, by key."""
        self.attention: set[str] = set()
        """Flux keys a controller may have left unattended (a spec change not observed yet, or
        a reconcile request not handled yet): the only ones the health check must look at."""
        self.recent_events: deque[Row] = deque(maxlen=RECENT_EVENTS)
        """The newest Events about Flux objects, oldest first (a changed Event comes again)."""

    # ------------------------------------------------------------------------- lifecycle
    def _shared(self, resource: ResourceRef) -> Informer | None:
        if self._pool is None:
            return None
        for informer in self._pool.all():
            if informer.resource == resource:
                return informer
        return None

    def _informer(
        self,
        resource: ResourceRef,
        *,
        selector: str | None,
        transform: Callable[[Obj], Obj],
        indexers: Mapping[str, Callable[[Obj], list[str]]] | None = None,
    ) -> Informer:
        shared = self._shared(resource)
        if shared is not None:
            for name, fn in (indexers or {}).items():
                shared.add_indexer(name, fn)
            return shared
        own = Informer(
            self.api,
            resource,
            namespace=self.namespace,
            label_selector=selector,
            indexers=indexers,
            transform=transform,
        )
        self._own.append(own)
        return own

    def attach(self) -> None:
        """Pick or create the informers and register the handlers (once)."""
        if self.flux:
            return
        for info in FLUX_KINDS:
            inf = self._informer(
                info.resource,
                selector=self.label_selector,
                transform=strip_managed_fields,
                indexers={DEPENDS_INDEX: rows.depends_on},
            )
            self.flux[info.kind] = inf
            inf.add_handler(self._flux_handler(info))
        for kind, resource in WORKLOADS.items():
            inf = self._informer(resource, selector=None, transform=slim_workload)
            self.workloads[kind] = inf
            inf.add_handler(self._workload_handler(kind))
        self.events = self._informer(
            EVENTS,
            selector=None,
            transform=slim_event,
            indexers={INVOLVED_INDEX: index_involved},
        )
        self.events.add_handler(self._on_event)

    async def start(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Start the UI's own informers; with ``timeout``, wait for their first lists (a kind
        that does not sync in time is logged and keeps trying)."""
        self.attach()
        for informer in self._own:
            await informer.start()
        if timeout is None:
            return
        results = await asyncio.gather(
            *(i.wait_synced(timeout) for i in self._own), return_exceptions=True
        )
        for informer, result in zip(self._own, results, strict=True):
            if isinstance(result, Exception):
                log.warning("web cache not synced: %s", result, extra=kv(informer=repr(informer)))

    async def stop(self) -> None:
        for informer in self._own:
            with contextlib.suppress(Exception):
                await informer.stop()

    def synced(self) -> dict[str, bool]:
        """Whether each resource the UI reads has its first list (by kind)."""
        out = {kind: inf.synced for kind, inf in self.flux.items()}
        out.update({kind: inf.synced for kind, inf in self.workloads.items()})
        if self.events is not None:
            out["Event"] = self.events.synced
        return out

    def errors(self) -> dict[str, str]:
        """The last list/watch error of each resource that has one."""
        found: dict[str, str] = {}
        informers: Iterable[tuple[str, Informer]] = [
            *self.flux.items(),
            *self.workloads.items(),
            *([("Event", self.events)] if self.events else []),
        ]
        for kind, inf in informers:
            if inf.last_error is not None:
                found[kind] = str(inf.last_error)
        return found

    # ------------------------------------------------------------------------- handlers
    def _flux_handler(self, info: KindInfo) -> Callable[[str, Obj], None]:
        table = self._flux_rows[info.kind]

        def handle(event_type: str, obj: Obj) -> None:
            row = rows.flux_row(obj)
            key = row["key"]
            self._uncount(table.get(key))
            if event_type == "DELETED":
                table.pop(key, None)
                self.failing.pop(key, None)
                self.attention.discard(key)
            else:
                table[key] = row
                self._count(row)
                if row["status"] == rows.FAILED:
                    self.failing[key] = row
                else:
                    self.failing.pop(key, None)
                if needs_attention(obj):
                    self.attention.add(key)
                else:
                    self.attention.discard(key)
            self.version += 1
            self.changes.append(event_type, "flux", key, row)

        return handle

    def _workload_handler(self, kind: str) -> Callable[[str, Obj], None]:
        table = self._workload_rows[kind]

        def handle(event_type: str, obj: Obj) -> None:
            key = rows.key_of(
                kind, str(obj["metadata"].get("namespace", "")), str(obj["metadata"]["name"])
            )
            managed = rows.manager_key(obj) is not None
            previous = table.get(key)
            if event_type == "DELETED" or not managed:
                if previous is not None:
                    del table[key]
                    self._uncount(previous)
                    self.version += 1
                    self.changes.append("DELETED", "workload", key, previous)
                return
            row = rows.workload_row(obj)
            if row == previous:
                return
            self._uncount(previous)
            table[key] = row
            self._count(row)
            self.version += 1
            self.changes.append("ADDED" if previous is None else "MODIFIED", "workload", key, row)

        return handle

    def _count(self, row: Row) -> None:
        self.counts[(row["kind"], row["namespace"])][row["status"]] += 1

    def _uncount(self, row: Row | None) -> None:
        if row is None:
            return
        where = (row["kind"], row["namespace"])
        counter = self.counts[where]
        counter[row["status"]] -= 1
        if counter[row["status"]] <= 0:
            del counter[row["status"]]
        if not counter:
            del self.counts[where]

    def _on_event(self, event_type: str, obj: Obj) -> None:
        if event_type == "DELETED":
            return
        if is_flux(obj):
            self.recent_events.append(event_row(obj))
        key = involved_key(obj)
        kind = key.split("/", 1)[0]
        tracked = self._flux_rows.get(kind) or self._workload_rows.get(kind) or {}
        if key in tracked:
            self.changes.append(event_type, "event", key, event_row(obj))

    # ------------------------------------------------------------------------- reading
    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        """A cached Flux object (read-only)."""
        inf = self.flux.get(kind)
        return inf.get(namespace, name) if inf is not None else None

    def get_workload(self, kind: str, namespace: str, name: str) -> Obj | None:
        inf = self.workloads.get(kind)
        return inf.get(namespace, name) if inf is not None else None

    def row(self, kind: str, namespace: str, name: str) -> Row | None:
        table = self._flux_rows.get(kind) or self._workload_rows.get(kind)
        return (table or {}).get(rows.key_of(kind, namespace, name))

    def flux_rows(self, kinds: Iterable[str] | None = None) -> Iterable[Row]:
        for kind in kinds if kinds is not None else self._flux_rows:
            yield from self._flux_rows.get(kind, {}).values()

    def workload_rows(self, kinds: Iterable[str] | None = None) -> Iterable[Row]:
        for kind in kinds if kinds is not None else self._workload_rows:
            yield from self._workload_rows.get(kind, {}).values()

    def namespaces(self) -> frozenset[str]:
        """The namespaces that hold Flux objects or managed workloads (cached per version)."""
        version, found = self._namespaces
        if version != self.version:
            found = frozenset(ns for _, ns in self.counts)
            self._namespaces = (self.version, found)
        return found

    def flux_objects(self, kind: str) -> list[Obj]:
        inf = self.flux.get(kind)
        return inf.list() if inf is not None else []

    def sorted_rows(
        self, group: str, kinds: tuple[str, ...], sort_key: Callable[[Row], Any], sort: str
    ) -> list[Row]:
        """Rows of ``kinds`` sorted by ``sort_key``, cached until the next change."""
        cache_key = (group, kinds, sort)
        hit = self._sorted.get(cache_key)
        if hit is not None and hit[0] == self.version:
            return hit[1]
        source = self.flux_rows(kinds) if group == "flux" else self.workload_rows(kinds)
        ordered = sorted(source, key=sort_key)
        if len(self._sorted) > 64:
            self._sorted.clear()
        self._sorted[cache_key] = (self.version, ordered)
        return ordered

    def dependents_of(self, kind: str, key: str) -> list[Obj]:
        """Objects of ``kind`` whose ``spec.dependsOn`` names ``key`` (``Kind/ns/name``)."""
        inf = self.flux.get(kind)
        return inf.by_index(DEPENDS_INDEX, key) if inf is not None else []

    def events_of(self, key: str) -> list[Obj]:
        """The cached Events about ``Kind/ns/name``."""
        if self.events is None:
            return []
        return self.events.by_index(INVOLVED_INDEX, key)

    def all_events(self) -> list[Obj]:
        return self.events.list() if self.events is not None else []


def event_row(event: Mapping[str, Any]) -> Row:
    """What the UI shows of an Event."""
    when = event_time(event)
    source = event.get("source") or {}
    meta = event.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    inv = event.get("involvedObject") or {}
    return {
        "uid": meta.get("uid") or meta.get("name"),
        "namespace": str(meta.get("namespace") or inv.get("namespace") or ""),
        "seq": int(rv) if (rv := str(meta.get("resourceVersion", ""))).isdigit() else 0,
        "time": when.isoformat() if when else None,
        "type": str(event.get("type", "")),
        "reason": str(event.get("reason", "")),
        "message": str(event.get("message") or "").strip(),
        "count": int(event.get("count") or (event.get("series") or {}).get("count") or 1),
        "object": involved_key(event),
        "objectKind": str(inv.get("kind", "")),
        "component": str(source.get("component") or event.get("reportingComponent") or ""),
        "revision": next((v for k, v in annotations.items() if str(k).endswith("/revision")), ""),
        "user": annotations.get(f"{AUDIT_PREFIX}username", ""),
    }
