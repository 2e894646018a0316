"""weir's own wait for a Helm release (weir/helm/wait.py, ADR 0017) with the real Helm engine
and the real API server (a Deployment whose Pods no node can take never becomes ready): after
Helm's action with the wait ``hookOnly``, a timeout, a cancellation and a failed upgrade leave
Helm's storage records as Helm's own wait leaves them, side by side with Helm's wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from weir.helm import wait as helmwait
from weir.helm.unlock import decode_release
from weir.helmengine.engine import ClusterAccess, InstallOptions, UpgradeOptions
from weir.helmengine.errors import ReleaseTimeoutError
from weir.helmengine.sdk import SdkEngine
from weir.kube.informer import list_all
from weir.kube.resources import SECRETS
from weir.testing.chartrepo import write_chart

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  message: {{ .Values.message | quote }}
"""
DEPLOYMENT = """\
{{- if .Values.deployment }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: 1
  selector: {matchLabels: {app: {{ .Release.Name }}}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}}}
    spec:
      nodeSelector: {weir.test/pool: nowhere}
      containers: [{name: app, image: "example.invalid/app:1"}]
{{- end }}
"""


@pytest.fixture
async def engine() -> AsyncIterator[SdkEngine]:
    eng = SdkEngine(concurrency=2)
    try:
        yield eng
    finally:
        await eng.aclose()


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    return write_chart(
        tmp_path / "demo",
        "demo",
        "1.0.0",
        values={"message": "hello", "deployment": False},
        templates={"cm.yaml": CONFIGMAP, "deploy.yaml": DEPLOYMENT},
    )


async def records(api: client.ApiClient, ns: str, name: str) -> list[tuple[int, str, str]]:
    """(revision, status, description) of each record; the label and the body agree."""
    items, _ = await list_all(api, SECRETS, namespace=ns, label_selector=f"owner=helm,name={name}")
    found = []
    for item in items:
        info = decode_release(item["data"]["release"])["info"]
        assert info["status"] == item["metadata"]["labels"]["status"]
        found.append(
            (int(item["metadata"]["labels"]["version"]), info["status"], info["description"])
        )
    return sorted(found)


async def test_a_failed_upgrade_leaves_the_records_as_helms_wait_does(
    engine: SdkEngine, chart: Path, kubeconfig: str, kube: client.ApiClient, namespace: str
) -> None:
    access = ClusterAccess(kubeconfig=kubeconfig)
    never_ready = {"message": "two", "deployment": True}
    for name in ("by-helm", "by-weir"):
        await engine.install(access, chart, name, namespace, values={"message": "one"})
    # Helm's own kstatus wait fails the upgrade...
    with pytest.raises(ReleaseTimeoutError) as by_helm:
        await engine.upgrade(
            access,
            chart,
            "by-helm",
            namespace,
            values=never_ready,
            options=UpgradeOptions(timeout=2),
        )
    # ... and weir's wait after Helm's upgrade with the wait hookOnly fails it the same way.
    before = await helmwait.record_statuses(kube, "by-weir", namespace)
    upgraded = await engine.upgrade(
        access,
        chart,
        "by-weir",
        namespace,
        values=never_ready,
        options=UpgradeOptions(wait=False),
    )
    assert [r[:2] for r in await records(kube, namespace, "by-weir")] == [
        (1, "superseded"),
        (2, "deployed"),
    ]
    with pytest.raises(ReleaseTimeoutError) as by_weir:
        await helmwait.wait_for_release(
            kube, upgraded, action="upgrade", timeout=2, wait_for_jobs=True, before=before
        )

    helm_records = await records(kube, namespace, "by-helm")
    weir_records = await records(kube, namespace, "by-weir")
    assert [r[:2] for r in helm_records] == [r[:2] for r in weir_records]
    assert [r[:2] for r in weir_records] == [(1, "deployed"), (2, "failed")]
    for name, found in (("by-helm", helm_records), ("by-weir", weir_records)):
        assert found[0][2] == "Install complete"
        assert found[1][2].startswith(f'Upgrade "{name}" failed: ')
    line = f"resource Deployment/{namespace}/by-weir not ready. status: InProgress, message: "
    assert line in weir_records[1][2]
    assert weir_records[1][2].endswith("context deadline exceeded")
    for error in (by_helm.value, by_weir.value):
        assert str(error).startswith("upgrade timed out: ")
        assert str(error).endswith("; raise spec.timeout or check why the resources are not ready")
    assert line.replace("by-weir", "by-helm") in str(by_helm.value)
    assert line in str(by_weir.value)

    # Word for word what Helm's wait says (the message kstatus gives is the same here).
    assert str(by_weir.value) == str(by_helm.value).replace("by-helm", "by-weir")
    assert weir_records[1][2] == helm_records[1][2].replace("by-helm", "by-weir")

    # History reads (what remediation looks at) see the failed revision as Helm left it.
    history = await engine.history(access, "by-weir", namespace)
    assert [(r.revision, r.status) for r in history] == [(1, "deployed"), (2, "failed")]


