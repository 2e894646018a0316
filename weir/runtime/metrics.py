"""Prometheus metrics of the controller runtime (served by ``weir run --metrics-addr``).

- ``weir_reconcile_total{kind, result}`` (counter): runs by outcome: ``success``, ``waiting``,
  ``stalled``, ``error``, ``suspended``.
- ``weir_reconcile_errors_total{kind}`` (counter): runs that ended in an error.
- ``weir_reconcile_duration_seconds{kind}`` (histogram): run duration.
- ``gotk_reconcile_duration_seconds{kind, name, namespace}`` (histogram): Flux's per-object
  duration, so Flux's Grafana dashboards work; the series of a deleted object is removed.
- ``weir_workqueue_depth{controller}`` (gauge): keys ready to be taken.
- ``weir_workqueue_adds_total{controller}`` (counter): keys queued.
- ``weir_workqueue_retries_total{controller}`` (counter): rate-limited (backoff) adds.
- ``weir_resources{kind, ready}`` (gauge): cached objects by Ready status (``True``, ``False``,
  ``Unknown``, ``None`` = no Ready condition yet), counted at scrape time.
- ``weir_resources_suspended{kind}`` (gauge): cached objects with ``spec.suspend: true``.
- ``leader_election_master_status{name}`` (gauge): 1 while this process holds the Lease
  (controller-runtime's name).

Each :class:`RuntimeMetrics` has its own registry, so tests and several managers do not collide.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from weir.runtime import conditions, reasons
from weir.types import Obj

DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class _QueueObserver:
    def __init__(self, metrics: RuntimeMetrics, controller: str) -> None:
        self._depth = metrics.queue_depth.labels(controller)
        self._adds = metrics.queue_adds.labels(controller)
        self._retries = metrics.queue_retries.labels(controller)

    def on_depth(self, depth: int) -> None:
        self._depth.set(depth)

    def on_add(self) -> None:
        self._adds.inc()

    def on_retry(self) -> None:
        self._retries.inc()


class _ResourceCollector(Collector):
    """Counts cached objects per kind by Ready status and suspension at scrape time."""

    def __init__(self) -> None:
        self._sources: dict[str, list[Callable[[], Iterable[Obj]]]] = {}

    def add(self, kind: str, lister: Callable[[], Iterable[Obj]]) -> Callable[[], None]:
        """Count ``lister``'s objects under ``kind`` (added to those of other listers of the
        kind, e.g. shards); returns the function that stops counting them."""
        listers = self._sources.setdefault(kind, [])
        listers.append(lister)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                listers.remove(lister)

        return remove

    def collect(self) -> Iterator[Metric]:
        ready = GaugeMetricFamily(
            "weir_resources",
            "Objects in the cache by kind and Ready status.",
            labels=["kind", "ready"],
        )
        suspended = GaugeMetricFamily(
            "weir_resources_suspended", "Objects with spec.suspend true.", labels=["kind"]
        )
        for kind, listers in self._sources.items():
            counts = dict.fromkeys((reasons.TRUE, reasons.FALSE, reasons.UNKNOWN, "None"), 0)
            n_suspended = 0
            for obj in (o for lister in listers for o in lister()):
                counts[str(conditions.status_of(obj, reasons.READY))] += 1
                n_suspended += bool((obj.get("spec") or {}).get("suspend"))
            for status, n in counts.items():
                ready.add_metric([kind, status], n)
            suspended.add_metric([kind], n_suspended)
        yield ready
        yield suspended


class RuntimeMetrics:
    """All runtime metrics, in one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        reg = self.registry
        self.reconcile_total = Counter(
            "weir_reconcile", "Reconcile runs by outcome.", ["kind", "result"], registry=reg
        )
        self.reconcile_errors = Counter(
            "weir_reconcile_errors",
            "Reconcile runs that ended in an error.",
            ["kind"],
            registry=reg,
        )
        self.reconcile_duration = Histogram(
            "weir_reconcile_duration_seconds",
            "Duration of reconcile runs.",
            ["kind"],
            buckets=DURATION_BUCKETS,
            registry=reg,
        )
        self.object_duration = Histogram(
            "gotk_reconcile_duration_seconds",
            "The duration in seconds of a GitOps Toolkit resource reconciliation.",
            ["kind", "name", "namespace"],
            buckets=DURATION_BUCKETS,
            registry=reg,
        )
        self.queue_depth = Gauge(
            "weir_workqueue_depth", "Keys waiting in the work queue.", ["controller"], registry=reg
        )
        self.queue_adds = Counter(
            "weir_workqueue_adds", "Keys added to the work queue.", ["controller"], registry=reg
        )
        self.queue_retries = Counter(
            "weir_workqueue_retries",
            "Keys re-added with backoff after an error.",
            ["controller"],
            registry=reg,
        )
        self.leader = Gauge(
            "leader_election_master_status",
            "1 while this process is the leader of the named lease.",
            ["name"],
            registry=reg,
        )
        self._resources = _ResourceCollector()
        reg.register(self._resources)

    def queue_observer(self, controller: str) -> _QueueObserver:
        """Hooks for a controller's :class:`~weir.runtime.workqueue.WorkQueue`."""
        return _QueueObserver(self, controller)

    def watch_resources(self, kind: str, lister: Callable[[], Iterable[Obj]]) -> Callable[[], None]:
        """Count ``lister()``'s objects of ``kind`` in the resource gauges at each scrape;
        returns the function that stops it (a controller that stops)."""
        return self._resources.add(kind, lister)

    def observe_run(
        self, kind: str, namespace: str, name: str, result: str, seconds: float
    ) -> None:
        """Record one finished run."""
        self.reconcile_total.labels(kind, result).inc()
        if result == "error":
            self.reconcile_errors.labels(kind).inc()
        self.reconcile_duration.labels(kind).observe(seconds)
        self.object_duration.labels(kind, name, namespace).observe(seconds)

    def forget_object(self, kind: str, namespace: str, name: str) -> None:
        """Drop the per-object series of a deleted object."""
        with contextlib.suppress(KeyError):
            self.object_duration.remove(kind, name, namespace)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)
