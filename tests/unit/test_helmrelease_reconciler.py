"""The HelmRelease state machine and remediation, against an in-memory Helm engine.

Nothing is patched: the engine, the chart sources, the latest-copy reader and the inventory
builder are the reconciler's ports (``weir.helm.ports``), given in-memory fakes here.

The engine here keeps releases in a dict with Helm's statuses (deployed, superseded, failed,
uninstalled), so every path of the reconciler runs in milliseconds: install, upgrade on a
change, failures counted per desired state, rollback and uninstall remediation, retries,
RetryOnFailure, tests and ignored test failures, forceAt / resetAt, dependencies, and a
storage namespace other than the release namespace (the records port is an in-memory fake
too). The end-to-end behaviour against a real cluster is in tests/e2e/test_helm_delivery.py
and tests/integration/test_helm_storage_namespace.py.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from weir.helm.chartsource import ChartSources, LoadedChart
from weir.helm.reconciler import HelmReleaseReconciler
from weir.helm.settings import HelmSettings
from weir.helmengine.engine import (
    ChartInfo,
    ChartSource,
    ClusterAccess,
    HelmEngine,
    HookRun,
    InstallOptions,
    Release,
    ReleaseTestOptions,
    RenderResult,
    RollbackOptions,
    UninstallOptions,
    UpgradeOptions,
)
from weir.helmengine.errors import ReleaseError, ReleaseTestError, ReleaseTimeoutError, RenderError
from weir.runtime import conditions
from weir.runtime.result import Outcome, ReconcileError, Result, Stalled
from weir.types import Obj

NS = "apps"
DIGEST = "sha256:" + "a" * 64


class MemoryEngine(HelmEngine):
    """Helm releases in memory; ``fail`` makes the next calls of an action fail."""

    def __init__(self) -> None:
        self.releases: dict[tuple[str, str], list[Release]] = {}
        self.fail: dict[str, Exception] = {}
        self.calls: list[str] = []

    # -- helpers
    def _history(self, namespace: str, name: str) -> list[Release]:
        return self.releases.setdefault((namespace, name), [])

    def _store(self, release: Release) -> Release:
        history = self._history(release.namespace, release.name)
        if release.status == "deployed":
            history[:] = [
                replace(r, status="superseded") if r.status == "deployed" else r for r in history
            ]
        history.append(release)
        return release

    def _new(
        self, name: str, namespace: str, values: Mapping[str, Any] | None, status: str
    ) -> Release:
        revision = len(self._history(namespace, name)) + 1
        return Release(
            name,
            namespace,
            revision,
            status,
            "app",
            "1.0.0",
            "1.0",
            manifest="",
            config=dict(values or {}),
        )

    def _maybe_fail(self, action: str, name: str, namespace: str, values: Any) -> None:
        error = self.fail.get(action)
        if error is None:
            return
        if not isinstance(error, RenderError):  # Helm stored a failed revision
            self._store(self._new(name, namespace, values, "failed"))
        raise error

    # -- the interface
    async def load_chart(self, chart: ChartSource) -> ChartInfo:
        raise AssertionError("charts come from the cache in these tests")

    async def package(self, chart_dir: Any, dest_dir: Any, **kwargs: Any) -> Path:
        raise AssertionError("not used")

    async def render(self, *args: Any, **kwargs: Any) -> RenderResult:
        raise AssertionError("not used")

    async def install(
        self,
        access: ClusterAccess,
        chart: ChartSource,
        name: str,
        namespace: str,
        *,
        values: Mapping[str, Any] | None = None,
        options: InstallOptions | None = None,
    ) -> Release:
        self.calls.append("install")
        self._maybe_fail("install", name, namespace, values)
        return self._store(self._new(name, namespace, values, "deployed"))

    async def upgrade(
        self,
        access: ClusterAccess,
        chart: ChartSource,
        name: str,
        namespace: str,
        *,
        values: Mapping[str, Any] | None = None,
        options: UpgradeOptions | None = None,
    ) -> Release:
        self.calls.append("upgrade")
        self._maybe_fail("upgrade", name, namespace, values)
        return self._store(self._new(name, namespace, values, "deployed"))

    async def rollback(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        options: RollbackOptions | None = None,
    ) -> Release:
        self.calls.append(f"rollback:{options.revision if options else None}")
        history = self._history(namespace, name)
        target = next(r for r in history if options and r.revision == options.revision)
        return self._store(self._new(name, namespace, target.config, "deployed"))

    async def uninstall(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        options: UninstallOptions | None = None,
    ) -> Release | None:
        self.calls.append("uninstall")
        history = self.releases.pop((namespace, name), [])
        return replace(history[-1], status="uninstalled") if history else None

    async def test(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        options: ReleaseTestOptions | None = None,
    ) -> Release:
        self.calls.append("test")
        latest = self._history(namespace, name)[-1]
        if "test" in self.fail:
            error = ReleaseTestError("test failed: smoke: job failed", action="test")
            error.release = replace(
                latest, hooks=(HookRun("smoke", ("test",), "Failed", None, None),)
            )
            raise error
        return replace(latest, hooks=(HookRun("smoke", ("test",), "Succeeded", None, None),))

    async def history(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        *,
        max_revisions: int | None = None,
        storage_namespace: str | None = None,
    ) -> list[Release]:
        return list(self.releases.get((storage_namespace or namespace, name), []))

    async def status(
        self,
        access: ClusterAccess,
        name: str,
        namespace: str,
        *,
        revision: int | None = None,
        storage_namespace: str | None = None,
    ) -> Release:
        return self._history(storage_namespace or namespace, name)[-1]

    async def get_values(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise AssertionError("not used")

    async def aclose(self) -> None:
        return None

    @property
    def field_manager(self) -> str:
        return "memory"


class MemoryStorage:
    """The records port over :class:`MemoryEngine`'s dict (keyed by the namespace holding
    them): moved into the release namespace for a write action and back after it."""

    def __init__(self, engine: MemoryEngine) -> None:
        self.engine = engine
        self.moves: list[str] = []

    def _move(self, name: str, src: str, dest: str) -> None:
        records = self.engine.releases.pop((src, name), [])
        if records:
            self.engine.releases.setdefault((dest, name), [])[:0] = records

    @contextlib.asynccontextmanager
    async def staged(
        self, api: Any, name: str, release_ns: str, storage_ns: str
    ) -> AsyncIterator[None]:
        if release_ns == storage_ns:
            yield
            return
        self._move(name, storage_ns, release_ns)
        self.moves.append(f"stage:{name}")
        try:
            yield
        finally:
            self.engine.releases.pop((storage_ns, name), None)
            self._move(name, release_ns, storage_ns)
            self.moves.append(f"unstage:{name}")

    async def adopt(self, api: Any, name: str, from_ns: str, to_ns: str) -> bool:
        if (to_ns, name) in self.engine.releases or (from_ns, name) not in self.engine.releases:
            return False
        self._move(name, from_ns, to_ns)
        self.moves.append(f"adopt:{name}:{from_ns}->{to_ns}")
        return True


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    async def event(
        self,
        obj: Obj,
        event_type: str,
        reason: str,
        message: str,
        annotations: Mapping[str, str] | None = None,
    ) -> object:
        self.seen.append((event_type, reason, message))
        return None

    @property
    def reasons(self) -> list[str]:
        return [r for _, r, _ in self.seen]


CHART: Obj = {
    "apiVersion": "source.toolkit.fluxcd.io/v1",
    "kind": "HelmChart",
    "metadata": {"name": "app", "namespace": NS, "generation": 1},
    "status": {
        "observedGeneration": 1,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "observedGeneration": 1,
                "reason": "x",
                "message": "x",
            }
        ],
        "artifact": {
            "url": "http://storage.invalid/app.tgz",
            "digest": DIGEST,
            "revision": "1.0.0",
            "path": "helmchart/apps/app/app-1.0.0.tgz",
        },
    },
}


async def no_newer_copy(namespace: str, name: str) -> Obj | None:
    """The latest-copy port: no API server here, so nothing newer than the test's copy."""
    return None