async def test_a_cancelled_wait_marks_the_install_failed(
    engine: SdkEngine, chart: Path, kubeconfig: str, kube: client.ApiClient, namespace: str
) -> None:
    access = ClusterAccess(kubeconfig=kubeconfig)
    installed = await engine.install(
        access,
        chart,
        "web",
        namespace,
        values={"deployment": True},
        options=InstallOptions(wait=False),
    )
    task = asyncio.create_task(
        helmwait.wait_for_release(kube, installed, action="install", timeout=60, wait_for_jobs=True)
    )
    await asyncio.sleep(1)
    assert not task.done()  # the Deployment never becomes ready
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await records(kube, namespace, "web") == [
        (1, "failed", 'Release "web" failed: context canceled')
    ]


async def test_during_the_wait_the_records_are_pending_as_during_helms(
    engine: SdkEngine, chart: Path, kubeconfig: str, kube: client.ApiClient, namespace: str
) -> None:
    """A process that stops mid-wait leaves a pending release (which the next run unlocks and
    remediates), not a ``deployed`` one nobody waited for; a wait that succeeds leaves the
    records as Helm's successful wait does."""
    access = ClusterAccess(kubeconfig=kubeconfig)
    await engine.install(access, chart, "web", namespace, values={"message": "one"})
    before = await helmwait.record_statuses(kube, "web", namespace)
    upgraded = await engine.upgrade(
        access,
        chart,
        "web",
        namespace,
        values={"message": "two", "deployment": True},
        options=UpgradeOptions(wait=False),
    )
    task = asyncio.create_task(
        helmwait.wait_for_release(
            kube, upgraded, action="upgrade", timeout=60, wait_for_jobs=True, before=before
        )
    )
    for _ in range(100):  # until the records show the wait (or the test times out)
        if [r[:2] for r in await records(kube, namespace, "web")] == [
            (1, "deployed"),
            (2, "pending-upgrade"),
        ]:
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail(f"the records never showed the wait: {await records(kube, namespace, 'web')}")
    assert not task.done()  # the Deployment never becomes ready
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    # A wait that succeeds (a ConfigMap only): superseded and deployed, Helm's descriptions.
    before = await helmwait.record_statuses(kube, "web", namespace)
    third = await engine.upgrade(
        access,
        chart,
        "web",
        namespace,
        values={"message": "three"},
        options=UpgradeOptions(wait=False),
    )
    await helmwait.wait_for_release(
        kube, third, action="upgrade", timeout=30, wait_for_jobs=True, before=before
    )
    found = await records(kube, namespace, "web")
    assert [r[:2] for r in found] == [(1, "superseded"), (2, "failed"), (3, "deployed")]
    assert found[2][2] == "Upgrade complete"
    history = await engine.history(access, "web", namespace)
    assert [(r.revision, r.status) for r in history][-1] == (3, "deployed")
