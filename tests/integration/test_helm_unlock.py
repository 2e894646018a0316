"""Unlocking a release left pending by a process that stopped mid-action (weir/helm/unlock.py),
with the real Helm engine and the real API server: the revision is marked failed in Helm's
storage, body and label, and Helm then accepts the next action."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from weir.helm.unlock import read_record, storage_secret_name, unlock, write_status
from weir.helmengine.engine import ClusterAccess
from weir.helmengine.sdk import SdkEngine
from weir.testing.chartrepo import write_chart

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  message: {{ .Values.message | quote }}
"""


@pytest.fixture
async def engine() -> AsyncIterator[SdkEngine]:
    eng = SdkEngine(concurrency=1)
    try:
        yield eng
    finally:
        await eng.aclose()


async def test_a_pending_revision_is_marked_failed_and_helm_goes_on(
    engine: SdkEngine, tmp_path: Path, kubeconfig: str, kube: client.ApiClient, namespace: str
) -> None:
    chart = write_chart(
        tmp_path / "demo",
        "demo",
        "1.0.0",
        values={"message": "one"},
        templates={"cm.yaml": CONFIGMAP},
    )
    access = ClusterAccess(kubeconfig=kubeconfig)
    await engine.install(access, chart, "web", namespace)
    secret_name = storage_secret_name("web", 1)
    # What a process stopping in the middle of Helm's install leaves.
    secret, release = await read_record(kube, namespace, secret_name)
    await write_status(kube, secret, release, "pending-install", None)

    assert await unlock(kube, "web", namespace, 1) == "pending-install"

    secret, release = await read_record(kube, namespace, secret_name)
    assert secret["metadata"]["labels"]["status"] == "failed"
    assert release["info"]["status"] == "failed"
    assert release["info"]["description"] == "Release unlocked from stale 'pending-install' state"
    history = await engine.history(access, "web", namespace)
    assert [(r.revision, r.status) for r in history] == [(1, "failed")]
    upgraded = await engine.upgrade(access, chart, "web", namespace, values={"message": "two"})
    assert (upgraded.revision, upgraded.status) == (2, "deployed")
