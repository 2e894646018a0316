"""The controller runtime against a real API server, with a tiny test CRD and reconciler.

The reconciler does what each object's ``spec.mode`` says (``ok``, ``fail``, ``stall``,
``wait``) and records when it ran, so the tests can check backoff, requeue-after, terminal
errors, the ``requestedAt`` handshake, suspend and deletion from the outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import eventually
from weir.kube import apply
from weir.kube.errors import AlreadyExistsError, NotFoundError
from weir.kube.events import EVENTS, EventRecorder
from weir.kube.informer import Informer, list_all
from weir.kube.resources import ResourceRef
from weir.runtime import conditions
from weir.runtime.controller import Controller, ControllerSettings
from weir.runtime.kubeadapter import KubeObjectWriter
from weir.runtime.metrics import RuntimeMetrics
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import Result, Stalled
from weir.types import Obj

T = TypeVar("T")

GROUP = "runtime.test.weir.dev"
WIDGETS = ResourceRef(GROUP, "v1", "widgets", True, "Widget")
CRDS = ResourceRef("apiextensions.k8s.io", "v1", "customresourcedefinitions", False)
FINALIZER = "finalizers.runtime.test.weir.dev"
CRD: Obj = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"widgets.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                            "status": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                        },
                    }
                },
            }
        ],
    },
}


@dataclass
class WidgetReconciler(Reconciler):
    """Does what ``spec.mode`` says and records each run's time per object name."""

    finalizer = FINALIZER
    runs: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    finalized: list[str] = field(default_factory=list)

    async def reconcile(self, obj: Obj) -> Result:
        name = obj["metadata"]["name"]
        self.runs[name].append(time.monotonic())
        spec = obj.get("spec") or {}
        mode = spec.get("mode", "ok")
        obj["status"]["runs"] = len(self.runs[name])
        if mode == "fail":
            raise RuntimeError(f"widget {name} failed on purpose")
        if mode == "stall":
            raise Stalled("InvalidWidget", f"widget {name} can never work")
        if mode == "wait":
            return Result.requeue_after(float(spec.get("delay", 0.3)), "waiting for the widget")
        return Result.success(f"widget {name} is fine", revision=f"v{spec.get('version', 0)}")

    async def finalize(self, obj: Obj) -> Result | None:
        self.finalized.append(obj["metadata"]["name"])
        return None


@pytest.fixture(scope="session")
async def widgets_crd(kube: ApiClient) -> ResourceRef:
    with contextlib.suppress(AlreadyExistsError):
        await apply.create(kube, CRDS, CRD)

    async def established() -> bool:
        crd = await apply.get(kube, CRDS, None, CRD["metadata"]["name"])
        conds = (crd.get("status") or {}).get("conditions") or []
        return any(c["type"] == "Established" and c["status"] == "True" for c in conds)

    await eventually(established, "the Widget CRD Established", 30)
    await eventually(lambda: _served(kube), "the Widget kind served", 30)
    return WIDGETS


async def _served(kube: ApiClient) -> bool:
    try:
        await list_all(kube, WIDGETS, namespace="default")
        return True
    except NotFoundError:
        return False


@dataclass
class Harness:
    kube: ApiClient
    namespace: str
    reconciler: WidgetReconciler
    controller: Controller
    metrics: RuntimeMetrics

    async def create(self, name: str, **spec: Any) -> Obj:
        body = {
            "apiVersion": f"{GROUP}/v1",
            "kind": "Widget",
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": spec,
        }
        return await apply.create(self.kube, WIDGETS, body)

    async def get(self, name: str) -> Obj:
        return await apply.get(self.kube, WIDGETS, self.namespace, name)

    async def patch(self, name: str, body: Obj) -> Obj:
        return await apply.patch(self.kube, WIDGETS, self.namespace, name, body)

    def runs(self, name: str) -> list[float]:
        return self.reconciler.runs[name]

    async def condition(self, name: str, type_: str) -> Obj | None:
        return conditions.get(await self.get(name), type_)

    async def idle_for(self, name: str, *, result: str, count: int = 1) -> float | None:
        """Wait until ``count`` runs ended with ``result`` (a run is counted once its requeue is
        decided and its worker is free) and the controller's cache shows the object's latest
        write (so the watch event of that write has been filtered or queued), then return the
        key's delayed requeue (None: none). Where an unwanted run would be queued or running
        by then, the test fails: no fixed sleep before asserting that nothing happened."""
        key = f"{self.namespace}/{name}"
        ns = self.namespace

        sample = f'weir_reconcile_total{{kind="Widget",result="{result}"}} '

        def counted() -> bool:
            for line in self.metrics.exposition().decode().splitlines():
                if line.startswith(sample):
                    return float(line.removeprefix(sample)) >= count
            return False

        await eventually(counted, f"a {result} run of {name}")
        latest = int((await self.get(name))["metadata"]["resourceVersion"])

        def caught_up() -> bool:
            cached = self.controller.informer.get(ns, name)
            return cached is not None and int(cached["metadata"]["resourceVersion"]) >= latest

        await eventually(caught_up, f"the cache to show {name}'s latest write")
        assert len(self.controller.queue) == 0, f"{key} queued again"
        assert self.controller.queue.in_flight == 0, f"{key} running again"
        return self.controller.queue.scheduled(key)

    async def wait_runs(self, name: str, count: int, within: float = 10.0) -> list[float]:
        async def enough() -> list[float]:
            runs = self.runs(name)
            return list(runs) if len(runs) >= count else []

        return await eventually(enough, f"{count} runs of {name}", within)

    async def wait_ready(self, name: str, status: str = "True", within: float = 10.0) -> Obj:
        async def ready() -> Obj | None:
            obj = await self.get(name)
            return obj if conditions.status_of(obj, "Ready") == status else None

        found = await eventually(ready, f"{name} Ready={status}", within)
        assert found is not None
        return found