async def empty_inventory(*args: Any) -> dict[str, Any]:
    """The inventory port: no discovery here, so the release lists no objects."""
    return {"entries": []}


class Harness:
    def __init__(self) -> None:
        self.engine = MemoryEngine()
        self.storage = MemoryStorage(self.engine)
        self.events = Events()
        self.others: dict[tuple[str | None, str], Obj] = {}
        self.reconciler = HelmReleaseReconciler(
            None,  # type: ignore[arg-type]  # no API call is made on these paths
            lambda: self.engine,
            ChartSources(None, lambda ns, n: CHART if n == "app" else None, lambda ns, n: None),  # type: ignore[arg-type]
            lambda ns, n: self.others.get((ns, n)),
            events=self.events,
            settings=HelmSettings(requeue_dependency=5.0),
            read_latest=no_newer_copy,
            inventory=empty_inventory,
            storage=self.storage,
        )
        self.reconciler.charts.remember(
            DIGEST,
            LoadedChart(
                b"",
                ChartInfo({"name": "app", "version": "1.0.0", "appVersion": "1.0"}, {}, ()),
            ),
        )
        self.obj: Obj = {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": "web", "namespace": NS, "generation": 1},
            "spec": {
                "interval": "10m",
                "chartRef": {"kind": "HelmChart", "name": "app"},
                "values": {"message": "one"},
            },
            "status": {},
        }

    def spec(self, **changes: Any) -> None:
        self.obj["spec"].update(changes)
        self.obj["metadata"]["generation"] += 1

    async def run(self) -> Result:
        """One run as the runtime does it: on a copy, keeping the status it wrote."""
        obj = copy.deepcopy(self.obj)
        try:
            result = await self.reconciler.reconcile(obj)
        finally:
            self.obj["status"] = obj["status"]
        return result

    def cond(self, type_: str) -> tuple[str | None, str | None]:
        c = conditions.get(self.obj, type_) or {}
        return c.get("status"), c.get("reason")

    @property
    def status(self) -> Obj:
        status: Obj = self.obj["status"]
        return status

    def statuses(self) -> list[str]:
        return [r.status for r in self.engine.releases.get((NS, "web"), [])]


