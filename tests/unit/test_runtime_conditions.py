"""kstatus-compatible conditions."""

from __future__ import annotations

from typing import Any

import pytest

from weir.runtime import conditions, reasons
from weir.types import Obj


def _obj(generation: int = 1) -> Obj:
    return {"metadata": {"name": "x", "namespace": "ns", "generation": generation}}


def test_set_creates_with_generation_and_time() -> None:
    obj = _obj(3)
    cond = conditions.set_condition(obj, "Ready", "True", "Succeeded", "ok", now="T1")
    assert cond == {
        "type": "Ready",
        "status": "True",
        "observedGeneration": 3,
        "lastTransitionTime": "T1",
        "reason": "Succeeded",
        "message": "ok",
    }
    assert conditions.is_true(obj, "Ready")
    assert conditions.status_of(obj, "Missing") is None


def test_transition_time_moves_only_when_status_changes() -> None:
    obj = _obj(1)
    conditions.set_condition(obj, "Ready", "False", "A", "first", now="T1")
    obj["metadata"]["generation"] = 2
    conditions.set_condition(obj, "Ready", "False", "B", "second", now="T2")
    cond = conditions.get(obj, "Ready")
    assert cond is not None
    assert cond["lastTransitionTime"] == "T1"
    assert (cond["reason"], cond["message"], cond["observedGeneration"]) == ("B", "second", 2)
    conditions.set_condition(obj, "Ready", "True", "C", "third", now="T3")
    assert conditions.get(obj, "Ready") == {
        **cond,
        "status": "True",
        "reason": "C",
        "message": "third",
        "lastTransitionTime": "T3",
    }


def test_setting_the_same_condition_changes_nothing() -> None:
    obj = _obj()
    conditions.mark_true(obj, "Ready", "Succeeded", "ok")
    before = [dict(c) for c in conditions.conditions(obj)]
    conditions.set_condition(obj, "Ready", "True", "Succeeded", "ok", now="much later")
    assert conditions.conditions(obj) == before


def test_rejects_bad_status() -> None:
    with pytest.raises(ValueError, match="True, False or Unknown"):
        conditions.set_condition(_obj(), "Ready", "true", "r", "m")


def test_ready_reconciling_stalled_come_first() -> None:
    obj = _obj()
    conditions.mark_true(obj, "ArtifactInStorage", "Succeeded", "stored")
    conditions.mark_stalled(obj, "InvalidURL", "bad")
    conditions.mark_false(obj, "Ready", "InvalidURL", "bad")
    assert [c["type"] for c in conditions.conditions(obj)] == [
        "Ready",
        "Stalled",
        "ArtifactInStorage",
    ]


def test_progressing_and_delete_of_abnormal_true() -> None:
    obj = _obj()
    conditions.mark_progressing(obj)
    assert conditions.is_true(obj, reasons.RECONCILING)
    ready = conditions.get(obj, reasons.READY)
    assert ready is not None
    assert (ready["status"], ready["reason"]) == ("Unknown", "Progressing")
    conditions.delete(obj, reasons.RECONCILING)
    assert conditions.get(obj, reasons.RECONCILING) is None
    conditions.delete(obj, "NeverThere")
    conditions.delete({}, "Ready")


def test_summarize() -> None:
    obj = _obj()
    conditions.mark_true(obj, "ArtifactInStorage", "Succeeded", "stored")
    ready = conditions.summarize(
        obj, ["FetchFailed", "ArtifactInStorage"], negative={"FetchFailed"}
    )
    assert (ready["status"], ready["reason"]) == ("True", "Succeeded")

    conditions.mark_true(obj, "FetchFailed", "GitOperationFailed", "clone failed")
    ready = conditions.summarize(
        obj, ["FetchFailed", "ArtifactInStorage"], negative={"FetchFailed"}
    )
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "False",
        "GitOperationFailed",
        "clone failed",
    )

    conditions.delete(obj, "FetchFailed")
    conditions.mark_unknown(obj, "ArtifactInStorage", "Progressing", "storing")
    ready = conditions.summarize(obj, ["Stalled", "ArtifactInStorage"])
    assert (ready["status"], ready["reason"]) == ("Unknown", "Progressing")

    conditions.mark_stalled(obj, "InvalidURL", "no scheme")
    ready = conditions.summarize(obj, ["Stalled", "ArtifactInStorage"])
    assert (ready["status"], ready["reason"]) == ("False", "InvalidURL")


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda o: None, "Current"),
        (lambda o: conditions.mark_true(o, "Ready", "Succeeded", "ok"), "Current"),
        (lambda o: conditions.mark_false(o, "Ready", "Failed", "no"), "InProgress"),
        (conditions.mark_progressing, "InProgress"),
        (lambda o: conditions.mark_stalled(o, "Bad", "bad"), "Failed"),
        (lambda o: o["status"].update(observedGeneration=1), "InProgress"),
        (lambda o: o["metadata"].update(deletionTimestamp="now"), "Terminating"),
    ],
)
def test_kstatus(setup: Any, expected: str) -> None:
    obj = _obj(2)
    obj["status"] = {"observedGeneration": 2}
    setup(obj)
    assert conditions.kstatus(obj) == expected
