"""The status merge patch and the event filter."""

from __future__ import annotations

from weir.runtime.predicates import ChangeFilter
from weir.runtime.status import merge_patch, status_patch


def test_merge_patch() -> None:
    before = {"a": 1, "b": {"c": 1, "d": 2}, "e": [1, 2], "gone": True}
    after = {"a": 1, "b": {"c": 1, "d": 3}, "e": [1], "new": "x"}
    assert merge_patch(before, after) == {"b": {"d": 3}, "e": [1], "new": "x", "gone": None}
    assert merge_patch(after, after) == {}
    assert merge_patch({"m": {"k": 1}}, {"m": {}}) == {"m": {}}


def test_status_patch_only_covers_status() -> None:
    before = {"metadata": {"name": "x"}, "spec": {"a": 1}}
    after = {"metadata": {"name": "y"}, "spec": {"a": 2}, "status": {"observedGeneration": 1}}
    assert status_patch(before, after) == {"observedGeneration": 1}
    assert status_patch(after, after) == {}


def _o(gen: int, rv: str, annotations: dict[str, str] | None = None, **meta: str) -> dict:  # type: ignore[type-arg]
    return {
        "metadata": {
            "name": "x",
            "generation": gen,
            "resourceVersion": rv,
            "annotations": annotations or {},
            **meta,
        },
        "status": {"rv": rv},
    }


def test_filter_skips_status_only_updates() -> None:
    f = ChangeFilter()
    assert f.should_enqueue("ADDED", "ns/x", _o(1, "1"))
    assert not f.should_enqueue("MODIFIED", "ns/x", _o(1, "2")), "status update"
    assert not f.should_enqueue("ADDED", "ns/x", _o(1, "3")), "relist of a known object"
    assert f.should_enqueue("MODIFIED", "ns/x", _o(2, "4")), "spec change"
    assert f.should_enqueue(
        "MODIFIED", "ns/x", _o(2, "5", {"reconcile.fluxcd.io/requestedAt": "t1"})
    ), "reconcile request"
    assert not f.should_enqueue(
        "MODIFIED", "ns/x", _o(2, "6", {"reconcile.fluxcd.io/requestedAt": "t1"})
    )
    assert f.should_enqueue(
        "MODIFIED",
        "ns/x",
        _o(2, "7", {"reconcile.fluxcd.io/requestedAt": "t1"}, deletionTimestamp="now"),
    ), "deletion"
    assert f.should_enqueue("DELETED", "ns/x", _o(2, "8"))
    assert f.should_enqueue("ADDED", "ns/x", _o(1, "9")), "a new object of the same name"
