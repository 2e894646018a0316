"""Result handling: how each outcome shows in status."""

from __future__ import annotations

import pytest

from weir.runtime import conditions, outcome, reasons
from weir.runtime.result import (
    Outcome,
    ReconcileError,
    Result,
    Stalled,
    result_from_exception,
)
from weir.types import Obj


def _obj(generation: int = 2, annotations: dict[str, str] | None = None) -> Obj:
    obj: Obj = {
        "metadata": {"name": "x", "namespace": "ns", "generation": generation},
        "status": {"observedGeneration": 1},
    }
    if annotations:
        obj["metadata"]["annotations"] = annotations
    conditions.mark_progressing(obj)
    return obj


def _types(obj: Obj) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in conditions.conditions(obj)}


def test_success() -> None:
    obj = _obj()
    outcome.apply_outcome(obj, Result.success("Applied revision: main@sha1:abc"))
    assert _types(obj) == {"Ready": ("True", "Succeeded")}
    assert obj["status"]["observedGeneration"] == 2
    assert conditions.kstatus(obj) == "Current"


def test_waiting_progressing_keeps_reconciling() -> None:
    obj = _obj()
    outcome.apply_outcome(obj, Result.requeue_after(5, "waiting for rollout"))
    assert _types(obj) == {
        "Ready": ("Unknown", "Progressing"),
        "Reconciling": ("True", "Progressing"),
    }
    assert obj["status"]["observedGeneration"] == 1
    assert conditions.kstatus(obj) == "InProgress"


def test_waiting_with_a_reason_is_ready_false() -> None:
    obj = _obj()
    r = Result.requeue_after(30, "dependency 'ns/a' is not ready", reason="DependencyNotReady")
    outcome.apply_outcome(obj, r)
    assert _types(obj) == {
        "Ready": ("False", "DependencyNotReady"),
        "Reconciling": ("True", "ProgressingWithRetry"),
    }


def test_stalled_is_terminal_and_observes_the_generation() -> None:
    obj = _obj()
    outcome.apply_outcome(obj, result_from_exception(Stalled("InvalidURL", "no scheme")))
    assert _types(obj) == {"Ready": ("False", "InvalidURL"), "Stalled": ("True", "InvalidURL")}
    assert obj["status"]["observedGeneration"] == 2
    assert conditions.kstatus(obj) == "Failed"


def test_failure_retries() -> None:
    obj = _obj()
    outcome.apply_outcome(obj, result_from_exception(RuntimeError("connection refused")))
    assert _types(obj) == {
        "Ready": ("False", "ReconciliationFailed"),
        "Reconciling": ("True", "ProgressingWithRetry"),
    }
    ready = conditions.get(obj, "Ready")
    assert ready is not None
    assert ready["message"] == "connection refused"
    assert obj["status"]["observedGeneration"] == 1


def test_success_after_stall_clears_stalled() -> None:
    obj = _obj()
    outcome.apply_outcome(obj, Result.stalled("Bad", "bad"))
    outcome.apply_outcome(obj, Result.success())
    assert _types(obj) == {"Ready": ("True", "Succeeded")}


def test_requested_at_is_recorded_on_every_outcome() -> None:
    for result in (
        Result.success(),
        Result.requeue_after(1),
        Result.stalled("A", "b"),
        Result.failed("A", "b"),
    ):
        obj = _obj(annotations={reasons.RECONCILE_REQUEST_ANNOTATION: "2026-01-01T00:00:00Z"})
        assert outcome.request_pending(obj)
        outcome.apply_outcome(obj, result)
        assert obj["status"]["lastHandledReconcileAt"] == "2026-01-01T00:00:00Z"
        assert not outcome.request_pending(obj)


def test_needs_progress_report() -> None:
    obj: Obj = {"metadata": {"generation": 1}, "status": {"observedGeneration": 1}}
    assert outcome.needs_progress_report(obj), "not Ready yet"
    conditions.mark_true(obj, "Ready", "Succeeded", "ok")
    assert not outcome.needs_progress_report(obj), "a routine interval run"
    obj["metadata"]["generation"] = 2
    assert outcome.needs_progress_report(obj), "new spec"
    obj["status"]["observedGeneration"] = 2
    obj["metadata"]["annotations"] = {reasons.RECONCILE_REQUEST_ANNOTATION: "now"}
    assert outcome.needs_progress_report(obj), "manual request"


def test_result_constructors() -> None:
    assert Result.success().outcome is Outcome.SUCCEEDED
    assert Result.success(requeue_after=3).delay == 3
    assert Result.requeue_after(2).delay == 2
    with pytest.raises(ValueError, match="zero or more"):
        Result.requeue_after(-1)
    err = result_from_exception(ReconcileError("BuildFailed", "kustomize failed", revision="r1"))
    assert (err.outcome, err.reason, err.revision) == (Outcome.FAILED, "BuildFailed", "r1")
    assert result_from_exception(RuntimeError()).message == "RuntimeError"
    long = result_from_exception(RuntimeError("x" * 10_000), max_message=100)
    assert len(long.message) == 100
    assert long.message.endswith("...")
