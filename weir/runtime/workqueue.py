"""An asyncio work queue with the semantics of client-go's rate-limited delaying queue.

- **Dedup**: a key is queued at most once. A key added while a worker processes it is queued
  again, once, when that worker calls :meth:`WorkQueue.done`; a key is never processed by two
  workers at the same time.
- **Priority**: a key added with ``priority=True`` (or moved up by :meth:`WorkQueue.promote`)
  is taken before every key queued without it; within each of the two lanes the order is FIFO.
  A key stays deduplicated across the lanes (promoting it moves it, never queues it twice), and
  a priority add of a key being processed makes its next run a priority one. Priority changes
  only the order of runs, never whether one happens.
- **Delays**: :meth:`WorkQueue.add_after` schedules a key with jitter (``±jitter_percent``); of
  several pending delays for one key the earliest wins, and an immediate :meth:`WorkQueue.add`
  cancels the pending delay (the run it triggers schedules its own follow-up).
- **Backoff**: :meth:`WorkQueue.add_rate_limited` waits :class:`~weir.runtime.backoff.Backoff`'s
  per-key exponential delay; :meth:`WorkQueue.forget` resets it.
- **Workers**: :meth:`WorkQueue.run` processes keys with at most ``workers`` handlers at a time.
- **Triggers**: every add stamps the key (:func:`weir.runtime.trigger.stamp`; the latest add
  before the key is taken counts); :meth:`WorkQueue.triggered` gives a running key's stamp and
  :meth:`WorkQueue.pending` the keys queued or running (see :mod:`weir.runtime.trigger`).
- **Shutdown**: :meth:`WorkQueue.shutdown` stops taking work (adds are dropped, idle workers
  return); :meth:`WorkQueue.wait_idle` waits for in-flight keys to finish.

Everything runs on the event loop's thread; ``add`` is synchronous so informer handlers can call it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

from weir.log import kv
from weir.runtime import trigger
from weir.runtime.backoff import DEFAULT_JITTER_PERCENT, Backoff, jittered

log = logging.getLogger(__name__)


class QueueShutDown(Exception):
    """Raised by :meth:`WorkQueue.get` once the queue is shut down."""


class _Retired(Exception):
    """Raised by :meth:`WorkQueue.get` in an idle worker that :meth:`WorkQueue.set_workers`
    let go."""


class QueueObserver(Protocol):
    """Receives the queue's metrics (see :mod:`weir.runtime.metrics`)."""

    def on_depth(self, depth: int) -> None: ...
    def on_add(self) -> None: ...
    def on_retry(self) -> None: ...


