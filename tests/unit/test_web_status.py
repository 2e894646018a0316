"""Status words and rows of the web UI (weir.web.status) and what leaves the server
(weir.web.mask)."""

from __future__ import annotations

from typing import Any

import pytest

from weir.actions.masking import MASK, sanitize
from weir.kube import kstatus
from weir.types import Obj
from weir.web import status as st


def flux(kind: str = "Kustomization", **extra: Any) -> Obj:
    group = {
        "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
        "HelmRelease": "helm.toolkit.fluxcd.io/v2",
        "Provider": "notification.toolkit.fluxcd.io/v1beta3",
        "GitRepository": "source.toolkit.fluxcd.io/v1",
    }[kind]
    obj: Obj = {
        "apiVersion": group,
        "kind": kind,
        "metadata": {"name": "app", "namespace": "ns", "generation": 1},
        "spec": {},
    }
    obj.update(extra)
    return obj


def cond(type_: str, status: str, reason: str = "R", message: str = "m") -> Obj:
    return {"type": type_, "status": status, "reason": reason, "message": message}


@pytest.mark.parametrize(
    ("conditions", "spec", "expected"),
    [
        ([cond("Ready", "True")], {}, "ready"),
        ([cond("Ready", "False", "BuildFailed")], {}, "failed"),
        ([cond("Ready", "False", "DependencyNotReady")], {}, "progressing"),
        ([cond("Ready", "Unknown", "Progressing")], {}, "progressing"),
        ([cond("Ready", "True"), cond("Stalled", "True")], {}, "failed"),
        ([cond("Ready", "False")], {"suspend": True}, "suspended"),
        ([], {}, "unknown"),
    ],
)
def test_flux_status(conditions: list[Obj], spec: Obj, expected: str) -> None:
    obj = flux(spec=spec, status={"conditions": conditions})
    assert st.flux_status(obj) == expected


def test_providers_show_their_ready_condition() -> None:
    # weir gives Providers and Alerts a status (ADR 0008): not reconciled yet is unknown
    assert st.flux_status(flux("Provider")) == "unknown"
    ready = flux("Provider", status={"conditions": [cond("Ready", "True")]})
    assert st.flux_status(ready) == "ready"
    invalid = flux("Provider", status={"conditions": [cond("Ready", "False", "ValidationFailed")]})
    assert st.flux_status(invalid) == "failed"


def test_flux_row_and_references() -> None:
    obj = flux(
        "HelmRelease",
        metadata={
            "name": "podinfo",
            "namespace": "apps",
            "generation": 3,
            "labels": {
                "kustomize.toolkit.fluxcd.io/name": "root",
                "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
            },
        },
        spec={
            "chart": {
                "spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "r"}}
            },
            "dependsOn": [{"name": "redis"}, {"name": "db", "namespace": "data"}],
        },
        status={
            "observedGeneration": 2,
            "helmChart": "flux-system/apps-podinfo",
            "history": [{"chartVersion": "6.5.0"}],
            "conditions": [cond("Ready", "True", "UpgradeSucceeded", "done")],
        },
    )
    row = st.flux_row(obj)
    assert row["key"] == "HelmRelease/apps/podinfo"
    assert row["source"] == "HelmChart/flux-system/apps-podinfo"
    assert row["manager"] == "Kustomization/flux-system/root"
    assert row["revision"] == "6.5.0"
    assert row["pending"] is True
    assert (row["status"], row["reason"], row["message"]) == ("ready", "UpgradeSucceeded", "done")
    assert st.depends_on(obj) == ["HelmRelease/apps/redis", "HelmRelease/data/db"]
    del obj["status"]["helmChart"]
    assert st.source_of(obj) == "HelmRepository/apps/r"
    obj["spec"]["chartRef"] = {"kind": "OCIRepository", "name": "oci"}
    assert st.source_of(obj) == "OCIRepository/apps/oci"


def deployment(**status: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns", "generation": 2},
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": [{"name": "c", "image": "img:1"}]}},
        },
        "status": {"observedGeneration": 2, **status},
    }


ROLLED_OUT = [
    cond("Available", "True", "MinimumReplicasAvailable"),
    cond("Progressing", "True", "NewReplicaSetAvailable"),
]


def test_workload_status() -> None:
    """The controller's kstatus rules decide (the UI agrees with a Kustomization's health
    check): a Deployment is ready once rolled out and Available."""
    ready = deployment(
        replicas=2, readyReplicas=2, availableReplicas=2, updatedReplicas=2, conditions=ROLLED_OUT
    )
    assert st.workload_status(ready)[:2] == ("ready", "2/2")
    assert kstatus.compute(ready).status is kstatus.Status.CURRENT
    not_available = deployment(replicas=2, readyReplicas=2, availableReplicas=2, updatedReplicas=2)
    assert st.workload_status(not_available)[0] == "progressing"  # kstatus: not Available yet
    rolling = deployment(readyReplicas=1, availableReplicas=1, updatedReplicas=1)
    assert st.workload_status(rolling)[0] == "progressing"
    stuck = deployment(conditions=[cond("Progressing", "False", "ProgressDeadlineExceeded")])
    assert st.workload_status(stuck)[0] == "failed"
    behind = deployment(
        replicas=2, readyReplicas=2, availableReplicas=2, updatedReplicas=2, conditions=ROLLED_OUT
    )
    behind["status"]["observedGeneration"] = 1
    assert st.workload_status(behind)[0] == "progressing"
    job: Obj = {"kind": "Job", "metadata": {"name": "j"}, "spec": {}, "status": {}}
    job["status"]["conditions"] = [cond("Failed", "True", "BackoffLimitExceeded", "")]
    assert st.workload_status(job)[0] == "failed"
    job["status"]["conditions"] = [cond("Complete", "True")]
    assert st.workload_status(job)[0] == "ready"
    cron: Obj = {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"suspend": True}}
    assert st.workload_status(cron)[0] == "suspended"
    daemons: Obj = {
        "kind": "DaemonSet",
        "metadata": {"name": "d"},
        "spec": {},
        "status": {
            "observedGeneration": 1,
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberAvailable": 3,
            "numberReady": 3,
            "updatedNumberScheduled": 3,
        },
    }
    assert st.workload_status(daemons)[:2] == ("ready", "3/3")
    assert st.images_of(ready) == ["img:1"]


def test_sanitize_masks_secrets_and_strips_noise() -> None:
    last_applied = '{"data":{"password":"c2VjcmV0"}}'
    secret: Obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "s",
            "managedFields": [{"manager": "x"}],
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": last_applied,
                "keep": "me",
            },
        },
        "data": {"password": "c2VjcmV0"},
        "stringData": {"token": "plain"},
    }
    clean = sanitize(secret)
    assert clean["data"] == {"password": MASK}
    assert clean["stringData"] == {"token": MASK}
    assert clean["metadata"]["annotations"] == {"keep": "me"}
    assert "managedFields" not in clean["metadata"]
    assert secret["data"]["password"] == "c2VjcmV0"  # the cached object is untouched
    listed = sanitize({"apiVersion": "v1", "kind": "List", "items": [secret]})
    assert listed["items"][0]["data"] == {"password": MASK}