@pytest.fixture
async def harness(
    kube: ApiClient, namespace: str, widgets_crd: ResourceRef
) -> AsyncIterator[Harness]:
    reconciler = WidgetReconciler()
    metrics = RuntimeMetrics()
    informer = Informer(kube, widgets_crd, namespace=namespace)
    controller = Controller(
        "Widget",
        widgets_crd,
        reconciler,
        informer,
        writer=KubeObjectWriter(kube, widgets_crd, "gotk-widget-controller"),
        events=EventRecorder(kube, "widget-controller"),
        metrics=metrics,
        settings=ControllerSettings(workers=2, min_retry_delay=0.2, max_retry_delay=5.0),
    )
    await controller.start_cache(timeout=30)
    task = asyncio.create_task(controller.run())
    try:
        yield Harness(kube, namespace, reconciler, controller, metrics)
    finally:
        controller.shutdown()
        await controller.wait_idle(5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await controller.stop_cache()


async def test_success_sets_ready_and_requeues_after_the_interval(harness: Harness) -> None:
    await harness.create("ok", mode="ok", interval="1s", version=3)
    obj = await harness.wait_ready("ok")
    assert obj["status"]["observedGeneration"] == 1
    assert FINALIZER in obj["metadata"]["finalizers"]
    assert conditions.get(obj, "Reconciling") is None
    assert conditions.get(obj, "Stalled") is None
    ready = conditions.get(obj, "Ready")
    assert ready is not None
    assert ready["message"] == "widget ok is fine"

    runs = await harness.wait_runs("ok", 3, within=10)
    gaps = [b - a for a, b in itertools.pairwise(runs)]
    assert all(0.95 <= g <= 2.5 for g in gaps), gaps  # 1s ± 5% jitter, plus API calls


async def test_transient_errors_back_off_exponentially(harness: Harness) -> None:
    await harness.create("flaky", mode="fail")
    runs = await harness.wait_runs("flaky", 5, within=15)
    gaps = [b - a for a, b in itertools.pairwise(runs)]
    expected = [0.2, 0.4, 0.8, 1.6]
    # Never earlier than the backoff; later by the API calls of a run (more on a busy machine).
    for gap, want in zip(gaps, expected, strict=False):
        assert want * 0.95 <= gap <= want + 1.5, (gaps, expected)
    assert gaps[3] > 2.5 * gaps[0], gaps
    # Between runs Ready is False; while one runs it is Unknown/Progressing (the progress report
    # is written before the reconciler is called, which is when a run is counted).
    obj = await harness.wait_ready("flaky", status="False")
    ready = conditions.get(obj, "Ready")
    assert ready is not None
    assert (ready["status"], ready["reason"]) == ("False", "ReconciliationFailed")
    assert "failed on purpose" in ready["message"]
    reconciling = conditions.get(obj, "Reconciling")
    assert reconciling is not None
    assert reconciling["reason"] == "ProgressingWithRetry"
    assert obj["status"].get("observedGeneration") is None

    async def warning_event() -> bool:
        events, _ = await list_all(harness.kube, EVENTS, namespace=harness.namespace)
        return any(
            e["involvedObject"]["name"] == "flaky" and e["type"] == "Warning" for e in events
        )

    await eventually(warning_event, "a Warning Event")

    # Fixing the spec resets the backoff: the next run comes at once and succeeds.
    await harness.patch("flaky", {"spec": {"mode": "ok"}})
    obj = await harness.wait_ready("flaky")
    assert obj["status"]["observedGeneration"] == 2

    async def forgotten() -> bool:
        return harness.controller.queue.num_requeues(f"{harness.namespace}/flaky") == 0

    await eventually(forgotten, "the failures forgotten")


async def test_requeue_after_waits_the_interval_with_jitter(harness: Harness) -> None:
    await harness.create("waiter", mode="wait", delay=0.4)
    runs = await harness.wait_runs("waiter", 4, within=10)
    gaps = [b - a for a, b in itertools.pairwise(runs)]
    assert all(0.4 * 0.95 <= g <= 0.4 * 1.05 + 1.0 for g in gaps), gaps
    ready = await harness.condition("waiter", "Ready")
    assert ready is not None
    assert (ready["status"], ready["reason"]) == ("Unknown", "Progressing")
    reconciling = await harness.condition("waiter", "Reconciling")
    assert reconciling is not None
    assert reconciling["status"] == "True"


async def test_terminal_errors_stall_until_the_spec_changes(harness: Harness) -> None:
    await harness.create("broken", mode="stall")
    obj = await harness.wait_ready("broken", "False")
    stalled = conditions.get(obj, "Stalled")
    assert stalled is not None
    assert stalled["reason"] == "InvalidWidget"
    assert conditions.get(obj, "Reconciling") is None
    assert obj["status"]["observedGeneration"] == 1
    assert conditions.kstatus(obj) == "Failed"

    assert await harness.idle_for("broken", result="stalled") is None  # no backoff retry
    assert len(harness.runs("broken")) == 1

    await harness.patch("broken", {"spec": {"mode": "ok"}})
    obj = await harness.wait_ready("broken")
    assert conditions.get(obj, "Stalled") is None
    assert obj["status"]["observedGeneration"] == 2
    assert len(harness.runs("broken")) == 2


async def test_requested_at_triggers_a_run_and_is_recorded(harness: Harness) -> None:
    await harness.create("manual", mode="ok", interval="1h")
    await harness.wait_ready("manual")
    later = await harness.idle_for("manual", result="success")
    assert later is not None
    assert later > 60, "the next run waits the interval"
    assert len(harness.runs("manual")) == 1, "our own status writes do not trigger runs"

    token = "2026-11-25T12:00:00.123456789Z"
    requested = time.monotonic()
    await harness.patch(
        "manual", {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": token}}}
    )
    runs = await harness.wait_runs("manual", 2, within=5)
    assert runs[1] - requested < 2.0

    async def handled() -> bool:
        return bool((await harness.get("manual"))["status"].get("lastHandledReconcileAt") == token)

    await eventually(handled, "the request handled")
    obj = await harness.get("manual")
    assert conditions.kstatus(obj) == "Current"
    later = await harness.idle_for("manual", result="success", count=2)
    assert later is not None
    assert later > 60
    assert len(harness.runs("manual")) == 2, "a handled request does not run again"


async def test_suspended_objects_are_skipped(harness: Harness) -> None:
    await harness.create("sleepy", mode="ok", suspend=True)
    assert await harness.idle_for("sleepy", result="suspended") is None
    assert harness.runs("sleepy") == []
    await harness.patch("sleepy", {"spec": {"suspend": False}})
    await harness.wait_ready("sleepy")
    assert len(harness.runs("sleepy")) == 1
    text = harness.metrics.exposition().decode()
    assert 'weir_reconcile_total{kind="Widget",result="suspended"}' in text


async def test_deletion_runs_finalize_and_removes_the_finalizer(harness: Harness) -> None:
    await harness.create("doomed", mode="ok")
    await harness.wait_ready("doomed")
    await apply.delete(harness.kube, WIDGETS, harness.namespace, "doomed")

    async def gone() -> bool:
        try:
            await harness.get("doomed")
        except NotFoundError:
            return True
        return False

    await eventually(gone, "doomed deleted")
    assert harness.reconciler.finalized == ["doomed"]


async def test_metrics_count_runs_and_objects(harness: Harness) -> None:
    await harness.create("m1", mode="ok")
    await harness.create("m2", mode="stall")
    await harness.wait_ready("m1")
    await harness.wait_ready("m2", "False")

    # Runs are counted when they end, after their status write and Event: poll for all of it.
    expected = [
        'weir_resources{kind="Widget",ready="False"} 1.0',
        'weir_resources{kind="Widget",ready="True"} 1.0',
        'weir_reconcile_total{kind="Widget",result="success"} 1.0',
        'weir_reconcile_total{kind="Widget",result="stalled"} 1.0',
        'weir_reconcile_duration_seconds_count{kind="Widget"} 2.0',
        'gotk_reconcile_duration_seconds_count{kind="Widget",name="m1"',
        'weir_workqueue_adds_total{controller="widget"} 2.0',
    ]

    async def counted() -> list[str]:
        text = harness.metrics.exposition().decode()
        missing = [line for line in expected if line not in text]
        return [] if missing else expected

    await eventually(counted, "the metrics")
