"""FluxReport pieces and the Flux Operator metrics (no cluster)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from weir.api.kinds import KINDS
from weir.operator.instance.history import MAX_SIZE, record
from weir.operator.report.build import human_size, reconciler_stats, sync_section
from weir.operator.report.metrics import OperatorMetrics, resource_labels

Obj = dict[str, Any]


def _obj(
    kind: str, name: str, *, ready: str = "True", spec: Obj | None = None, **status: Any
) -> Obj:
    conditions = [{"type": "Ready", "status": ready, "reason": "Succeeded", "message": "ok"}]
    return {
        "apiVersion": KINDS[kind].api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": "flux-system", "uid": f"uid-{name}"},
        "spec": spec or {},
        "status": {"conditions": conditions, **status},
    }


def _samples(registry: CollectorRegistry, name: str) -> list[dict[str, str]]:
    text = generate_latest(registry).decode()
    return [
        dict(s.labels)
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    ]


def test_resource_labels_per_kind() -> None:
    ks = _obj(
        "Kustomization",
        "apps",
        spec={"path": "./apps", "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
        lastAppliedRevision="main@sha1:abc",
    )
    assert resource_labels(ks) == {
        "uid": "uid-apps",
        "kind": "Kustomization",
        "name": "apps",
        "exported_namespace": "flux-system",
        "ready": "True",
        "reason": "Succeeded",
        "suspended": "False",
        "revision": "main@sha1:abc",
        "url": "",
        "ref": "",
        "source_name": "fleet",
        "path": "./apps",
    }
    git = _obj(
        "GitRepository",
        "fleet",
        ready="False",
        spec={"url": "https://git/fleet", "ref": {"branch": "main"}, "suspend": True},
        artifact={"revision": "main@sha1:abc"},
    )
    labels = resource_labels(git)
    assert (labels["url"], labels["ref"], labels["revision"]) == (
        "https://git/fleet",
        "main",
        "main@sha1:abc",
    )
    assert (labels["ready"], labels["suspended"], labels["path"]) == ("False", "True", "")
    hr = _obj(
        "HelmRelease",
        "grafana",
        spec={"chart": {"spec": {"sourceRef": {"kind": "HelmRepository", "name": "charts"}}}},
    )
    assert resource_labels(hr)["source_name"] == "charts"


def test_metrics_are_replaced_not_accumulated() -> None:
    registry = CollectorRegistry()
    metrics = OperatorMetrics(registry)
    instance = _obj("FluxInstance", "flux")
    metrics.set_instance(
        instance, ready="Unknown", reason="Progressing", registry="ghcr.io/fluxcd", revision="r1"
    )
    metrics.set_instance(
        instance,
        ready="True",
        reason="ReconciliationSucceeded",
        registry="ghcr.io/fluxcd",
        revision="r1",
    )
    [sample] = _samples(registry, "flux_instance_info")
    assert sample["ready"] == "True"
    assert sample["revision"] == "r1"
    assert sample["exported_namespace"] == "flux-system"
    assert metrics.set_resources([_obj("GitRepository", "a"), _obj("GitRepository", "b")]) == 2
    assert {s["name"] for s in _samples(registry, "flux_resource_info")} == {"a", "b"}
    metrics.set_resources([_obj("GitRepository", "b")])
    assert {s["name"] for s in _samples(registry, "flux_resource_info")} == {"b"}
    metrics.forget_instance("uid-flux")
    assert _samples(registry, "flux_instance_info") == []


def test_reconciler_stats_count_and_size_sources() -> None:
    objects = [
        _obj("GitRepository", "a", artifact={"size": 3 * 1024 * 1024}),
        _obj("GitRepository", "b", ready="False", artifact={"size": 700 * 1024}),
        {**_obj("GitRepository", "c"), "spec": {"suspend": True}},
    ]
    assert reconciler_stats(KINDS["GitRepository"], objects) == {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "stats": {"running": 2, "failing": 1, "suspended": 1, "totalSize": "3.7 MiB"},
    }
    assert "totalSize" not in reconciler_stats(KINDS["Kustomization"], [])["stats"]
    assert human_size(0) == "0 B"
    assert human_size(80_000) == "78.1 KiB"


def test_sync_section_reads_the_sync_kustomization() -> None:
    ks = _obj(
        "Kustomization",
        "flux-system",
        spec={
            "path": "clusters/etherwurst",
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
        },
    )
    git = _obj("GitRepository", "flux-system", spec={"url": "https://git/fleet"})
    instance = {"spec": {"sync": {"kind": "GitRepository"}}}
    objects = {"Kustomization": [ks], "GitRepository": [git]}
    assert sync_section(instance, "flux-system", objects) == {
        "id": "kustomization/flux-system",
        "ready": True,
        "status": "ok",
        "path": "clusters/etherwurst",
        "source": "https://git/fleet",
    }
    assert sync_section({"spec": {}}, "flux-system", objects) is None


def test_history_dedups_by_digest_and_status_and_keeps_five() -> None:
    status: Obj = {}
    record(status, "sha256:a", "ReconciliationSucceeded", 1.5, {"flux": "v2.9.0"}, at="t1")
    record(status, "sha256:a", "ReconciliationSucceeded", 2.0, {"flux": "v2.9.0"}, at="t2")
    assert len(status["history"]) == 1
    first = status["history"][0]
    assert (first["firstReconciled"], first["lastReconciled"]) == ("t1", "t2")
    assert first["totalReconciliations"] == 2
    assert first["lastReconciledDuration"] == "2s"
    record(status, "sha256:a", "BuildFailed", 0.1, {}, at="t3")
    assert [h["lastReconciledStatus"] for h in status["history"]] == [
        "BuildFailed",
        "ReconciliationSucceeded",
    ]
    for i in range(10):
        record(status, f"sha256:{i}", "ReconciliationSucceeded", 1, {}, at=f"u{i}")
    assert len(status["history"]) == MAX_SIZE
    assert status["history"][0]["digest"] == "sha256:9"
