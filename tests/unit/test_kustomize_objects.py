"""What happens to built objects before apply: YAML reading, output parsing, normalization,
commonMetadata, owner labels, policy annotations, drift comparison and the kubectl take-over."""

from __future__ import annotations

from typing import Any

import pytest

from weir import yamlio
from weir.kube.errors import ConflictError, InvalidError, ServerError
from weir.kube.inventory import Entry
from weir.kustomize import metadata as md
from weir.kustomize.build import parse_output
from weir.kustomize.errors import BuildError
from weir.ssa.apply import Action, Change, ChangeSet, drifted, is_immutable_error
from weir.ssa.cleanup import cleanup_patch


def test_yaml_reads_like_kubernetes() -> None:
    doc = yamlio.load("a: 12:30\nb: 2024-01-01\nc: =\nd: 1e3\ne: yes\nf: 0755\ng: 0x1F\nh: ~\n")
    assert doc == {
        "a": "12:30",
        "b": "2024-01-01",
        "c": "=",
        "d": 1000.0,
        "e": True,
        "f": 493,
        "g": 31,
        "h": None,
    }
    for value in ("1e3", "12:30", "yes", "2024-01-01", "8080", "multi\nline\n", "${X}"):
        assert yamlio.load(yamlio.dump({"v": value})) == {"v": value}


def test_parse_output() -> None:
    first = "apiVersion: v1\nkind: A\nmetadata:\n  name: a\n"
    second = "apiVersion: v1\nkind: B\nmetadata:\n  name: b\n  namespace: n\n"
    out = first + "---\n---\n" + second
    manifests = parse_output(out)
    assert [m.display for m in manifests] == ["A/a", "B/n/b"]
    assert manifests[1].text == second
    assert parse_output("") == []
    with pytest.raises(BuildError, match=r"no metadata\.name"):
        parse_output("apiVersion: v1\nkind: A\nmetadata: {}\n")
    with pytest.raises(BuildError, match="not an object"):
        parse_output("just: data\n")


def test_normalize() -> None:
    deploy: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "creationTimestamp": None},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "c",
                            "ports": [
                                {"containerPort": 80},
                                {"containerPort": 53, "protocol": "UDP"},
                            ],
                        }
                    ]
                }
            }
        },
        "status": {"replicas": 1},
    }
    out = md.normalize(deploy)
    assert out["metadata"] == {"name": "d"}
    assert "status" not in out
    ports = out["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert [p["protocol"] for p in ports] == ["TCP", "UDP"]
    assert "protocol" not in deploy["spec"]["template"]["spec"]["containers"][0]["ports"][0]

    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"a": "YQ=="},
        "stringData": {"b": "b"},
    }
    assert md.normalize(secret)["data"] == {"a": "YQ==", "b": "Yg=="}
    assert "stringData" not in md.normalize(secret)

    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80}]},
    }
    assert md.normalize(svc)["spec"]["ports"] == [{"port": 80, "protocol": "TCP"}]
    crd = {"kind": "CustomResourceDefinition", "metadata": {"name": "c"}, "status": {}}
    assert "status" in md.normalize(crd)


def test_prepare_sets_common_metadata_then_owner_labels() -> None:
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "labels": {"team": "a"}, "annotations": {"x": "1"}},
    }
    (out,) = md.prepare(
        [obj],
        name="apps",
        namespace="flux-system",
        labels={"team": "b", "kustomize.toolkit.fluxcd.io/name": "spoofed"},
        annotations={"y": "2"},
    )
    assert out["metadata"]["labels"] == {
        "team": "b",
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    }
    assert out["metadata"]["annotations"] == {"x": "1", "y": "2"}
    assert obj["metadata"]["labels"] == {"team": "a"}


def test_policies_match_case_insensitively() -> None:
    obj = {"metadata": {"labels": {md.SSA_KEY: "merge"}, "annotations": {md.FORCE_KEY: "ENABLED"}}}
    assert md.has_policy(obj, md.SSA_KEY, md.SSA_MERGE)
    assert md.has_policy(obj, md.FORCE_KEY, md.ENABLED)
    assert not md.has_policy(obj, md.SSA_KEY, md.SSA_IGNORE)
    assert md.policy(obj, md.SSA_KEY) == "merge"
    assert md.policy({}, md.SSA_KEY) is None


def test_drift_ignores_metadata_but_labels_and_annotations() -> None:
    live: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "c",
            "resourceVersion": "1",
            "managedFields": [],
            "labels": {"a": "1"},
        },
        "data": {"k": "v"},
    }
    same = {**live, "metadata": {**live["metadata"], "resourceVersion": "2", "managedFields": [1]}}
    assert not drifted(live, same)
    assert drifted(live, {**live, "data": {"k": "w"}})
    assert drifted(live, {**live, "metadata": {**live["metadata"], "labels": {"a": "2"}}})
    assert not drifted(live, {**live, "status": {"x": 1}})


def status(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


def test_immutable_errors() -> None:
    assert is_immutable_error(InvalidError("PATCH", "/x", status(422, "spec: field is immutable")))
    assert is_immutable_error(ConflictError("PATCH", "/x", status(409, "conflict")))
    assert is_immutable_error(ServerError("PATCH", "/x", status(500, "webhook: immutable")))
    assert not is_immutable_error(ServerError("PATCH", "/x", status(500, "etcd down")))


def test_cleanup_takes_over_kubectl_fields() -> None:
    live: dict[str, Any] = {
        "metadata": {
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "keep": "1"},
            "labels": {"fluxcd.io/sync-gc-mark": "x"},
            "managedFields": [
                {
                    "manager": "kubectl-client-side-apply",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:data": {"f:a": {}}},
                },
                {
                    "manager": "kustomize-controller",
                    "operation": "Apply",
                    "apiVersion": "v1",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:data": {"f:b": {}}},
                },
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:status": {}},
                },
            ],
        }
    }
    patch = cleanup_patch(live, "kustomize-controller")
    assert patch is not None
    fields = patch[0]["value"]
    assert patch[0]["op"] == "replace"
    assert patch[0]["path"] == "/metadata/managedFields"
    assert [(f["manager"], f["operation"]) for f in fields] == [
        ("kube-controller-manager", "Update"),
        ("kustomize-controller", "Apply"),
    ]
    assert fields[1]["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}
    assert patch[1:] == [
        {
            "op": "remove",
            "path": "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration",
        },
        {"op": "remove", "path": "/metadata/labels/fluxcd.io~1sync-gc-mark"},
    ]
    clean = {"metadata": {"managedFields": live["metadata"]["managedFields"][1:]}}
    assert cleanup_patch(clean, "kustomize-controller") is None


def test_change_set() -> None:
    def change(name: str, action: Action) -> Change:
        obj = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "n"},
        }
        return Change(Entry.of(obj), action)

    changes = ChangeSet(
        [
            change("a", Action.CREATED),
            change("b", Action.UNCHANGED),
            change("c", Action.SKIPPED),
            change("d", Action.DELETED),
        ]
    )
    assert changes.to_map() == {
        "n_a__ConfigMap": "created",
        "n_b__ConfigMap": "unchanged",
        "n_c__ConfigMap": "skipped",
        "n_d__ConfigMap": "deleted",
    }
    assert [e.ref.name for e in changes.entries()] == ["a", "b", "c"]
    assert str(changes) == "ConfigMap/n/a created\nConfigMap/n/d deleted"
