"""The reconcile loop's edge cases, with in-memory stand-ins for the cache and the writer
(the real API server is exercised in tests/integration/test_runtime_controller.py)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping
from typing import Any

import pytest

from weir.kube.resources import ResourceRef
from weir.runtime import conditions
from weir.runtime.controller import Controller, ControllerSettings, split_key
from weir.runtime.ports import EventHandler
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import Result

Obj = dict[str, Any]
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

    async def patch_status(self, obj: Obj, patch: dict[str, Any]) -> None:
        self.patches.append(patch)
        stored = self._stored(obj)
        stored["status"] = copy.deepcopy(obj.get("status") or {})
        self.informer.put(stored)

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

    async def event(
        self,
        obj: Obj,
        event_type: str,
        reason: str,
        message: str,
        annotations: Mapping[str, str] | None = None,
    ) -> object:
        self.events.append((event_type, reason, message))
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
