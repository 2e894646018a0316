"""The reconcile loop's edge cases, with in-memory stand-ins for the cache and the writer
(the real API server is exercised in tests/integration/test_runtime_controller.py)."""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from weir.kube.errors import NotFoundError
from weir.kube.resources import ResourceRef
from weir.runtime import conditions, progress
from weir.runtime.controller import Controller, ControllerSettings, split_key
from weir.runtime.ports import EventHandler
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import Result
from weir.types import Obj

THINGS = ResourceRef("test.weir.dev", "v1", "things", True, "Thing")


class MemoryInformer:
    def __init__(self) -> None:
        self.objects: dict[str, Obj] = {}
        self.handlers: list[EventHandler] = []

    def add_handler(self, handler: EventHandler) -> None:
        self.handlers.append(handler)

    async def start(self) -> None:
        pass

    async def wait_synced(self, timeout: float | None = None) -> None:
        pass

    async def stop(self) -> None:
        pass

    def get(self, namespace: str | None, name: str) -> Obj | None:
        return self.objects.get(f"{namespace}/{name}")

    def list(self, namespace: str | None = None) -> list[Obj]:
        return list(self.objects.values())

    def put(self, obj: Obj) -> None:
        key = f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"
        event = "MODIFIED" if key in self.objects else "ADDED"
        self.objects[key] = obj
        for handler in self.handlers:
            handler(event, obj)


class MemoryWriter:
    def __init__(self, informer: MemoryInformer) -> None:
        self.informer = informer
        self.patches: list[dict[str, Any]] = []

    def _stored(self, obj: Obj) -> Obj:
        meta = obj["metadata"]
        stored = self.informer.get(meta["namespace"], meta["name"])
        assert stored is not None
        return copy.deepcopy(stored)

    async def patch_status(self, obj: Obj, patch: dict[str, Any]) -> Obj | None:
        self.patches.append(patch)
        stored = self._stored(obj)
        stored["status"] = copy.deepcopy(obj.get("status") or {})
        self.informer.put(stored)
        return None

    async def add_finalizer(self, obj: Obj, finalizer: str) -> None:
        stored = self._stored(obj)
        stored["metadata"].setdefault("finalizers", []).append(finalizer)
        self.informer.put(stored)

    async def remove_finalizer(self, obj: Obj, finalizer: str) -> None:
        stored = self._stored(obj)
        stored["metadata"]["finalizers"].remove(finalizer)
        self.informer.put(stored)


class MemoryEvents:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []
        self.annotations: list[dict[str, str]] = []

    async def event(
        self,
        obj: Obj,
        event_type: str,
        reason: str,
        message: str,
        annotations: Mapping[str, str] | None = None,
    ) -> object:
        self.events.append((event_type, reason, message))
        self.annotations.append(dict(annotations or {}))
        return None


class Scripted(Reconciler):
    """Runs whatever coroutine function the test put in ``step``."""

    def __init__(self) -> None:
        self.step: Any = None
        self.finalize_result: Result | None = None

    async def reconcile(self, obj: Obj) -> Result:
        result: Result = await self.step(obj)
        return result

    async def finalize(self, obj: Obj) -> Result | None:
        return self.finalize_result


def _thing(name: str = "a", **spec: Any) -> Obj:
    return {
        "apiVersion": "test.weir.dev/v1",
        "kind": "Thing",
        "metadata": {"name": name, "namespace": "ns", "generation": 1},
        "spec": spec,
    }


@pytest.fixture
def parts() -> tuple[Controller, MemoryInformer, MemoryWriter, Scripted, MemoryEvents]:
    informer = MemoryInformer()
    writer = MemoryWriter(informer)
    reconciler = Scripted()
    events = MemoryEvents()
    controller = Controller(
        "Thing",
        THINGS,
        reconciler,
        informer,
        writer=writer,
        events=events,
        settings=ControllerSettings(reconcile_timeout=0.05, min_retry_delay=30),
    )
    return controller, informer, writer, reconciler, events


Parts = tuple[Controller, MemoryInformer, MemoryWriter, Scripted, MemoryEvents]


async def _run(controller: Controller, key: str = "ns/a") -> None:
    """One run of ``key`` as a worker does it (taking it from the queue when it is queued)."""
    if not len(controller.queue):
        await controller.reconcile_now(key)
        return
    assert await controller.queue.get() == key
    try:
        await controller.reconcile_now(key)
    finally:
        controller.queue.done(key)


def _ready(informer: MemoryInformer) -> Obj:
    obj = informer.get("ns", "a")
    assert obj is not None
    ready = conditions.get(obj, "Ready")
    assert ready is not None
    return ready


