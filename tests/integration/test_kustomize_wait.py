"""Waiting for health against the real API server (no controllers run in this tier, so
Deployments never become ready and custom resources get their status from the test)."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.integration.test_kustomize_apply import CRDS, cm, crd
from weir.api.meta import CustomHealthCheck
from weir.kube import apply as kapi
from weir.kube.kstatus import Status
from weir.kustomize.errors import HealthCheckError
from weir.ssa.apply import apply_all
from weir.ssa.celhealth import HealthRules
from weir.ssa.wait import read_status, wait_for_health


def deployment(name: str, namespace: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                # No node matches: the Deployment stays InProgress even when the kwok tier's
                # scheduler and fake kubelets run in the same test session.
                "spec": {
                    "containers": [{"name": "c", "image": "nginx"}],
                    "nodeSelector": {"weir.test/no-such-node": "true"},
                },
            },
        },
    }


async def test_current_objects_and_timeouts(kube: ApiClient, namespace: str) -> None:
    objects = [cm("c", namespace, a="1"), deployment("d", namespace)]
    await apply_all(kube, objects)
    statuses = await wait_for_health(kube, objects[:1], timeout=5, interval=0.1)
    assert [s.result.status for s in statuses] == [Status.CURRENT]

    with pytest.raises(HealthCheckError) as err:
        await wait_for_health(kube, objects, timeout=0.5, interval=0.1)
    text = str(err.value)
    assert "timeout waiting for: [" in text
    assert f"Deployment/{namespace}/d status: 'InProgress'" in text
    assert "ConfigMap" not in text

    missing = await read_status(kube, cm("missing", namespace))
    assert missing.result.status is Status.NOT_FOUND


async def test_health_check_exprs_and_fail_fast(kube: ApiClient, namespace: str) -> None:
    group = f"{namespace}.weir.dev"
    rules = HealthRules(
        [
            CustomHealthCheck(
                api_version=f"{group}/v1",
                kind="Gizmo",
                current="status.phase == 'Ready'",
                failed="status.phase == 'Broken'",
            )
        ]
    )
    gizmo = {
        "apiVersion": f"{group}/v1",
        "kind": "Gizmo",
        "metadata": {"name": "g", "namespace": namespace},
        "spec": {"size": 1},
    }
    try:
        await apply_all(kube, [crd(group), gizmo])
        # No status yet: the expressions cannot be evaluated, the object is Unknown.
        assert (await read_status(kube, gizmo, rules)).result.status is Status.UNKNOWN

        await kapi.apply(kube, {**gizmo, "status": {"phase": "Broken"}}, "test", force=True)
        with pytest.raises(HealthCheckError, match="failed early due to stalled resources"):
            await wait_for_health(kube, [gizmo], timeout=10, interval=0.1, rules=rules)

        await kapi.apply(kube, {**gizmo, "status": {"phase": "Ready"}}, "test", force=True)
        statuses = await wait_for_health(kube, [gizmo], timeout=10, interval=0.1, rules=rules)
        assert statuses[0].result.status is Status.CURRENT
    finally:
        await kapi.delete(kube, CRDS, None, f"gizmos.{group}", missing_ok=True)


async def test_job_removed_by_its_ttl_counts_as_done(kube: ApiClient, namespace: str) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "ttl", "namespace": namespace},
        "spec": {"ttlSecondsAfterFinished": 0},
    }
    status = await read_status(kube, job)
    assert status.result.status is Status.CURRENT
