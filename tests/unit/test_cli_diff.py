"""`weir diff ks` without a cluster: which fields change, masking of Secret values, the fields
the take-over of kubectl's fields removes, and the text it prints."""

from __future__ import annotations

from typing import Any

from weir.actions.diff import (
    DiffResult,
    FieldChange,
    KustomizationDiff,
    ObjectDiff,
    changes_between,
    comparable,
    dropped_fields,
    field_changes,
)
from weir.actions.masking import MASK_AFTER, MASK_BEFORE
from weir.cli.diff import render, summary, value_lines
from weir.kube.inventory import ObjectRef
from weir.ssa.apply import Action

DEPLOY: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web",
        "namespace": "apps",
        "uid": "1",
        "resourceVersion": "7",
        "labels": {"app.kubernetes.io/name": "web"},
    },
    "spec": {
        "replicas": 1,
        "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}},
    },
    "status": {"replicas": 1},
}


def changed(**spec: Any) -> dict[str, Any]:
    return {**DEPLOY, "spec": {**DEPLOY["spec"], **spec}}


def test_comparable_is_what_the_controller_compares() -> None:
    assert comparable(DEPLOY) == {
        "metadata": {"labels": {"app.kubernetes.io/name": "web"}, "annotations": {}},
        "spec": DEPLOY["spec"],
    }


def test_field_changes_are_leaf_paths() -> None:
    after = changed(
        replicas=3,
        template={"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}},
        paused=True,
    )
    after["metadata"] = {**DEPLOY["metadata"], "labels": {"team": "web"}}
    assert field_changes(comparable(DEPLOY), comparable(after)) == [
        FieldChange('metadata.labels["app.kubernetes.io/name"]', "web", None, has_after=False),
        FieldChange("metadata.labels.team", None, "web", has_before=False),
        FieldChange("spec.replicas", 1, 3),
        FieldChange("spec.template.spec.containers[0].image", "nginx:1.25", "nginx:1.27"),
        FieldChange("spec.paused", None, True, has_before=False),
    ]
    assert field_changes(comparable(DEPLOY), comparable(DEPLOY)) == []
    assert field_changes([1, 2], [1, 2, 3], "x") == [FieldChange("x", [1, 2], [1, 2, 3])]


def test_secret_values_never_show() -> None:
    live = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "eA=="}}
    merged = {**live, "data": {"a": "eQ==", "b": "eg=="}}
    assert [c.to_dict() for c in changes_between(live, merged)] == [
        {"path": "data.a", "before": MASK_BEFORE, "after": MASK_AFTER},
        {"path": "data.b", "after": MASK_AFTER},
    ]
    whole = changes_between({**live, "data": None}, merged)
    assert whole == [FieldChange("data", MASK_BEFORE, {"a": MASK_AFTER, "b": MASK_AFTER})]


def test_fields_only_kubectl_set_are_dropped_by_the_take_over() -> None:
    live = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "c",
            "labels": {"extra": "1", "shared": "x", "team": "web"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{" + "x" * 100},
            "managedFields": [
                {
                    "manager": "kubectl-label",
                    "operation": "Update",
                    "fieldsV1": {"f:metadata": {"f:labels": {"f:extra": {}, "f:shared": {}}}},
                },
                {
                    "manager": "kubectl-client-side-apply",
                    "operation": "Update",
                    "fieldsV1": {
                        "f:metadata": {
                            "f:annotations": {
                                ".": {},
                                "f:kubectl.kubernetes.io/last-applied-configuration": {},
                            }
                        },
                        "f:data": {"f:old": {}, "f:color": {}},
                    },
                },
                {
                    "manager": "helm",
                    "operation": "Update",
                    "fieldsV1": {"f:metadata": {"f:labels": {"f:shared": {}}}},
                },
            ],
        },
        "data": {"old": "1", "color": "blue"},
    }
    manifest = {"metadata": {"name": "c", "labels": {"team": "web"}}, "data": {"color": "green"}}
    dropped = dropped_fields(live, manifest)
    assert [c.path for c in dropped] == [
        "metadata.labels.extra",
        'metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]',
        "data.old",
    ]
    assert not any(c.has_after for c in dropped)
    assert str(dropped[1].before).endswith("…")
    assert len(str(dropped[1].before)) == 60


def result() -> DiffResult:
    def ref(kind: str, name: str) -> ObjectRef:
        return ObjectRef("apps", name, "", kind)

    return DiffResult(
        [
            KustomizationDiff(
                "flux-system",
                "apps",
                [
                    ObjectDiff(ref("ConfigMap", "same"), "v1", Action.UNCHANGED),
                    ObjectDiff(ref("ConfigMap", "new"), "v1", Action.CREATED),
                    ObjectDiff(
                        ref("ConfigMap", "conf"),
                        "v1",
                        Action.CONFIGURED,
                        [
                            FieldChange("data.n", "1", "2"),
                            FieldChange("data.text", None, "a\nb\n", has_before=False),
                            FieldChange("data.m", {"k": ["v"]}, None, has_after=False),
                        ],
                        note="takes over the fields managed by kubectl",
                    ),
                    ObjectDiff(ref("Secret", "s"), "v1", Action.SKIPPED),
                    ObjectDiff(ref("ConfigMap", "old"), "v1", Action.DELETED),
                ],
            )
        ]
    )


def test_text_output() -> None:
    assert render(result()) == (
        "► ConfigMap/apps/new created\n"
        "► ConfigMap/apps/conf configured (takes over the fields managed by kubectl)\n"
        "  data.n\n"
        "    - '1'\n"
        "    + '2'\n"
        "  data.text\n"
        "    + a\n"
        "      b\n"
        "  data.m\n"
        "    - k:\n"
        "      - v\n"
        "► ConfigMap/apps/old deleted\n"
    )
    assert summary(result()) == "✗ changes: 1 created, 1 configured, 1 deleted"
    assert summary(DiffResult([KustomizationDiff("a", "b")])) == "✔ no changes"
    assert result().differs
    assert value_lines("+", MASK_AFTER) == [f"    + {MASK_AFTER}"]
    assert value_lines("-", "") == ["    - ''"]
    assert value_lines("-", None) == ["    - null"]


def test_json_output() -> None:
    data = result().to_dict()
    assert data["differs"] is True
    objects = data["kustomizations"][0]["objects"]
    assert objects[0] == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "namespace": "apps",
        "name": "same",
        "action": "unchanged",
    }
    assert objects[2]["changes"][1] == {"path": "data.text", "after": "a\nb\n"}
