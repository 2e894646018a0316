"""Helm release storage in another namespace than the release (``spec.storageNamespace``), with
the real Helm engine and the real API server: the records move to the release namespace for
each write action and back after it (weir/helm/storage.py, ADR 0012)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from weir.helm.storage import SecretsStorage
from weir.helmengine.engine import (
    ClusterAccess,
    InstallOptions,
    RollbackOptions,
    UninstallOptions,
    UpgradeOptions,
)
from weir.helmengine.sdk import SdkEngine
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.resources import CONFIG_MAPS, ResourceRef
from weir.testing.chartrepo import write_chart

NAMESPACES = ResourceRef("", "v1", "namespaces", False, "Namespace")
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
  namespace: {{ .Release.Namespace }}
data:
  message: {{ .Values.message | quote }}
"""
PLAIN = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-plain
data:
  where: {{ .Release.Namespace | quote }}
"""


@pytest.fixture
async def engine() -> AsyncIterator[SdkEngine]:
    eng = SdkEngine(concurrency=2)
    try:
        yield eng
    finally:
        await eng.aclose()


@pytest.fixture
async def storage_ns(kube: client.ApiClient) -> AsyncIterator[str]:
    name = f"t-store-{uuid.uuid4().hex[:8]}"
    await kapi.create(kube, NAMESPACES, {"metadata": {"name": name}})
    try:
        yield name
    finally:
        await kapi.delete(kube, NAMESPACES, None, name, missing_ok=True)


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    return write_chart(
        tmp_path / "demo",
        "demo",
        "1.0.0",
        values={"message": "hello"},
        templates={"cm.yaml": CONFIGMAP, "plain.yaml": PLAIN},
    )


async def record_names(api: client.ApiClient, ns: str, release: str) -> list[str]:
    return sorted(s["metadata"]["name"] for s in await SecretsStorage().records(api, release, ns))


async def message(api: client.ApiClient, ns: str, name: str) -> str | None:
    try:
        return str((await kapi.get(api, CONFIG_MAPS, ns, name))["data"]["message"])
    except NotFoundError:
        return None


async def test_install_upgrade_history_uninstall_with_a_storage_namespace(
    engine: SdkEngine,
    chart: Path,
    kubeconfig: str,
    kube: client.ApiClient,
    namespace: str,
    storage_ns: str,
) -> None:
    access = ClusterAccess(kubeconfig=kubeconfig)
    store = SecretsStorage()
    release, target = "web", namespace

    async with store.staged(kube, release, target, storage_ns):
        installed = await engine.install(
            access,
            chart,
            release,
            target,
            values={"message": "one"},
            options=InstallOptions(wait=False),
        )
    assert (installed.namespace, installed.revision, installed.status) == (target, 1, "deployed")
    # objects in the release namespace (.Release.Namespace too), records in the storage one
    assert await message(kube, target, "web-config") == "one"
    plain = await kapi.get(kube, CONFIG_MAPS, target, "web-plain")
    assert plain["data"] == {"where": target}
    assert await record_names(kube, storage_ns, release) == ["sh.helm.release.v1.web.v1"]
    assert await record_names(kube, target, release) == []
    stored = await kapi.get(
        kube, ResourceRef("", "v1", "secrets", True), storage_ns, "sh.helm.release.v1.web.v1"
    )
    assert stored["type"] == "helm.sh/release.v1"
    labels = stored["metadata"]["labels"]  # Helm's own, as it wrote them (modifiedAt too)
    assert {k: labels[k] for k in ("owner", "name", "status", "version")} == {
        "owner": "helm",
        "name": "web",
        "status": "deployed",
        "version": "1",
    }

    # Reads go to the storage namespace.
    history = await engine.history(access, release, target, storage_namespace=storage_ns)
    assert [(r.revision, r.status, r.namespace) for r in history] == [(1, "deployed", target)]
    assert await engine.history(access, release, target) == []  # nothing in the release ns
    status = await engine.status(access, release, target, storage_namespace=storage_ns)
    assert status.config == {"message": "one"}

    # Upgrades keep maxHistory: the pruned revision leaves the storage namespace too.
    for n, text in enumerate(("two", "three"), start=2):
        async with store.staged(kube, release, target, storage_ns):
            upgraded = await engine.upgrade(
                access,
                chart,
                release,
                target,
                values={"message": text},
                options=UpgradeOptions(wait=False, max_history=2),
            )
        assert upgraded.revision == n
    assert await message(kube, target, "web-config") == "three"
    assert await record_names(kube, storage_ns, release) == [
        "sh.helm.release.v1.web.v2",
        "sh.helm.release.v1.web.v3",
    ]
    assert await record_names(kube, target, release) == []
    statuses = [
        (r.revision, r.status)
        for r in await engine.history(access, release, target, storage_namespace=storage_ns)
    ]
    assert statuses == [(2, "superseded"), (3, "deployed")]

    # A rollback, staged the same way.
    async with store.staged(kube, release, target, storage_ns):
        await engine.rollback(
            access, release, target, RollbackOptions(revision=2, wait=False, max_history=2)
        )
    assert await message(kube, target, "web-config") == "two"
    assert await record_names(kube, target, release) == []

    # Uninstall removes the objects and the records.
    async with store.staged(kube, release, target, storage_ns):
        gone = await engine.uninstall(access, release, target, UninstallOptions(wait=False))
    assert gone is not None
    assert await message(kube, target, "web-config") is None
    assert await record_names(kube, storage_ns, release) == []
    assert await record_names(kube, target, release) == []


async def test_records_left_by_an_interrupted_run_are_kept_and_moved(
    engine: SdkEngine,
    chart: Path,
    kubeconfig: str,
    kube: client.ApiClient,
    namespace: str,
    storage_ns: str,
) -> None:
    access = ClusterAccess(kubeconfig=kubeconfig)
    store = SecretsStorage()
    async with store.staged(kube, "app", namespace, storage_ns):
        await engine.install(access, chart, "app", namespace, options=InstallOptions(wait=False))
    # A run that stopped after Helm's upgrade, before the records went back: the newest
    # records are in the release namespace.
    staged = store.staged(kube, "app", namespace, storage_ns)
    await staged.__aenter__()
    await engine.upgrade(
        access,
        chart,
        "app",
        namespace,
        values={"message": "new"},
        options=UpgradeOptions(wait=False),
    )
    assert await record_names(kube, namespace, "app") == [
        "sh.helm.release.v1.app.v1",
        "sh.helm.release.v1.app.v2",
    ]
    # ... (the process died here: __aexit__ never ran)

    async with store.staged(kube, "app", namespace, storage_ns):
        third = await engine.upgrade(
            access,
            chart,
            "app",
            namespace,
            values={"message": "third"},
            options=UpgradeOptions(wait=False),
        )
    assert third.revision == 3  # Helm saw the interrupted run's v2
    assert await record_names(kube, namespace, "app") == []
    assert await record_names(kube, storage_ns, "app") == [
        "sh.helm.release.v1.app.v1",
        "sh.helm.release.v1.app.v2",
        "sh.helm.release.v1.app.v3",
    ]
    statuses = [
        r.status
        for r in await engine.history(access, "app", namespace, storage_namespace=storage_ns)
    ]
    assert statuses == ["superseded", "superseded", "deployed"]


async def test_adopt_moves_records_to_a_new_storage_namespace(
    engine: SdkEngine,
    chart: Path,
    kubeconfig: str,
    kube: client.ApiClient,
    namespace: str,
    storage_ns: str,
) -> None:
    access = ClusterAccess(kubeconfig=kubeconfig)
    store = SecretsStorage()
    # stored in the release namespace, as weir did before it kept Flux's default
    await engine.install(access, chart, "old", namespace, options=InstallOptions(wait=False))
    assert await store.adopt(kube, "old", namespace, storage_ns)
    assert await record_names(kube, storage_ns, "old") == ["sh.helm.release.v1.old.v1"]
    assert await record_names(kube, namespace, "old") == []
    assert not await store.adopt(kube, "old", namespace, storage_ns)  # nothing left to move
    async with store.staged(kube, "old", namespace, storage_ns):
        upgraded = await engine.upgrade(
            access, chart, "old", namespace, options=UpgradeOptions(wait=False)
        )
    assert upgraded.revision == 2
