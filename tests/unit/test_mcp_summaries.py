"""Short descriptions of objects in lists."""

from __future__ import annotations

from datetime import UTC, datetime

from weir.mcp.summaries import age, summary

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_age() -> None:
    assert age("2026-01-02T03:04:00Z", NOW) == "5s"
    assert age("2026-01-02T02:00:05Z", NOW) == "1h4m"
    assert age("2025-12-30T03:04:05Z", NOW) == "3d"
    assert age(None, NOW) is None


def test_flux_objects_show_ready_revision_and_suspend() -> None:
    ks = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "fx"},
        "spec": {"suspend": True},
        "status": {
            "lastAppliedRevision": "main@sha1:abc",
            "conditions": [
                {"type": "Ready", "status": "False", "reason": "BuildFailed", "message": "x"}
            ],
        },
    }
    out = summary(ks)
    assert out["ready"] == "False"
    assert out["reason"] == "BuildFailed"
    assert out["revision"] == "main@sha1:abc"
    assert out["suspended"] is True


def test_pods_secrets_and_workloads() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "apps"},
        "spec": {"nodeName": "n1", "containers": [{"name": "main"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "main",
                    "ready": False,
                    "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                }
            ],
        },
    }
    out = summary(pod)
    assert out["containersReady"] == "0/1"
    assert out["restarts"] == 4
    assert out["waiting"] == ["main: CrashLoopBackOff"]
    assert out["health"] == "Failed"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db"},
        "type": "Opaque",
        "data": {"password": "aHVudGVy"},
    }
    assert summary(secret) == {"name": "db", "type": "Opaque", "keys": ["password"]}
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 2},
        "status": {"readyReplicas": 1},
    }
    assert summary(deploy)["ready"] == "1/2"