@pytest.fixture
def h() -> Harness:
    return Harness()


async def test_install_then_in_sync_then_upgrade_on_change(h: Harness) -> None:
    result = await h.run()
    assert result.outcome is Outcome.SUCCEEDED
    assert result.reason == "InstallSucceeded"
    assert result.message == f"Helm install succeeded for release {NS}/web.v1 with chart app@1.0.0"
    assert h.cond("Released") == ("True", "InstallSucceeded")
    assert h.status["lastAttemptedReleaseAction"] == "install"
    assert h.status["lastAttemptedRevision"] == "1.0.0"
    assert h.status["storageNamespace"] == NS
    assert [e["version"] for e in h.status["history"]] == [1]
    assert h.events.reasons == ["InstallSucceeded"]

    result = await h.run()  # nothing changed: no Helm action
    assert result.outcome is Outcome.SUCCEEDED
    assert h.engine.calls == ["install"]

    h.spec(values={"message": "two"})
    result = await h.run()
    assert result.reason == "UpgradeSucceeded"
    assert h.engine.calls == ["install", "upgrade"]
    assert [(e["version"], e["status"]) for e in h.status["history"]] == [
        (2, "deployed"),
        (1, "superseded"),
    ]


async def test_failed_upgrade_is_rolled_back_retried_then_stalls(h: Harness) -> None:
    h.obj["spec"]["upgrade"] = {"remediation": {"retries": 1}}
    await h.run()
    h.engine.fail["upgrade"] = ReleaseTimeoutError("upgrade timed out", action="upgrade")
    h.spec(values={"message": "broken"})

    with pytest.raises(ReconcileError) as first:
        await h.run()
    assert first.value.reason == "UpgradeFailed"
    assert "Helm rollback to previous release apps/web.v1 with chart app@1.0.0 succeeded" in (
        first.value.message
    )
    assert "retrying (attempt 1 of 2)" in first.value.message
    assert h.cond("Remediated") == ("True", "RollbackSucceeded")
    assert h.status["upgradeFailures"] == 1
    assert h.statuses() == ["superseded", "failed", "deployed"]

    with pytest.raises(Stalled) as second:
        await h.run()
    assert second.value.reason == "RetriesExceeded"
    assert second.value.message.startswith("Failed to upgrade after 2 attempt(s)")
    assert h.status["upgradeFailures"] == 2
    assert h.engine.calls == ["install", "upgrade", "rollback:1", "upgrade", "rollback:3"]

    # Further runs with the same desired state do nothing.
    with pytest.raises(Stalled):
        await h.run()
    assert h.engine.calls[-1] == "rollback:3"

    # A new desired state resets the counters and upgrades.
    del h.engine.fail["upgrade"]
    h.spec(values={"message": "fixed"})
    result = await h.run()
    assert result.reason == "UpgradeSucceeded"
    assert "upgradeFailures" not in h.status
    assert conditions.get(h.obj, "Remediated") is None