async def test_a_run_past_the_timeout_fails_and_backs_off(parts: Parts) -> None:
    controller, informer, _, reconciler, events = parts

    async def slow(obj: Obj) -> Result:
        await asyncio.sleep(1)
        return Result.success()

    reconciler.step = slow
    informer.put(_thing())
    await _run(controller)
    assert _ready(informer)["message"] == "reconciliation timed out after 50ms"
    assert controller.queue.num_requeues("ns/a") == 1
    assert events.events[-1][0] == "Warning"
    controller.queue.shutdown()


async def test_a_timeout_inside_the_reconciler_is_an_ordinary_failure(parts: Parts) -> None:
    controller, informer, _, reconciler, _ = parts

    async def inner_timeout(obj: Obj) -> Result:
        raise TimeoutError("git fetch timed out")

    reconciler.step = inner_timeout
    informer.put(_thing())
    await _run(controller)
    assert _ready(informer)["message"] == "git fetch timed out"
    controller.queue.shutdown()


async def test_returning_something_else_than_a_result_is_a_bug(parts: Parts) -> None:
    controller, informer, _, reconciler, _ = parts

    async def wrong(obj: Obj) -> Any:
        return "ok"

    reconciler.step = wrong
    informer.put(_thing())
    await _run(controller)
    assert controller.queue.num_requeues("ns/a") == 1
    controller.queue.shutdown()


async def test_routine_runs_write_nothing_and_record_no_event(parts: Parts) -> None:
    controller, informer, writer, reconciler, events = parts

    async def ok(obj: Obj) -> Result:
        return Result.success("fine")

    reconciler.step = ok
    informer.put(_thing(interval="1h"))
    await _run(controller)
    assert len(writer.patches) == 2, "progress, then the outcome"
    assert len(events.events) == 1
    await _run(controller)
    assert len(writer.patches) == 2, "nothing changed, nothing written"
    assert len(events.events) == 1
    scheduled = controller.queue.scheduled("ns/a")
    assert scheduled is not None
    assert 3600 * 0.95 <= scheduled <= 3600 * 1.05
    controller.queue.shutdown()


def _requested(obj: Obj, token: str) -> Obj:
    obj["metadata"]["annotations"] = {"reconcile.fluxcd.io/requestedAt": token}
    return obj


