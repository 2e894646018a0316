"""Bounded queues of notifications, one per Provider, each drained by its own task.

:meth:`ProviderQueues.submit` never waits: the dispatcher (and so the controllers whose events
it handles) is never slowed by a slow or broken provider. A Provider's notifications are sent
one at a time, in order (a commit status must not overtake the one before it). A delivery that
fails with a retryable error (connection, timeout, ``429``, ``5xx``) is retried after
``retry_wait_min`` doubling up to ``retry_wait_max``, ``max_retries`` times (Flux's HTTP client
retries 4 times, 2s to 30s). What cannot be sent — the queue is full, the retries are spent —
is dropped with a log line and ``weir_notification_dropped_total``.

A queue's task ends when the queue has been empty for a while and starts again with the next
notification, so deleted Providers leave nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from weir.log import kv
from weir.notification.config import ProviderConfig, ProviderError
from weir.notification.http import DeliveryError, Http
from weir.notification.metrics import NotificationMetrics
from weir.notification.notifiers import Delivery, notifier_for
from weir.notification.settings import NotificationSettings

log = logging.getLogger("weir.notification")

Obj = dict[str, Any]
Resolver = Callable[[Mapping[str, Any]], Awaitable[ProviderConfig]]
ProviderLookup = Callable[[str, str], Obj | None]
IDLE_AFTER = 60.0


class JobSink(Protocol):
    """Where the dispatcher puts notifications (:class:`ProviderQueues`)."""

    def submit(self, job: Job) -> bool: ...


@dataclass
class Job:
    """One notification waiting for its Provider."""

    namespace: str
    provider: str
    type: str
    delivery: Delivery
    alert: str = ""
    enqueued: float = field(default_factory=time.monotonic)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.provider}"


class ProviderQueues:
    """See the module docstring."""

    def __init__(
        self,
        settings: NotificationSettings,
        metrics: NotificationMetrics,
        resolver: Resolver,
        providers: ProviderLookup,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        idle_after: float = IDLE_AFTER,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self._resolve = resolver
        self._providers = providers
        self._sleep = sleep
        self._idle_after = idle_after
        self._queues: dict[str, asyncio.Queue[Job]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._closed = False

    @property
    def depth(self) -> int:
        return sum(q.qsize() for q in self._queues.values())

    def submit(self, job: Job) -> bool:
        """Queue ``job`` without waiting; False (and a drop) when its queue is full."""
        if self._closed:
            return False
        queue = self._queues.get(job.key)
        if queue is None:
            queue = self._queues[job.key] = asyncio.Queue(self.settings.queue_size)
        if queue.full():
            self.metrics.dropped.labels(job.type, "queue_full").inc()
            log.error(
                "notification dropped: the provider's queue is full",
                extra=kv(
                    provider=job.key,
                    type=job.type,
                    alert=job.alert,
                    queued=queue.qsize(),
                    event=_event_ref(job),
                ),
            )
            return False
        queue.put_nowait(job)
        worker = self._workers.get(job.key)
        if worker is None or worker.done():
            self._workers[job.key] = asyncio.create_task(
                self._drain(job.key, queue), name=f"notify/{job.key}"
            )
        return True

    async def close(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Stop taking jobs; give the queues ``timeout`` seconds, then cancel what is left."""
        self._closed = True
        workers = [w for w in self._workers.values() if not w.done()]
        if workers:
            _, pending = await asyncio.wait(workers, timeout=timeout)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        left = self.depth
        if left:
            log.warning("notifications not sent at shutdown", extra=kv(count=left))

    async def _drain(self, key: str, queue: asyncio.Queue[Job]) -> None:
        while True:
            try:
                async with asyncio.timeout(self._idle_after if not self._closed else 0.01):
                    job = await queue.get()
            except TimeoutError:
                if queue.empty():
                    self._workers.pop(key, None)
                    if self._queues.get(key) is queue:
                        del self._queues[key]
                    return
                continue
            try:
                await self._deliver(job)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in a notifier must not stop the queue
                log.exception("notification failed unexpectedly", extra=kv(provider=key))

    async def _deliver(self, job: Job) -> None:
        s = self.settings
        delay = s.retry_wait_min
        for attempt in range(s.max_retries + 1):
            provider = self._providers(job.namespace, job.provider)
            if provider is None or (provider.get("spec") or {}).get("suspend") is True:
                return  # deleted or suspended since the event was dispatched
            error = await self._attempt(provider, job)
            if isinstance(error, ProviderError):
                self.metrics.deliveries.labels(job.type, "failed").inc()
                log.error(
                    "notification not sent: the provider cannot send",
                    extra=kv(
                        provider=job.key, type=job.type, reason=error.reason, error=error.message
                    ),
                )
                return
            if error is not None:
                last = attempt >= s.max_retries
                if not error.retryable or last:
                    self.metrics.deliveries.labels(job.type, "failed").inc()
                    if error.retryable:
                        self.metrics.dropped.labels(job.type, "retries_exhausted").inc()
                    log.error(
                        "failed to send notification",
                        extra=kv(
                            provider=job.key,
                            type=job.type,
                            alert=job.alert,
                            attempts=attempt + 1,
                            event=_event_ref(job),
                            error=str(error),
                        ),
                    )
                    return
                self.metrics.deliveries.labels(job.type, "retried").inc()
                wait = min(delay, s.retry_wait_max) * random.uniform(0.9, 1.1)
                log.info(
                    "notification not sent, retrying",
                    extra=kv(
                        provider=job.key, type=job.type, retryIn=round(wait, 2), error=str(error)
                    ),
                )
                await self._sleep(wait)
                delay *= 2
                continue
            self.metrics.deliveries.labels(job.type, "sent").inc()
            self.metrics.delivery_duration.labels(job.type).observe(time.monotonic() - job.enqueued)
            log.debug("notification sent", extra=kv(provider=job.key, type=job.type))
            return

    async def _attempt(self, provider: Obj, job: Job) -> ProviderError | DeliveryError | None:
        """One delivery; the error, or None when it was sent."""
        try:
            config = await self._resolve(provider)
            notifier = notifier_for(config)
            async with Http(config) as http:
                await notifier.post(http, job.delivery)
        except (ProviderError, DeliveryError) as e:
            return e
        return None


def _event_ref(job: Job) -> str:
    e = job.delivery.event
    return f"{e.kind}/{e.namespace}/{e.name}"