async def test_default_upgrade_failure_stalls_without_remediation(h: Harness) -> None:
    await h.run()
    h.engine.fail["upgrade"] = ReleaseError("upgrade failed: boom", action="upgrade")
    h.spec(values={"message": "x"})
    with pytest.raises(Stalled) as err:
        await h.run()
    assert err.value.reason == "RetriesExceeded"
    assert "boom" in err.value.message
    assert h.statuses()[-1] == "failed"  # retries 0, remediateLastFailure false: left failed
    assert h.cond("Released") == ("False", "UpgradeFailed")
    assert "UpgradeFailed" in h.events.reasons


async def test_remediate_last_failure_with_uninstall_strategy(h: Harness) -> None:
    h.obj["spec"]["upgrade"] = {
        "remediation": {"remediateLastFailure": True, "strategy": "uninstall"}
    }
    await h.run()
    h.engine.fail["upgrade"] = ReleaseError("upgrade failed: boom", action="upgrade")
    h.spec(values={"message": "x"})
    with pytest.raises(Stalled):
        await h.run()
    assert h.engine.calls[-1] == "uninstall"
    assert h.cond("Remediated") == ("True", "UninstallSucceeded")
    assert h.statuses() == []


async def test_upgrade_that_does_not_render_keeps_the_deployed_release(h: Harness) -> None:
    """Values that break a template fail the upgrade before Helm stores anything: remediation
    has nothing to undo, and the working release must not be uninstalled."""
    h.obj["spec"]["upgrade"] = {
        "remediation": {"retries": 1, "remediateLastFailure": True, "strategy": "uninstall"}
    }
    await h.run()
    h.engine.fail["upgrade"] = RenderError("template: missing value", action="upgrade")
    h.spec(values={"message": "x"})
    with pytest.raises(ReconcileError):
        await h.run()
    assert "uninstall" not in h.engine.calls
    assert h.statuses() == ["deployed"]


async def test_install_failure_retries_with_uninstall_remediation(h: Harness) -> None:
    h.obj["spec"]["install"] = {"remediation": {"retries": 2}}
    h.engine.fail["install"] = ReleaseError("install failed: nope", action="install")
    with pytest.raises(ReconcileError) as err:
        await h.run()
    assert err.value.reason == "InstallFailed"
    assert h.engine.calls == ["install", "uninstall"]
    assert h.cond("Remediated") == ("True", "UninstallSucceeded")
    del h.engine.fail["install"]
    result = await h.run()
    assert result.reason == "InstallSucceeded"
    assert conditions.get(h.obj, "Remediated") is None
    assert h.status["installFailures"] == 1  # same desired state: the count stays


async def test_render_error_stalls_with_the_template_message(h: Harness) -> None:
    h.engine.fail["install"] = RenderError(
        "install: the chart failed to render: image.tag is required", action="install"
    )
    with pytest.raises(Stalled) as err:
        await h.run()
    assert "image.tag is required" in err.value.message
    assert h.statuses() == []  # nothing stored, nothing to remediate
    assert h.engine.calls == ["install"]


async def test_retry_on_failure_strategy(h: Harness) -> None:
    h.obj["spec"]["install"] = {"strategy": {"name": "RetryOnFailure", "retryInterval": "30s"}}
    h.engine.fail["install"] = ReleaseError("install failed: nope", action="install")
    with pytest.raises(ReconcileError) as err:
        await h.run()
    assert err.value.retry_after == 30.0
    assert "(RetryOnFailure)" in err.value.message
    assert h.engine.calls == ["install"]  # no remediation
    with pytest.raises(ReconcileError):
        await h.run()  # the failed release is tried again (reinstalled), never stalls
    assert h.engine.calls == ["install", "uninstall", "install"]