class WorkQueue:
    """Keys waiting to be reconciled; see the module docstring for the rules."""

    def __init__(
        self,
        name: str = "",
        *,
        backoff: Backoff | None = None,
        jitter_percent: float = DEFAULT_JITTER_PERCENT,
        rng: random.Random | None = None,
        observer: QueueObserver | None = None,
    ) -> None:
        self.name = name
        self.backoff = backoff or Backoff()
        self.jitter_percent = jitter_percent
        self._rng = rng or random.Random()
        self._observer = observer
        self._queue: deque[str] = deque()
        self._urgent: deque[str] = deque()
        """Keys queued with priority: taken before :attr:`_queue`."""
        self._priority: set[str] = set()
        """Dirty keys whose (next) run has priority."""
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._waiting: dict[str, asyncio.TimerHandle] = {}
        self._stamps: dict[str, int] = {}
        """Dirty key -> the stamp of its latest add."""
        self._running: dict[str, int] = {}
        """Processing key -> the stamp of the add that its current run answers."""
        self._getters: deque[asyncio.Future[None]] = deque()
        self._idle: asyncio.Event | None = None
        self._shutting_down = False
        self._handler: Callable[[str], Awaitable[None]] | None = None
        self._workers: set[asyncio.Task[None]] = set()
        self._target = 0
        self._retire = 0

    # -- adding -------------------------------------------------------------------------------

    def add(self, key: str, *, priority: bool = False) -> None:
        """Queue ``key`` now (cancelling a pending delayed add of it); with ``priority`` ahead
        of the keys queued without it (moving it up if it is queued already)."""
        timer = self._waiting.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._enqueue(key, priority)

    def promote(self, key: str) -> bool:
        """Move a queued ``key`` ahead of the keys queued without priority (if it is being
        processed and queued again, its next run). Adds no run: False when ``key`` is not
        queued, or already has priority."""
        if key not in self._dirty or key in self._priority or self._shutting_down:
            return False
        self._priority.add(key)
        if key not in self._processing:
            self._queue.remove(key)
            self._urgent.append(key)
        return True

    def add_after(self, key: str, delay: float, *, jitter: bool = True) -> float:
        """Queue ``key`` after ``delay`` seconds (``±jitter_percent`` unless ``jitter=False``).

        Returns the delay actually used. A key already queued is left alone: its run comes first.
        """
        if self._shutting_down:
            return 0.0
        if jitter:
            delay = jittered(delay, self.jitter_percent, self._rng)
        if delay <= 0:
            self.add(key)
            return 0.0
        if key in self._dirty:
            return 0.0
        loop = asyncio.get_running_loop()
        when = loop.time() + delay
        current = self._waiting.get(key)
        if current is not None:
            if current.when() <= when:
                return max(current.when() - loop.time(), 0.0)
            current.cancel()
        self._waiting[key] = loop.call_at(when, self._fire, key)
        return delay

    def add_rate_limited(self, key: str) -> float:
        """Queue ``key`` after its next backoff delay; returns that delay."""
        delay = self.backoff.next_delay(key)
        if self._observer is not None:
            self._observer.on_retry()
        return self.add_after(key, delay, jitter=False)

    def forget(self, key: str) -> None:
        """Reset ``key``'s backoff (after a success, or when it stopped needing retries)."""
        self.backoff.forget(key)

    def num_requeues(self, key: str) -> int:
        """Consecutive rate-limited adds of ``key`` since it was last forgotten."""
        return self.backoff.failures(key)

    def cancel(self, key: str) -> None:
        """Drop a pending delayed add of ``key`` and its backoff (the object is gone)."""
        timer = self._waiting.pop(key, None)
        if timer is not None:
            timer.cancel()
        self.forget(key)

    def scheduled(self, key: str) -> float | None:
        """Seconds until the pending delayed add of ``key`` fires, or None."""
        timer = self._waiting.get(key)
        if timer is None:
            return None
        return max(timer.when() - asyncio.get_running_loop().time(), 0.0)

    def _fire(self, key: str) -> None:
        self._waiting.pop(key, None)
        self._enqueue(key)

    def _enqueue(self, key: str, priority: bool = False) -> None:
        if self._shutting_down:
            return
        self._stamps[key] = trigger.stamp()  # the latest trigger counts, queued or not
        if key in self._dirty:
            if priority:
                self.promote(key)
            return
        self._dirty.add(key)
        if priority:
            self._priority.add(key)
        if self._observer is not None:
            self._observer.on_add()
        if key in self._processing:
            return
        self._lane(key).append(key)
        self._report_depth()
        self._wake_one()

    def _lane(self, key: str) -> deque[str]:
        return self._urgent if key in self._priority else self._queue

    # -- taking -------------------------------------------------------------------------------

    async def get(self) -> str:
        """The next key; the caller must call :meth:`done` with it. Raises QueueShutDown."""
        while not (self._urgent or self._queue):
            if self._shutting_down:
                raise QueueShutDown(self.name)
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._getters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._getters:
                    self._getters.remove(waiter)
                elif self._urgent or self._queue:
                    self._wake_one()  # we were woken for a key we will not take: pass it on
                raise
        if self._shutting_down:
            raise QueueShutDown(self.name)
        key = self._urgent.popleft() if self._urgent else self._queue.popleft()
        self._dirty.discard(key)
        self._priority.discard(key)
        self._processing.add(key)
        self._running[key] = self._stamps.pop(key, 0) or trigger.stamp()
        self._report_depth()
        return key

    def done(self, key: str) -> None:
        """Mark ``key`` processed; it is queued again if it was added meanwhile."""
        self._processing.discard(key)
        self._running.pop(key, None)
        if key in self._dirty and not self._shutting_down:
            self._lane(key).append(key)
            self._report_depth()
            self._wake_one()
        if not self._processing and self._idle is not None:
            self._idle.set()

    def _wake_one(self) -> None:
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _report_depth(self) -> None:
        if self._observer is not None:
            self._observer.on_depth(len(self))

    # -- workers and shutdown -----------------------------------------------------------------

    async def run(self, handler: Callable[[str], Awaitable[None]], workers: int = 1) -> None:
        """Process keys with ``workers`` concurrent handlers until :meth:`shutdown`.

        A handler that raises is logged and its key retried with backoff; handlers are expected
        to deal with their own errors. :meth:`set_workers` changes the number while it runs.
        """
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._handler = handler
        self._target = 0
        try:
            self.set_workers(workers)
            while self._workers:
                done, _ = await asyncio.wait(
                    set(self._workers), return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    if not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
        finally:
            for task in list(self._workers):
                task.cancel()
            if self._workers:
                await asyncio.wait(set(self._workers))
            self._handler = None

    @property
    def workers(self) -> int:
        """How many workers :meth:`run` keeps (0 when not running)."""
        return self._target if self._handler is not None else 0

    def set_workers(self, workers: int) -> None:
        """Change the number of concurrent handlers of a running queue, live: new workers
        start at once; surplus idle workers stop at once, busy ones after their current key.
        Before :meth:`run` it only records the number."""
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if self._handler is None:
            self._target = workers
            return
        current = self._target
        self._target = workers
        if workers > current:
            cancelled = min(self._retire, workers - current)
            self._retire -= cancelled  # surplus workers still busy keep going instead
            for i in range(workers - current - cancelled):
                task = asyncio.get_running_loop().create_task(
                    self._worker(self._handler), name=f"{self.name}-worker-{current + i}"
                )
                self._workers.add(task)
                task.add_done_callback(self._workers.discard)
            return
        surplus = current - workers
        while surplus and self._getters:
            waiter = self._getters.pop()
            if not waiter.done():
                waiter.set_exception(_Retired())
                surplus -= 1
        self._retire += surplus

    async def _worker(self, handler: Callable[[str], Awaitable[None]]) -> None:
        while True:
            if self._retire > 0:
                self._retire -= 1
                return
            try:
                key = await self.get()
            except (QueueShutDown, _Retired):
                return
            try:
                await handler(key)
            except Exception:
                log.exception("work queue handler failed", extra=kv(queue=self.name, key=key))
                self.add_rate_limited(key)
            finally:
                self.done(key)

    def shutdown(self) -> None:
        """Stop taking work: drop queued and delayed keys, make idle workers return."""
        self._shutting_down = True
        for timer in self._waiting.values():
            timer.cancel()
        self._waiting.clear()
        self._queue.clear()
        self._urgent.clear()
        self._dirty.clear()
        self._priority.clear()
        self._stamps.clear()
        self._report_depth()
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    async def wait_idle(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait until no key is being processed; False if ``timeout`` passed first."""
        if not self._processing:
            return True
        self._idle = asyncio.Event()
        try:
            async with asyncio.timeout(timeout):
                while self._processing:
                    self._idle.clear()
                    await self._idle.wait()
        except TimeoutError:
            return False
        return True

    def triggered(self, key: str) -> int | None:
        """The :func:`~weir.runtime.trigger.stamp` of the latest add of ``key`` before a worker
        took it, while it is being processed; None otherwise."""
        return self._running.get(key)

    def pending(self) -> list[str]:
        """The keys queued (ready to be taken) or being processed now."""
        return [*self._urgent, *self._queue, *self._processing]

    def __len__(self) -> int:
        """Keys queued and ready to be taken (not the delayed or in-flight ones)."""
        return len(self._urgent) + len(self._queue)

    @property
    def in_flight(self) -> int:
        return len(self._processing)
