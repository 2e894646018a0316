"""kstatus rules on realistic status blobs, and healthCheckExprs in CEL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from weir.api.meta import CustomHealthCheck
from weir.kube.kstatus import Status, compute
from weir.kustomize.errors import InvalidCELExpressionError
from weir.ssa.celhealth import HealthRules

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def cond(kind: str, status: str, reason: str = "", message: str = "") -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": message}


def deployment(replicas: int = 2, generation: int = 3, **status: Any) -> dict[str, Any]:
    full = {
        "observedGeneration": 3,
        "replicas": 2,
        "updatedReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 2,
        "conditions": [
            cond("Available", "True", "MinimumReplicasAvailable"),
            cond("Progressing", "True", "NewReplicaSetAvailable"),
        ],
    }
    full.update(status)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "apps", "generation": generation},
        "spec": {"replicas": replicas},
        "status": full,
    }


@pytest.mark.parametrize(
    ("obj", "status", "message"),
    [
        (deployment(), Status.CURRENT, "Deployment is available. Replicas: 2"),
        (deployment(generation=4), Status.IN_PROGRESS, "generation is 4, but latest observed"),
        (deployment(replicas=3), Status.IN_PROGRESS, "Replicas: 2/3"),
        (deployment(updatedReplicas=1), Status.IN_PROGRESS, "Updated: 1/2"),
        (deployment(replicas=1), Status.IN_PROGRESS, "Pending termination: 1"),
        (deployment(availableReplicas=1), Status.IN_PROGRESS, "Available: 1/2"),
        (deployment(readyReplicas=1), Status.IN_PROGRESS, "Ready: 1/2"),
        (
            deployment(conditions=[cond("Progressing", "False", "ProgressDeadlineExceeded")]),
            Status.FAILED,
            "Progress deadline exceeded",
        ),
        (
            deployment(
                conditions=[
                    cond("Progressing", "True", "ReplicaSetUpdated"),
                    cond("Available", "True"),
                ]
            ),
            Status.IN_PROGRESS,
            "ReplicaSet not Available",
        ),
        (
            deployment(
                conditions=[
                    cond("Progressing", "True", "NewReplicaSetAvailable"),
                    cond("Available", "False"),
                ]
            ),
            Status.IN_PROGRESS,
            "Deployment not Available",
        ),
    ],
)
def test_deployment(obj: dict[str, Any], status: Status, message: str) -> None:
    result = compute(obj)
    assert result.status is status
    assert message in result.message


def sts(**status: Any) -> dict[str, Any]:
    base = {
        "observedGeneration": 1,
        "replicas": 3,
        "readyReplicas": 3,
        "currentReplicas": 3,
        "updatedReplicas": 3,
        "currentRevision": "web-1",
        "updateRevision": "web-1",
    }
    base.update(status)
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "generation": 1},
        "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}},
        "status": base,
    }


def test_statefulset() -> None:
    assert compute(sts()).status is Status.CURRENT
    assert compute(sts(readyReplicas=2)).message == "Ready: 2/3"
    rolling = sts(updateRevision="web-2", currentReplicas=3)
    assert compute(rolling).status is Status.IN_PROGRESS
    partitioned = sts(updatedReplicas=1, updateRevision="web-2")
    partitioned["spec"]["updateStrategy"]["rollingUpdate"] = {"partition": 2}
    assert compute(partitioned).message == "Partitioned roll out complete. updated: 1/1"
    on_delete = sts(readyReplicas=0)
    on_delete["spec"]["updateStrategy"] = {"type": "OnDelete"}
    assert compute(on_delete).status is Status.CURRENT


def test_daemonset_and_replicaset() -> None:
    ds: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "generation": 2},
        "status": {
            "observedGeneration": 2,
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
            "numberReady": 3,
        },
    }
    assert compute(ds).message == "Available: 2/3"
    ds["status"]["numberAvailable"] = 3
    assert compute(ds).status is Status.CURRENT
    del ds["status"]["observedGeneration"]
    assert compute(ds).message == "Missing .status.observedGeneration"

    rs: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web-1"},
        "spec": {"replicas": 2},
        "status": {
            "replicas": 2,
            "fullyLabeledReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
        },
    }
    assert compute(rs).status is Status.CURRENT
    rs["status"]["conditions"] = [cond("ReplicaFailure", "True", "FailedCreate")]
    assert compute(rs).status is Status.IN_PROGRESS


def pod(phase: str, created: str = "2026-05-01T11:59:50Z", **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "creationTimestamp": created},
        "status": {"phase": phase, **extra},
    }


def test_pods() -> None:
    assert compute(pod("Succeeded")).status is Status.CURRENT
    assert compute(pod("Failed")).status is Status.CURRENT
    assert compute(pod("Running", conditions=[cond("Ready", "True")])).status is Status.CURRENT
    crash = pod(
        "Running",
        conditions=[cond("Ready", "False")],
        containerStatuses=[{"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
    )
    assert compute(crash).status is Status.FAILED
    assert "app" in compute(crash).message
    unschedulable = [cond("PodScheduled", "False", "Unschedulable", "0/3 nodes")]
    assert compute(pod("Pending", conditions=unschedulable), now=NOW).status is Status.IN_PROGRESS
    old = pod("Pending", "2026-05-01T11:00:00Z", conditions=unschedulable)
    assert compute(old, now=NOW).status is Status.FAILED
    assert compute(pod("Pending")).message == "Pod is in the Pending phase"


def test_pvc_service_job_crd_and_always_current() -> None:
    pvc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "d"},
        "status": {"phase": "Pending"},
    }
    assert compute(pvc).status is Status.IN_PROGRESS
    pvc["status"]["phase"] = "Bound"
    assert compute(pvc).status is Status.CURRENT

    lb: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"type": "LoadBalancer"},
    }
    assert compute(lb).status is Status.IN_PROGRESS
    lb["spec"]["clusterIP"] = "10.0.0.7"
    assert compute(lb).status is Status.CURRENT

    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j"},
        "spec": {},
        "status": {"active": 1},
    }
    assert compute(job).status is Status.IN_PROGRESS
    job["status"] = {"succeeded": 1, "conditions": [cond("Complete", "True")]}
    assert compute(job).status is Status.CURRENT
    job["status"] = {"failed": 6, "conditions": [cond("Failed", "True", "BackoffLimitExceeded")]}
    assert compute(job).status is Status.FAILED
    assert "BackoffLimitExceeded" in compute(job).message
    job["spec"]["suspend"] = True
    job["status"] = {}
    assert compute(job).status is Status.CURRENT

    crd: dict[str, Any] = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "w"},
        "status": {"conditions": [cond("NamesAccepted", "True")]},
    }
    assert compute(crd).status is Status.IN_PROGRESS
    crd["status"]["conditions"].append(cond("Established", "True"))
    assert compute(crd).status is Status.CURRENT
    crd["status"]["conditions"][0] = cond("NamesAccepted", "False", "", "plural taken")
    assert compute(crd).status is Status.FAILED

    for kind in ("ConfigMap", "Secret", "PodDisruptionBudget"):
        assert compute({"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}}).current


def flux_object(
    *conditions: dict[str, str], generation: int = 2, observed: int = 2
) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "generation": generation},
        "status": {"observedGeneration": observed, "conditions": list(conditions)},
    }


def test_custom_resources_follow_ready_reconciling_stalled() -> None:
    assert compute(flux_object(cond("Ready", "True", "ReconciliationSucceeded"))).current
    not_ready = compute(flux_object(cond("Ready", "False", "BuildFailed", "kustomize failed")))
    assert not_ready.status is Status.IN_PROGRESS  # not Failed: Flux waits until the timeout
    assert not_ready.message == "kustomize failed"
    stalled = flux_object(
        cond("Ready", "False"), cond("Stalled", "True", "InvalidPath", "bad path")
    )
    assert compute(stalled).status is Status.FAILED
    reconciling = flux_object(cond("Ready", "Unknown"), cond("Reconciling", "True", "", "Building"))
    assert compute(reconciling).message == "Building"
    assert compute(flux_object(cond("Ready", "True"), observed=1)).status is Status.IN_PROGRESS
    assert compute(flux_object()).current  # no Ready condition at all
    terminating = flux_object(cond("Ready", "True"))
    terminating["metadata"]["deletionTimestamp"] = "2026-05-01T12:00:00Z"
    assert compute(terminating).status is Status.TERMINATING


SEALED = "bitnami.com/v1alpha1"
SYNCED = "status.conditions.filter(e, e.type == 'Synced')"


def sealed_secret(**status: Any) -> dict[str, Any]:
    return {
        "apiVersion": SEALED,
        "kind": "SealedSecret",
        "metadata": {"name": "s", "generation": 1},
        "status": status,
    }


def test_health_check_exprs() -> None:
    rules = HealthRules(
        [
            CustomHealthCheck(
                api_version=SEALED,
                kind="SealedSecret",
                current=SYNCED + ".all(e, e.status == 'True')",
                failed=SYNCED + ".all(e, e.status == 'False')",
            ),
            CustomHealthCheck(
                api_version="bitnami.com/v1", current="has(status.ok) && status.ok"
            ),  # group-wide; the version does not matter
        ]
    )
    synced = sealed_secret(observedGeneration=1, conditions=[cond("Synced", "True")])
    assert rules.status(synced).status is Status.CURRENT
    broken = sealed_secret(observedGeneration=1, conditions=[cond("Synced", "False")])
    assert rules.status(broken).status is Status.FAILED
    assert rules.status(sealed_secret(observedGeneration=0)).status is Status.IN_PROGRESS
    unknown = rules.status({"apiVersion": SEALED, "kind": "SealedSecret", "metadata": {}})
    assert unknown.status is Status.UNKNOWN  # no status yet: the wait goes on

    other_kind: dict[str, Any] = {"apiVersion": SEALED, "kind": "Other", "metadata": {}}
    other_kind["status"] = {"ok": True}
    assert rules.status(other_kind).status is Status.CURRENT
    other_kind["status"]["ok"] = False
    assert rules.status(other_kind).status is Status.IN_PROGRESS  # nothing true yet
    # Objects without expressions use kstatus.
    assert rules.status(deployment()).message == "Deployment is available. Replicas: 2"


def test_in_progress_expression_wins_and_results_must_be_booleans() -> None:
    check = CustomHealthCheck(
        api_version="x.io/v1", kind="K", in_progress="status.busy", current="true"
    )
    rules = HealthRules([check])
    obj: dict[str, Any] = {"apiVersion": "x.io/v1", "kind": "K", "metadata": {}}
    obj["status"] = {"busy": True}
    assert rules.status(obj).status is Status.IN_PROGRESS
    obj["status"]["busy"] = "yes"
    assert rules.status(obj).status is Status.UNKNOWN


def test_invalid_expressions_are_terminal() -> None:
    bad = CustomHealthCheck(api_version="x.io/v1", kind="K", current="status.(")
    with pytest.raises(InvalidCELExpressionError, match=r"x\.io/v1/K.*current") as err:
        HealthRules([bad])
    assert err.value.terminal
    assert err.value.reason == "InvalidCELExpression"