async def test_tests_run_after_release_and_failures_remediate(h: Harness) -> None:
    h.obj["spec"]["test"] = {"enable": True}
    result = await h.run()
    assert result.reason == "TestSucceeded"
    assert h.status["history"][0]["testHooks"]["smoke"]["phase"] == "Succeeded"
    assert h.engine.calls == ["install", "test"]

    h.engine.fail["test"] = ReleaseTestError("x", action="test")
    h.obj["spec"]["upgrade"] = {"remediation": {"retries": 0, "remediateLastFailure": True}}
    h.spec(values={"message": "two"})
    with pytest.raises(Stalled) as err:
        await h.run()
    assert "Helm test failed" in err.value.message
    assert h.engine.calls[-3:] == ["upgrade", "test", "rollback:1"]
    assert h.cond("TestSuccess") == ("False", "TestFailed")


async def test_ignored_test_failures_leave_the_release_ready(h: Harness) -> None:
    h.obj["spec"]["test"] = {"enable": True, "ignoreFailures": True}
    h.engine.fail["test"] = ReleaseTestError("x", action="test")
    result = await h.run()
    assert result.outcome is Outcome.SUCCEEDED
    assert result.reason == "InstallSucceeded"
    assert h.cond("TestSuccess") == ("False", "TestFailed")


async def test_force_and_reset_annotations(h: Harness) -> None:
    await h.run()
    h.obj["metadata"]["annotations"] = {
        "reconcile.fluxcd.io/requestedAt": "t1",
        "reconcile.fluxcd.io/forceAt": "t1",
    }
    result = await h.run()
    assert result.reason == "UpgradeSucceeded"  # forced although nothing changed
    assert h.status["lastHandledForceAt"] == "t1"
    await h.run()
    assert h.engine.calls == ["install", "upgrade"]  # handled once

    h.engine.fail["upgrade"] = ReleaseError("upgrade failed: boom", action="upgrade")
    h.spec(values={"message": "x"})
    with pytest.raises(Stalled):
        await h.run()
    h.obj["metadata"]["annotations"] = {
        "reconcile.fluxcd.io/requestedAt": "t2",
        "reconcile.fluxcd.io/resetAt": "t2",
    }
    del h.engine.fail["upgrade"]
    result = await h.run()  # counters reset: the failed release is remediated, then upgraded
    assert result.reason == "UpgradeSucceeded"
    assert h.status["lastHandledResetAt"] == "t2"