async def test_a_deferred_progress_report_makes_a_noop_run_one_status_write(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reconciler that defers the progress report and finds nothing to do: a forced run
    costs one status write (lastHandledReconcileAt with the outcome), and records the same
    Event as when the report is written first (a handled manual request)."""
    controller, informer, writer, reconciler, events = parts
    monkeypatch.setattr(Scripted, "defers_progress_report", True)

    async def noop(obj: Obj) -> Result:
        return Result.success("Applied revision: r1", revision="r1")

    reconciler.step = noop
    informer.put(_thing(interval="1h"))
    await _run(controller)
    assert len(writer.patches) == 1, "a first run that reports no progress: one write"
    assert len(events.events) == 1
    stored = informer.get("ns", "a")
    assert stored is not None
    informer.put(_requested(copy.deepcopy(stored), "t1"))
    await _run(controller)
    assert len(writer.patches) == 2
    last = writer.patches[-1]
    assert last["lastHandledReconcileAt"] == "t1"
    assert "conditions" not in last, "Ready stayed True: no Reconciling in between"
    assert conditions.get(informer.get("ns", "a") or {}, "Reconciling") is None
    assert len(events.events) == 2, "a handled manual request still records its Event"
    controller.queue.shutdown()


async def test_a_deferred_progress_report_is_written_once_when_work_starts(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller, informer, writer, reconciler, events = parts
    monkeypatch.setattr(Scripted, "defers_progress_report", True)
    seen: list[Obj] = []

    async def work(obj: Obj) -> Result:
        await progress.report()
        stored = informer.get("ns", "a")
        assert stored is not None
        seen.append(copy.deepcopy(stored))
        await progress.report()
        obj["status"]["lastAppliedRevision"] = "r1"
        return Result.success("Applied revision: r1", revision="r1")

    reconciler.step = work
    informer.put(_requested(_thing(interval="1h"), "t1"))
    await _run(controller)
    assert len(writer.patches) == 2, "progress once (asked twice), then the outcome"
    reconciling = conditions.get(seen[0], "Reconciling")
    assert reconciling is not None
    assert reconciling["status"] == "True"
    assert "lastHandledReconcileAt" not in writer.patches[0]
    assert writer.patches[1]["lastHandledReconcileAt"] == "t1"
    final = informer.get("ns", "a")
    assert final is not None
    assert conditions.get(final, "Reconciling") is None
    assert conditions.is_true(final, "Ready")
    assert len(events.events) == 1
    controller.queue.shutdown()


async def test_a_routine_run_asking_for_progress_writes_nothing(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No report is due for an interval run of a Ready object, even when asked for."""
    controller, informer, writer, reconciler, _ = parts
    monkeypatch.setattr(Scripted, "defers_progress_report", True)

    async def work(obj: Obj) -> Result:
        await progress.report()
        return Result.success("fine")

    reconciler.step = work
    informer.put(_thing(interval="1h"))
    await _run(controller)
    assert len(writer.patches) == 2, "not Ready yet: progress, then the outcome"
    await _run(controller)
    assert len(writer.patches) == 2
    controller.queue.shutdown()


async def test_events_carry_the_revision_and_its_origin(parts: Parts) -> None:
    """Flux's event metadata: ``<group>/revision``, and ``<group>/originRevision`` when the
    status says the applied revision came from another (an OCI artifact's source commit)."""
    controller, informer, _, reconciler, events = parts

    async def applied(obj: Obj) -> Result:
        obj["status"]["lastAppliedRevision"] = "latest@sha256:abc"
        obj["status"]["lastAppliedOriginRevision"] = "main@sha1:def"
        return Result.success("Applied revision: latest@sha256:abc", revision="latest@sha256:abc")

    reconciler.step = applied
    informer.put(_thing(interval="1h"))
    await _run(controller)
    group = THINGS.group
    assert events.annotations == [
        {f"{group}/revision": "latest@sha256:abc", f"{group}/originRevision": "main@sha1:def"}
    ]


async def test_a_suspended_object_is_not_reconciled(parts: Parts) -> None:
    """``Reconciler.is_suspended`` (``spec.suspend`` by default) skips the run: nothing is
    called, nothing written."""
    controller, informer, writer, reconciler, _ = parts
    ran: list[str] = []

    async def record(obj: Obj) -> Result:
        ran.append(obj["metadata"]["name"])
        return Result.success()

    reconciler.step = record
    informer.put(_thing(suspend=True))
    await _run(controller)
    assert (ran, writer.patches) == ([], [])
    informer.put(_thing(suspend=False))
    await _run(controller)
    assert ran == ["a"]
    controller.queue.shutdown()


async def test_invalid_interval_stalls(parts: Parts) -> None:
    controller, informer, _, reconciler, _ = parts
    reconciler.step = None
    informer.put(_thing(interval="soon"))
    await _run(controller)
    obj = informer.get("ns", "a")
    assert obj is not None
    assert conditions.is_true(obj, "Stalled")
    assert _ready(informer)["reason"] == "InvalidInterval"
    controller.queue.shutdown()


async def test_finalize_can_wait_before_the_finalizer_goes(parts: Parts) -> None:
    controller, informer, _, reconciler, _ = parts

    async def ok(obj: Obj) -> Result:
        return Result.success()

    reconciler.step = ok
    informer.put(_thing())
    await _run(controller)
    obj = informer.get("ns", "a")
    assert obj is not None
    deleting = copy.deepcopy(obj)
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    informer.put(deleting)
    reconciler.finalize_result = Result.requeue_after(5, "waiting for children")
    await _run(controller)
    stored = informer.get("ns", "a")
    assert stored is not None
    assert stored["metadata"]["finalizers"] == ["finalizers.fluxcd.io"]
    assert controller.queue.scheduled("ns/a") is not None
    reconciler.finalize_result = None
    await _run(controller)
    stored = informer.get("ns", "a")
    assert stored is not None
    assert stored["metadata"]["finalizers"] == []
    assert controller.queue.scheduled("ns/a") is None
    controller.queue.shutdown()


def test_split_key() -> None:
    assert split_key("ns/name") == ("ns", "name")
    assert split_key("cluster-scoped") == (None, "cluster-scoped")


class LaggingWriter(MemoryWriter):
    """Writes get a new resourceVersion at once but reach the cache only on :meth:`deliver`,
    as with a real informer that has not yet seen the watch event of the write."""

    def __init__(self, informer: MemoryInformer) -> None:
        super().__init__(informer)
        self.version = 10
        self.pending: list[Obj] = []

    async def patch_status(self, obj: Obj, patch: dict[str, Any]) -> Obj | None:
        self.patches.append(patch)
        stored = copy.deepcopy(self.pending[-1] if self.pending else self._stored(obj))
        stored["status"] = copy.deepcopy(obj.get("status") or {})
        self.version += 1
        stored["metadata"]["resourceVersion"] = str(self.version)
        self.pending.append(stored)
        return copy.deepcopy(stored)

    def deliver(self) -> None:
        for obj in self.pending:
            self.informer.put(obj)
        self.pending.clear()


def _lagging(catch_up: float) -> tuple[Controller, MemoryInformer, LaggingWriter, Scripted]:
    informer = MemoryInformer()
    writer = LaggingWriter(informer)
    reconciler = Scripted()
    controller = Controller(
        "Thing",
        THINGS,
        reconciler,
        informer,
        writer=writer,
        settings=ControllerSettings(cache_catch_up=catch_up, min_retry_delay=30),
    )
    return controller, informer, writer, reconciler


def _versioned_thing() -> Obj:
    obj = _thing(interval="1h")
    obj["metadata"]["resourceVersion"] = "10"
    obj["metadata"]["finalizers"] = ["finalizers.fluxcd.io"]
    return obj


async def test_a_run_waits_for_the_cache_to_show_the_last_write() -> None:
    controller, informer, writer, reconciler = _lagging(catch_up=5)
    seen: list[Any] = []

    async def count(obj: Obj) -> Result:
        runs = int((obj.get("status") or {}).get("runs", 0))
        seen.append(runs)
        obj["status"]["runs"] = runs + 1
        return Result.success()

    reconciler.step = count
    informer.put(_versioned_thing())
    await _run(controller)
    assert seen == [0]
    # The cache still holds the object from before the write; the next run must not start from
    # it (it would count from 0 again), but from the object once the write reaches the cache.
    asyncio.get_running_loop().call_later(0.05, writer.deliver)
    await _run(controller)
    assert seen == [0, 1]
    controller.queue.shutdown()


async def test_a_cache_that_does_not_catch_up_puts_the_key_back() -> None:
    controller, informer, writer, reconciler = _lagging(catch_up=0.05)
    seen: list[int] = []

    async def record(obj: Obj) -> Result:
        seen.append(int((obj.get("status") or {}).get("runs", 0)))
        obj["status"]["runs"] = len(seen)
        return Result.success()

    reconciler.step = record
    informer.put(_versioned_thing())
    await _run(controller)
    controller.queue.forget("ns/a")
    await _run(controller)
    assert len(seen) == 1, "a run started from the stale cache"
    scheduled = controller.queue.scheduled("ns/a")
    assert scheduled is not None
    assert scheduled <= 1.1  # a second, give or take the queue's jitter
    writer.deliver()
    await _run(controller)
    assert seen == [0, 1]
    controller.queue.shutdown()


class GoneWriter(MemoryWriter):
    """The object was deleted by someone else while the run went on (404 on the write)."""

    async def patch_status(self, obj: Obj, patch: dict[str, Any]) -> Obj | None:
        status = {"code": 404, "reason": "NotFound", "message": 'things "a" not found'}
        raise NotFoundError("PATCH", "/apis/test.weir.dev/v1/things/a/status", status)


async def test_an_object_deleted_during_its_run_is_not_an_error() -> None:
    informer = MemoryInformer()
    reconciler = Scripted()
    controller = Controller(
        "Thing",
        THINGS,
        reconciler,
        informer,
        writer=GoneWriter(informer),
        settings=ControllerSettings(),
    )

    async def fine(obj: Obj) -> Result:
        return Result.success()

    reconciler.step = fine
    informer.put(_thing())
    await _run(controller)
    assert controller.queue.num_requeues("ns/a") == 0, "no backoff: nothing failed"
    controller.queue.shutdown()


class GoneBeforeFinalizer(MemoryWriter):
    """The object was deleted before the run could add its finalizer (404 on the patch)."""

    async def add_finalizer(self, obj: Obj, finalizer: str) -> None:
        status = {"code": 404, "reason": "NotFound", "message": 'things "a" not found'}
        raise NotFoundError("PATCH", "/apis/test.weir.dev/v1/things/a", status)


class WithFinalizer(Scripted):
    finalizer = "finalizers.test.weir.dev"


async def test_an_object_deleted_before_its_finalizer_is_added_is_not_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    informer = MemoryInformer()
    reconciler = WithFinalizer()
    controller = Controller(
        "Thing",
        THINGS,
        reconciler,
        informer,
        writer=GoneBeforeFinalizer(informer),
        settings=ControllerSettings(),
    )

    async def never(obj: Obj) -> Result:
        raise AssertionError("the reconciler must not run for an object that is gone")

    reconciler.step = never
    informer.put(_thing())
    with caplog.at_level(logging.DEBUG):
        await _run(controller)
    assert controller.queue.num_requeues("ns/a") == 0, "no backoff: nothing failed"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    controller.queue.shutdown()
