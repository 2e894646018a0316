"""weir.helm.drift: the pure parts (selectors, JSON pointers, diffs, reports)."""

from __future__ import annotations

from typing import Any

import pytest

from weir.api.meta import IgnoreRule as IgnoreModel
from weir.helm.drift import (
    DriftReport,
    IgnoreRule,
    ObjectDrift,
    Selector,
    comparable,
    json_diff,
    match_label_selector,
    parse_manifest,
    remove_pointer,
    selects,
)
from weir.helmengine.errors import DriftError

DEPLOY: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "app-web",
        "namespace": "apps",
        "labels": {"tier": "web", "team": "a"},
        "annotations": {"owner": "x"},
        "resourceVersion": "12",
        "managedFields": [{}],
        "uid": "u",
    },
    "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}},
    "status": {"readyReplicas": 2},
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("tier=web", True),
        ("tier==web,team=a", True),
        ("tier!=web", False),
        ("missing!=x", True),
        ("tier", True),
        ("!tier", False),
        ("!missing", True),
        ("tier in (web, api)", True),
        ("tier notin (web)", False),
        ("team in (b),tier", False),
    ],
)
def test_label_selector(selector: str, expected: bool) -> None:
    assert match_label_selector(selector, {"tier": "web", "team": "a"}) is expected


def test_label_selector_invalid() -> None:
    with pytest.raises(DriftError):
        match_label_selector("a in b", {})


def test_selects() -> None:
    assert selects(None, DEPLOY)
    assert selects(Selector(group="apps", version="v1", kind="Deployment"), DEPLOY)
    assert selects(Selector(name="app-.*", namespace="apps"), DEPLOY)
    assert not selects(Selector(name="app"), DEPLOY)  # anchored
    assert selects(
        Selector(kind="ConfigMap", version="v1"), {"apiVersion": "v1", "kind": "ConfigMap"}
    )
    assert selects(Selector(annotation_selector="owner=x"), DEPLOY)
    assert not selects(Selector(label_selector="tier=api"), DEPLOY)


def test_remove_pointer() -> None:
    obj = {"a": {"b/c": 1, "t~": 2, "l": [0, 1, 2]}, "k": 1}
    remove_pointer(obj, "/a/b~1c")
    remove_pointer(obj, "/a/t~0")
    remove_pointer(obj, "/a/l/1")
    remove_pointer(obj, "/nope/deeper")
    remove_pointer(obj, "/a/l/9")
    assert obj == {"a": {"l": [0, 2]}, "k": 1}


def test_json_diff() -> None:
    old = {"a": 1, "b": {"c": [1, 2]}, "gone": True, "s/x": 1}
    new = {"a": 2, "b": {"c": [1, 2, 3]}, "new": {"x": 1}, "s/x": 1}
    assert json_diff(old, new) == [
        {"op": "remove", "path": "/gone"},
        {"op": "replace", "path": "/a", "value": 2},
        {"op": "replace", "path": "/b/c", "value": [1, 2, 3]},
        {"op": "add", "path": "/new", "value": {"x": 1}},
    ]
    assert json_diff({"a": 1}, {"a": 1}) == []
    assert json_diff({"a": 1}, {"a": 1.0}) == [{"op": "replace", "path": "/a", "value": 1.0}]


def test_comparable_drops_server_fields_and_ignored_paths() -> None:
    rules = [
        IgnoreRule(("/spec/replicas",), Selector(kind="Deployment")),
        IgnoreRule(("/metadata/annotations/owner",), Selector(kind="ConfigMap")),
    ]
    out = comparable(DEPLOY, rules, DEPLOY)
    assert "status" not in out
    assert set(out["metadata"]) == {"name", "namespace", "labels", "annotations"}
    assert "replicas" not in out["spec"]
    assert out["metadata"]["annotations"] == {"owner": "x"}  # rule targets ConfigMaps only
    assert DEPLOY["spec"]["replicas"] == 2  # not modified


def test_report_summary() -> None:
    report = DriftReport()
    assert not report.drifted
    assert report.summary() == "no drift detected"
    report.drifts.append(
        ObjectDrift("update", DEPLOY, ({"op": "replace", "path": "/spec/replicas", "value": 2},))
    )
    report.drifts.append(
        ObjectDrift("create", {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "apps"}})
    )
    assert report.drifted
    assert report.summary() == (
        "Deployment/apps/app-web changed (/spec/replicas), ConfigMap/apps/c removed"
    )


def test_parse_manifest() -> None:
    docs = parse_manifest(
        "---\n# Source: x\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
    )
    assert [d["metadata"]["name"] for d in docs] == ["a"]
    with pytest.raises(DriftError):
        parse_manifest("a: [\n")


def test_ignore_rule_from_model() -> None:
    model = IgnoreModel.model_validate(
        {"paths": ["/spec/replicas"], "target": {"kind": "Deployment", "labelSelector": "a=b"}}
    )
    rule = IgnoreRule.from_model(model)
    assert rule.paths == ("/spec/replicas",)
    assert rule.target == Selector(kind="Deployment", label_selector="a=b")