async def test_dependencies_and_storage_namespace(h: Harness) -> None:
    h.obj["spec"]["dependsOn"] = [{"name": "db"}]
    result = await h.run()
    assert (result.outcome, result.reason) == (Outcome.WAITING, "DependencyNotReady")
    assert result.delay == 5.0
    h.others[(NS, "db")] = {
        "metadata": {"name": "db", "namespace": NS, "generation": 2},
        "status": {
            "observedGeneration": 2,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }
    assert (await h.run()).outcome is Outcome.SUCCEEDED


async def test_storage_namespace_other_than_the_release_namespace(h: Harness) -> None:
    h.spec(targetNamespace="elsewhere", storageNamespace="flux-system")
    result = await h.run()
    assert result.reason == "InstallSucceeded"
    assert h.status["storageNamespace"] == "flux-system"
    # the records live in the storage namespace; the action ran in the release namespace
    assert [r.revision for r in h.engine.releases[("flux-system", "elsewhere-web")]] == [1]
    assert ("elsewhere", "elsewhere-web") not in h.engine.releases
    assert h.storage.moves == ["stage:elsewhere-web", "unstage:elsewhere-web"]
    assert h.status["history"][0]["namespace"] == "elsewhere"

    assert (await h.run()).outcome is Outcome.SUCCEEDED  # nothing to do: nothing moved
    assert len(h.storage.moves) == 2

    h.spec(values={"message": "two"})
    assert (await h.run()).reason == "UpgradeSucceeded"
    assert [r.status for r in h.engine.releases[("flux-system", "elsewhere-web")]] == [
        "superseded",
        "deployed",
    ]


async def test_default_storage_is_the_helmrelease_namespace(h: Harness) -> None:
    h.spec(targetNamespace="elsewhere")
    assert (await h.run()).reason == "InstallSucceeded"
    assert h.status["storageNamespace"] == NS  # Flux's default, not the target namespace
    assert ("apps", "elsewhere-web") in h.engine.releases


async def test_storage_namespace_change_moves_the_records(h: Harness) -> None:
    h.spec(targetNamespace="elsewhere", storageNamespace="elsewhere")
    assert (await h.run()).reason == "InstallSucceeded"
    h.spec(targetNamespace="elsewhere", storageNamespace="flux-system")
    result = await h.run()
    assert result.outcome is Outcome.SUCCEEDED
    assert h.engine.calls == ["install"]  # moved, not reinstalled
    assert h.storage.moves == ["adopt:elsewhere-web:elsewhere->flux-system"]
    assert h.status["storageNamespace"] == "flux-system"


async def test_release_name_change_uninstalls_the_old_release(h: Harness) -> None:
    await h.run()
    h.spec(releaseName="web-v2")
    result = await h.run()
    assert result.reason == "InstallSucceeded"
    assert h.engine.calls == ["install", "uninstall", "install"]
    assert (NS, "web") not in h.engine.releases
    assert h.status["history"][0]["name"] == "web-v2"


async def test_chart_source_not_ready_waits(h: Harness) -> None:
    h.obj["spec"]["chartRef"] = {"kind": "HelmChart", "name": "missing"}
    with pytest.raises(ReconcileError, match="HelmChart 'apps/missing' not found"):
        await h.run()
    ready = CHART["status"]["conditions"][0]
    ready["status"] = "False"
    ready["message"] = "no artifact available for GitRepository source 'fleet', retrying in 30s"
    try:
        h.obj["spec"]["chartRef"] = {"kind": "HelmChart", "name": "app"}
        result = await h.run()
    finally:
        ready["status"] = "True"
        ready["message"] = "x"
    assert (result.outcome, result.reason) == (Outcome.WAITING, "ArtifactFailed")
    assert "HelmChart 'apps/app' is not ready" in result.message
    # The chart's own "retrying in" is not repeated (issue 20.9).
    assert result.message.count("retrying in") == 1, result.message
    assert result.message.endswith("source 'fleet'; retrying in 30s")


async def test_conditions_dropped_by_a_stale_status_write_are_restored(h: Harness) -> None:
    h.obj["spec"]["test"] = {"enable": True}
    await h.run()
    conditions.delete(h.obj, "Released")  # what a status patch from a stale cache leaves
    conditions.delete(h.obj, "TestSuccess")
    result = await h.run()
    assert result.reason == "TestSucceeded"
    assert h.cond("Released") == ("True", "InstallSucceeded")
    released = conditions.get(h.obj, "Released") or {}
    assert released["message"] == (
        f"Helm install succeeded for release {NS}/web.v1 with chart app@1.0.0"
    )
    assert h.engine.calls == ["install", "test"]  # no new action


async def test_ports_stand_for_the_api_server(h: Harness) -> None:
    """Issue 12.10: the reconciler reads the latest copy and builds the inventory through its
    ports (no module function is patched), and writes what the inventory port returned."""
    seen: list[str] = []

    async def latest(namespace: str, name: str) -> Obj | None:
        seen.append(f"latest {namespace}/{name}")
        return None

    async def inventory(*args: Any) -> dict[str, Any]:
        seen.append("inventory")
        return {"entries": [{"id": f"{NS}_web__ConfigMap", "v": "v1"}]}

    h.reconciler.read_latest = latest
    h.reconciler.inventory = inventory
    result = await h.run()
    assert result.outcome is Outcome.SUCCEEDED
    assert seen == [f"latest {NS}/web", "inventory"]
    assert h.status["inventory"] == {"entries": [{"id": f"{NS}_web__ConfigMap", "v": "v1"}]}


def test_nothing_is_patched() -> None:
    """Issue 12.10: README says nothing is mocked; these tests give fakes to ports instead."""
    assert "monkeypatch" not in Path(__file__).read_text().replace('"monkeypatch"', "")
