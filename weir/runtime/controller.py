"""A controller: one kind, one informer, one work queue, N workers, one reconciler.

Informer events pass :class:`~weir.runtime.predicates.ChangeFilter` into the queue; each worker
takes a key and runs the fixed shape of ARCHITECTURE.md principle 4::

    read from cache -> deletion (finalize, drop finalizer) -> suspend -> add finalizer
    -> [Reconciling while in progress] -> reconciler.reconcile -> outcome -> status patch
    -> requeue -> Event, metrics, log

The reconciler only decides the outcome (see :mod:`weir.runtime.result`); the status is written
once per run by :meth:`Controller._write_status` (plus once before a run that needs a progress
report, see :func:`~weir.runtime.outcome.needs_progress_report`; reconcilers that defer it write
it only when real work starts, see :mod:`weir.runtime.progress`).
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from weir.errors import WeirError
from weir.kube.errors import NotFoundError
from weir.kube.resources import ResourceRef
from weir.log import BoundLogger, kv, object_logger
from weir.runtime import conditions, outcome, progress, reasons, trigger
from weir.runtime.backoff import (
    DEFAULT_JITTER_PERCENT,
    DEFAULT_MAX_RETRY_DELAY,
    DEFAULT_MIN_RETRY_DELAY,
    Backoff,
)
from weir.runtime.durations import format_duration
from weir.runtime.metrics import RuntimeMetrics
from weir.runtime.ports import EventSink, InformerLike, ObjectWriter
from weir.runtime.predicates import ChangeFilter
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import Outcome, Result, result_from_exception
from weir.runtime.status import status_patch
from weir.runtime.workqueue import WorkQueue
from weir.types import Obj

log = logging.getLogger("weir.controller")

_run_started: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "weir_run_started", default=None
)
"""When the current run started (monotonic), for the ``seconds`` of its log line."""

NORMAL, WARNING = "Normal", "Warning"


@dataclass(frozen=True)
class ControllerSettings:
    """Knobs of one controller; ``weir run`` fills them from Flux-named flags."""

    workers: int = 4
    """Concurrent reconciles (``--concurrent``; Flux's kustomize/helm default)."""
    min_retry_delay: float = DEFAULT_MIN_RETRY_DELAY
    """First backoff delay after a transient error (``--min-retry-delay``, 750ms)."""
    max_retry_delay: float = DEFAULT_MAX_RETRY_DELAY
    """Backoff cap (``--max-retry-delay``, 15m)."""
    jitter_percent: float = DEFAULT_JITTER_PERCENT
    """Spread of requeue intervals (``--interval-jitter-percentage``, ±5%)."""
    reconcile_timeout: float | None = None
    """Upper bound of one run in seconds (None: the reconciler bounds itself)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Extra fields bound to every log line of this controller."""
    cache_catch_up: float = 5.0
    """How long a run waits for the informer to show the controller's own last write before it
    is put back in the queue (seconds; see :meth:`Controller._fresh`)."""


def split_key(key: str) -> tuple[str | None, str]:
    """``"ns/name"`` -> ``("ns", "name")``; ``"name"`` -> ``(None, "name")``."""
    ns, sep, name = key.partition("/")
    return (ns, name) if sep else (None, ns)


def object_key(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name')}" if ns else str(meta.get("name"))


class Controller:
    """Runs ``reconciler`` for every object of ``resource`` that ``informer`` caches."""

    def __init__(
        self,
        kind: str,
        resource: ResourceRef,
        reconciler: Reconciler,
        informer: InformerLike,
        *,
        writer: ObjectWriter,
        events: EventSink | None = None,
        metrics: RuntimeMetrics | None = None,
        settings: ControllerSettings | None = None,
        name: str | None = None,
    ) -> None:
        self.kind = kind
        self.resource = resource
        self.reconciler = reconciler
        self.informer = informer
        self.name = name or kind.lower()
        self.settings = settings or ControllerSettings()
        self._writer = writer
        self._events = events
        self._metrics = metrics or RuntimeMetrics()
        self._filter = ChangeFilter()
        self.queue = WorkQueue(
            self.name,
            backoff=Backoff(self.settings.min_retry_delay, self.settings.max_retry_delay),
            jitter_percent=self.settings.jitter_percent,
            observer=self._metrics.queue_observer(self.name),
        )
        self._log = BoundLogger(log, {"controller": self.name, **self.settings.labels})
        informer.add_handler(self._on_event)
        self._unwatch = self._metrics.watch_resources(kind, informer.list)
        self._synced = False
        self._written: dict[str, int] = {}
        """key -> resourceVersion of this controller's last write to the object."""

    # -- lifecycle ----------------------------------------------------------------------------

    async def start_cache(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Start the informer and wait for its first list."""
        await self.informer.start()
        await self.informer.wait_synced(timeout)
        self._synced = True

    @property
    def synced(self) -> bool:
        return self._synced

    async def run(self) -> None:
        """Process the queue with ``settings.workers`` workers until :meth:`shutdown`."""
        self._log.info("starting workers", extra=kv(workers=self.settings.workers))
        await self.queue.run(self._process, self.settings.workers)

    def set_workers(self, workers: int) -> None:
        """Change the number of concurrent reconciles live (``--concurrent``): more workers
        start at once, surplus ones stop after their current run; nothing restarts."""
        if workers == self.settings.workers:
            return
        self.settings = replace(self.settings, workers=workers)
        self.queue.set_workers(workers)
        self._log.info("workers changed", extra=kv(workers=workers))

    def shutdown(self) -> None:
        """Stop taking work; in-flight runs continue (see :meth:`wait_idle`)."""
        self.queue.shutdown()

    async def wait_idle(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        return await self.queue.wait_idle(timeout)

    async def stop_cache(self) -> None:
        self._unwatch()
        await self.informer.stop()

    def watch(self, informer: InformerLike, map_keys: Callable[[str, Obj], Iterable[str]]) -> None:
        """Queue this controller's objects when another resource changes: ``map_keys`` turns an
        event of ``informer`` (e.g. a GitRepository with a new artifact) into keys of ours."""

        def handler(event_type: str, obj: Obj) -> None:
            for key in map_keys(event_type, obj):
                self.queue.add(key)

        informer.add_handler(handler)

    # -- events -------------------------------------------------------------------------------

    def _on_event(self, event_type: str, obj: Obj) -> None:
        key = object_key(obj)
        if not self._filter.should_enqueue(event_type, key, obj):
            return
        if event_type == "DELETED":
            self._written.pop(key, None)
            self.queue.cancel(key)
            ns, name = split_key(key)
            self._metrics.forget_object(self.kind, ns or "", name)
            return
        self.queue.add(key)

    # -- one run ------------------------------------------------------------------------------

    async def _process(self, key: str, triggered: int | None = None) -> None:
        """One run of ``key``; ``triggered`` is its trigger's stamp (default: the work queue's
        for the key, see :mod:`weir.runtime.trigger`)."""
        ns, name = split_key(key)
        cached = await self._fresh(key, ns, name)
        if cached is None:
            return
        obj = copy.deepcopy(cached)
        olog = object_logger(log, self.kind, obj).bind(
            controller=self.name, reconcileID=uuid.uuid4().hex[:12]
        )
        started = time.monotonic()
        result_label = "error"
        stamp = triggered or self.queue.triggered(key) or trigger.stamp()
        olog = olog.bind(waited=round(max(time.monotonic_ns() - stamp, 0) / 1e9, 3))
        token = trigger.install(trigger.Trigger(stamp, self.queue.pending))
        run_token = _run_started.set(started)
        try:
            result_label = await self._handle(key, obj, olog)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            olog.exception("reconcile failed outside the reconciler", extra=kv(error=str(e)))
            self.queue.add_rate_limited(key)
        finally:
            trigger.reset(token)
            _run_started.reset(run_token)
            self._metrics.observe_run(
                self.kind, ns or "", name, result_label, time.monotonic() - started
            )

    async def _fresh(self, key: str, ns: str | None, name: str) -> Obj | None:
        """The cached object, once the cache shows this controller's own last write to it.

        A run starts from the informer's copy, which lags behind the API server. Without this
        guard a run queued right after the previous one could start from the status before
        that run's write, and compute inventory, history or pruning from stale data (the watch
        event of our own write is filtered, so nothing would correct it). The cache gets
        ``cache_catch_up`` seconds to catch up; after that the key goes back in the queue.
        Returns None when there is nothing to run now.
        """
        deadline = time.monotonic() + self.settings.cache_catch_up
        delay = 0.005
        while True:
            cached = self.informer.get(ns, name)
            if cached is None:
                self.queue.cancel(key)
                self._written.pop(key, None)
                return None
            written = self._written.get(key)
            seen = _resource_version(cached)
            if written is None or seen is None or seen >= written:
                self._written.pop(key, None)
                return cached
            if time.monotonic() >= deadline:
                self._log.warning(
                    "the cache has not caught up with the last write; retrying",
                    extra=kv(key=key, cached=seen, written=written),
                )
                self.queue.add_after(key, 1.0)
                return None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    def _remember(self, key: str, written: Obj | None) -> None:
        version = _resource_version(written) if written else None
        if version is not None:
            self._written[key] = version

    async def _handle(self, key: str, obj: Obj, olog: BoundLogger) -> str:
        meta = obj.setdefault("metadata", {})
        finalizer = self.reconciler.finalizer
        if meta.get("deletionTimestamp"):
            return await self._delete(key, obj, olog)
        if self.reconciler.is_suspended(obj):
            olog.info("reconciliation is suspended for this object")
            self.queue.forget(key)
            return "suspended"
        if finalizer and finalizer not in (meta.get("finalizers") or []):
            try:
                self._remember(key, await self._writer.add_finalizer(obj, finalizer))
            except NotFoundError:  # deleted before the run began: the watch reports it
                olog.debug("object deleted before its finalizer was added")
                self.queue.forget(key)
                return "gone"
            meta.setdefault("finalizers", []).append(finalizer)
        original = obj
        written = _Written(original)
        # What the run's Event is decided against: the progress report when one is due,
        # written or not, so that deferring it does not change which runs record an Event.
        shown = original
        if outcome.needs_progress_report(original):
            shown = copy.deepcopy(original)
            conditions.mark_progressing(shown)

        async def report_progress() -> None:
            if shown is original or written.status is not original:
                return  # no report due, or already written
            await self._write_status(key, original, shown)
            written.status = shown

        if not self.reconciler.defers_progress_report:
            await report_progress()
        obj = copy.deepcopy(written.status)
        obj.setdefault("status", {})
        token = progress.install(report_progress)
        try:
            result, interval = await self._run(obj)
        finally:
            progress.reset(token)
        outcome.apply_outcome(obj, result)
        await self._write_status(key, written.status, obj)
        self._requeue(key, result, interval)
        await self._report(shown, obj, result, interval, olog)
        return result.outcome.value

    async def _run(self, obj: Obj) -> tuple[Result, float | None]:
        """Call the reconciler (under the timeout) and turn what it did into a Result."""
        try:
            interval = self.reconciler.interval(obj)
        except WeirError as e:
            return Result.stalled("InvalidInterval", str(e)), None
        scope = asyncio.timeout(self.settings.reconcile_timeout)
        try:
            async with scope:
                result = await self.reconciler.reconcile(obj)
        except TimeoutError as e:
            if not scope.expired():
                result = result_from_exception(e)
            else:
                limit = format_duration(self.settings.reconcile_timeout or 0)
                result = Result.failed(
                    reasons.RECONCILIATION_FAILED, f"reconciliation timed out after {limit}"
                )
        except Exception as e:
            result = result_from_exception(e)
            if not isinstance(e, WeirError):  # a bug rather than a failure: keep the traceback
                object_logger(log, self.kind, obj).exception("reconciler raised unexpectedly")
        if not isinstance(result, Result):
            raise TypeError(f"{type(self.reconciler).__name__}.reconcile must return a Result")
        return result, interval

    async def _write_status(self, key: str, before: Obj, after: Obj) -> None:
        """The single status write: the merge patch between two versions, if any."""
        patch = status_patch(before, after)
        if not patch:
            return
        try:
            written = await self._writer.patch_status(after, patch)
        except NotFoundError:  # deleted while the run went on: nothing left to report on
            self._log.info("object deleted during the run, status not written", extra=kv(key=key))
            return
        self._remember(key, written)

    def _requeue(self, key: str, result: Result, interval: float | None) -> None:
        if result.outcome is Outcome.FAILED and result.delay is None:
            self.queue.add_rate_limited(key)
            return
        self.queue.forget(key)
        if result.outcome is Outcome.STALLED:
            return
        delay = result.delay if result.delay is not None else interval
        if delay is not None:
            self.queue.add_after(key, delay)

    # -- deletion -----------------------------------------------------------------------------

    async def _delete(self, key: str, obj: Obj, olog: BoundLogger) -> str:
        finalizer = self.reconciler.finalizer
        if not finalizer or finalizer not in (obj["metadata"].get("finalizers") or []):
            return "success"
        try:
            result = await self.reconciler.finalize(obj) or Result.success("finalized")
        except Exception as e:
            result = result_from_exception(e)
        if result.outcome is Outcome.SUCCEEDED:
            await self._writer.remove_finalizer(obj, finalizer)
            self.queue.cancel(key)
            olog.info("finalizer removed, object can be deleted")
            return "success"
        before = copy.deepcopy(obj)
        outcome.apply_outcome(obj, result)
        await self._write_status(key, before, obj)
        self._requeue(key, result, None)
        await self._report(before, obj, result, None, olog)
        return result.outcome.value

    # -- reporting ----------------------------------------------------------------------------

    async def _report(
        self, before: Obj, after: Obj, result: Result, interval: float | None, olog: BoundLogger
    ) -> None:
        """Log the outcome and mirror it to an Event (successes only when something changed)."""
        rlog = olog.bind(revision=result.revision)
        fields: dict[str, Any] = {"result": result.outcome.value, "reason": result.reason}
        started = _run_started.get()
        if started is not None:
            fields["seconds"] = round(time.monotonic() - started, 3)
        next_run = result.delay if result.delay is not None else interval
        if result.outcome is Outcome.FAILED:
            rlog.error("reconciliation failed", extra=kv(**fields, error=result.message))
            await self._event(after, WARNING, result)
        elif result.outcome is Outcome.STALLED:
            rlog.error("reconciliation stalled", extra=kv(**fields, error=result.message))
            await self._event(after, WARNING, result)
        else:
            if next_run is not None:
                fields["next"] = format_duration(next_run)
            rlog.info("reconciliation finished", extra=kv(**fields, message=result.message))
            if _ready_changed(before, after) or outcome.generation_pending(before):
                await self._event(after, NORMAL, result)

    async def _event(self, obj: Obj, type_: str, result: Result) -> None:
        if self._events is None:
            return
        annotations = {}
        if result.revision:
            annotations[f"{self.resource.group}/revision"] = result.revision
            status = obj.get("status") or {}
            origin = status.get("lastAppliedOriginRevision")
            if origin and status.get("lastAppliedRevision") == result.revision:
                annotations[f"{self.resource.group}/originRevision"] = str(origin)
        try:
            await self._events.event(obj, type_, result.reason, result.message, annotations)
        except Exception as e:
            object_logger(log, self.kind, obj).warning(
                "cannot record event", extra=kv(error=str(e))
            )

    # -- for tests and tools ------------------------------------------------------------------

    async def reconcile_now(self, key: str) -> None:
        """Run one key immediately in the caller's task (bypassing the queue; triggered now)."""
        await self._process(key, trigger.stamp())


@dataclass
class _Written:
    """The status as the API server has it after this run's last write."""

    status: Obj


def _resource_version(obj: Obj) -> int | None:
    """The object's resourceVersion as a number, or None when it is not one.

    Kubernetes documents resourceVersions as opaque, but the API server's are etcd revisions:
    decimal integers that grow with every write, and clients may compare them
    (KEP-5504, stable since Kubernetes 1.35). Anything else disables the check rather than
    guessing.
    """
    version = (obj.get("metadata") or {}).get("resourceVersion")
    if isinstance(version, str) and version.isdigit():
        return int(version)
    return None


def _ready_changed(before: Obj, after: Obj) -> bool:
    old, new = conditions.get(before, reasons.READY), conditions.get(after, reasons.READY)
    if old is None or new is None:
        return old is not new
    return any(old.get(k) != new.get(k) for k in ("status", "reason", "message"))
