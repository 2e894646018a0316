"""The Helm actions of one HelmRelease run: install, upgrade, test, rollback, uninstall.

Each action calls the engine and records what happened, as helm-controller does: the
``Released`` / ``TestSuccess`` / ``Remediated`` conditions, ``status.history`` snapshots,
``status.inventory``, ``lastAttemptedReleaseAction(Duration)`` and an Event per action
(``InstallSucceeded``, ``UpgradeFailed``, ``RollbackSucceeded``, ...). A failed install,
upgrade or test raises :class:`ActionFailed`; what to do about it (remediation, retry, stall)
is the reconciler's decision (:mod:`weir.helm.remediation`).
"""

from __future__ import annotations

import logging
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from dataclasses import replace as replace_options
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.api.helm import HelmReleaseSpec
from weir.helm import options
from weir.helm import status as hs
from weir.helm import wait as helmwait
from weir.helm.chartsource import FIELD_MANAGER, ChartArtifact, LoadedChart
from weir.helm.ports import InventoryBuilder, release_inventory
from weir.helm.storage import ReleaseStorage, SecretsStorage
from weir.helmengine.crds import apply_crds, crd_documents
from weir.helmengine.engine import ClusterAccess, HelmEngine, Release
from weir.helmengine.errors import HelmError, ReleaseTestError
from weir.helmengine.postrender import PostRenderSpec
from weir.helmengine.values import values_digest
from weir.log import kv
from weir.runtime import conditions
from weir.runtime.durations import format_duration
from weir.runtime.ports import EventSink
from weir.types import Obj

log = logging.getLogger("weir.helm.releaseops")

GROUP = "helm.toolkit.fluxcd.io"
NORMAL, WARNING = "Normal", "Warning"


class ActionFailed(Exception):
    """An install, upgrade or test failed; ``message`` is the status/Event message."""

    def __init__(self, action: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.action = action
        self.reason = reason
        self.message = message


@dataclass
class Run:
    """Everything one reconciliation of a HelmRelease works with."""

    obj: Obj
    spec: HelmReleaseSpec
    name: str
    """Release name."""
    namespace: str
    """Release namespace (``spec.targetNamespace``)."""
    access: ClusterAccess
    api: ApiClient
    engine: HelmEngine
    chart: LoadedChart
    artifact: ChartArtifact
    values: dict[str, Any]
    config_digest: str
    post_render: PostRenderSpec
    revision: str
    """``lastAttemptedRevision``: the chart version (``+<digest[:12]>`` for OCI sources)."""
    events: EventSink | None = None
    inventory: InventoryBuilder = release_inventory
    """Builds ``status.inventory`` (a port: see :mod:`weir.helm.ports`)."""
    changed: bool = False
    """The desired state differs from the last attempted one (counters were reset)."""
    force: bool = False
    """A ``reconcile.fluxcd.io/forceAt`` request is pending."""
    storage_namespace: str = ""
    """Where Helm's records live (``spec.storageNamespace``; the release namespace when
    empty)."""
    storage: ReleaseStorage = field(default_factory=SecretsStorage)
    """Moves the records around write actions when the two namespaces differ (a port)."""

    @property
    def records_namespace(self) -> str:
        return self.storage_namespace or self.namespace

    def staged(self) -> AbstractAsyncContextManager[None]:
        """The records in the release namespace for one Helm write action."""
        return self.storage.staged(self.api, self.name, self.namespace, self.records_namespace)

    async def history(self) -> list[Release]:
        """The release's revisions, read from the storage namespace."""
        return await self.engine.history(
            self.access, self.name, self.namespace, storage_namespace=self.records_namespace
        )

    @property
    def status(self) -> Obj:
        status: Obj = self.obj.setdefault("status", {})
        return status

    @property
    def chart_display(self) -> str:
        return self.chart.display

    @property
    def release_display(self) -> str:
        return hs.release_display(self.namespace, self.name)

    async def event(self, type_: str, reason: str, message: str) -> None:
        if self.events is None:
            return
        annotations = {f"{GROUP}/revision": self.revision}
        if self.config_digest:
            annotations[f"{GROUP}/token"] = self.config_digest
        if self.artifact.origin_revision:
            annotations[f"{GROUP}/originRevision"] = self.artifact.origin_revision
        if self.chart.info.app_version:
            annotations[f"{GROUP}/app-version"] = self.chart.info.app_version
        if self.artifact.oci_digest:
            annotations[f"{GROUP}/oci-digest"] = self.artifact.oci_digest
        try:
            await self.events.event(self.obj, type_, reason, message, annotations)
        except Exception:  # Events are best effort
            return

    # -- history and inventory ------------------------------------------------------------

    def record(
        self, release: Release, *, action: str | None, config_digest: str | None = None
    ) -> None:
        """Put ``release`` at the head of ``status.history`` (and truncate it)."""
        history: list[Obj] = list(self.status.get("history") or [])
        first = next(
            (
                e.get("firstDeployed")
                for e in reversed(history)
                if e.get("name") == release.name and e.get("namespace") == release.namespace
            ),
            None,
        )
        entry = hs.snapshot(
            release,
            config_digest=config_digest or self.config_digest,
            first_deployed=first,
            action=action,
            oci_digest=self.artifact.oci_digest,
        )
        ignore = bool(self.spec.test and self.spec.test.ignore_failures)
        if release.status in hs.SUCCESSFUL:  # Helm superseded the older deployed revision
            history = [
                {**e, "status": "superseded"} if e.get("status") == "deployed" else e
                for e in history
            ]
        self.status["history"] = hs.truncate(hs.record(history, entry), ignore_test_failures=ignore)

    def mark_uninstalled(self, release: Release | None) -> None:
        if release is None:
            return
        history = list(self.status.get("history") or [])
        for i, entry in enumerate(history):
            if (entry.get("name"), entry.get("namespace"), entry.get("version")) == (
                release.name,
                release.namespace,
                release.revision,
            ):
                history[i] = {**entry, "status": "uninstalled", "deleted": conditions.now_rfc3339()}
        self.status["history"] = history

    async def update_inventory(self, manifest: str) -> None:
        crds: list[Obj] = []
        if options.crds_policy(self.spec, "install") != "Skip":
            crds = crd_documents(self.chart.info.crds)
        self.status["inventory"] = await self.inventory(self.api, manifest, self.namespace, crds)

    def count_failure(self, action: str) -> int:
        """Add a failure of ``action``; returns the action's failure count."""
        field = "installFailures" if action == "install" else "upgradeFailures"
        self.status["failures"] = int(self.status.get("failures") or 0) + 1
        self.status[field] = int(self.status.get(field) or 0) + 1
        return int(self.status[field])

    def failures(self, action: str) -> int:
        field = "installFailures" if action == "install" else "upgradeFailures"
        return int(self.status.get(field) or 0)


# ---------------------------------------------------------------------------------- actions


async def _crds(run: Run, action: str) -> None:
    policy = options.crds_policy(run.spec, "install" if action == "install" else "upgrade")
    if policy == "Skip" or not run.chart.info.crds:
        return
    meta = run.obj["metadata"]
    await apply_crds(
        run.api,
        crd_documents(run.chart.info.crds),
        policy,
        field_manager=FIELD_MANAGER,
        origin=(meta["name"], meta["namespace"]),
        action=action,
    )


def _log_wait(run: Run, action: str, own_wait: bool) -> None:
    log.debug(
        "waiting for the release's resources",
        extra=kv(
            release=run.name,
            namespace=run.namespace,
            action=action,
            wait="weir (per object)" if own_wait else "helm",
        ),
    )


def _attempted(run: Run, action: str, started: float) -> None:
    run.status["lastAttemptedReleaseAction"] = action
    run.status["lastAttemptedReleaseActionDuration"] = format_duration(
        round(time.monotonic() - started, 3)
    )


async def _released(run: Run, action: str, release: Release) -> None:
    reason = hs.INSTALL_SUCCEEDED if action == "install" else hs.UPGRADE_SUCCEEDED
    message = hs.succeeded(action, release, run.chart_display)
    conditions.mark_true(run.obj, hs.RELEASED, reason, message)
    conditions.delete(run.obj, hs.REMEDIATED)
    conditions.delete(run.obj, hs.TEST_SUCCESS)
    run.record(release, action=action)
    await run.update_inventory(release.manifest)
    run.status["observedPostRenderersDigest"] = run.post_render.renderers_digest()
    run.status["observedCommonMetadataDigest"] = hs.digest_of(
        run.spec.common_metadata.model_dump(by_alias=True, exclude_none=True)
        if run.spec.common_metadata
        else {}
    )
    run.status["lastReleaseRevision"] = release.revision
    await run.event(NORMAL, reason, message)


async def _not_released(run: Run, action: str, error: HelmError) -> ActionFailed:
    reason = hs.INSTALL_FAILED if action == "install" else hs.UPGRADE_FAILED
    message = hs.failed(action, run.namespace, run.name, run.chart_display, error)
    conditions.mark_false(run.obj, hs.RELEASED, reason, message)
    conditions.delete(run.obj, hs.TEST_SUCCESS)
    # the failed revision Helm stored (none when the chart did not render)
    releases = await run.history()
    if releases and releases[-1].status == "failed":
        run.record(releases[-1], action=action)
    await run.event(WARNING, reason, message)
    return ActionFailed(action, reason, message)


async def install(run: Run, *, replace: bool = False) -> Release:
    """Install the chart (CRDs first, per ``install.crds``)."""
    started = time.monotonic()
    opts = options.install_options(run.spec, run.post_render, replace=replace)
    own_wait = helmwait.applies(opts, run.chart.data, run.values)
    _log_wait(run, "install", own_wait)
    try:
        await _crds(run, "install")
        async with run.staged():
            release = await run.engine.install(
                run.access,
                run.chart.data,
                run.name,
                run.namespace,
                values=run.values,
                options=replace_options(opts, wait=False) if own_wait else opts,
            )
            if own_wait:
                await helmwait.wait_for_release(
                    run.api,
                    release,
                    action="install",
                    timeout=opts.timeout - (time.monotonic() - started),
                    wait_for_jobs=opts.wait_for_jobs,
                )
    except HelmError as e:
        _attempted(run, "install", started)
        raise await _not_released(run, "install", e) from e
    _attempted(run, "install", started)
    await _released(run, "install", release)
    return release


async def upgrade(run: Run) -> Release:
    """Upgrade the release (CRDs first, per ``upgrade.crds``)."""
    started = time.monotonic()
    opts = options.upgrade_options(run.spec, run.post_render)
    own_wait = helmwait.applies(opts, run.chart.data, run.values)
    _log_wait(run, "upgrade", own_wait)
    try:
        await _crds(run, "upgrade")
        async with run.staged():
            before = (
                await helmwait.record_statuses(run.api, run.name, run.namespace)
                if own_wait
                else None
            )
            own_wait = before is not None
            release = await run.engine.upgrade(
                run.access,
                run.chart.data,
                run.name,
                run.namespace,
                values=run.values,
                options=replace_options(opts, wait=False) if own_wait else opts,
            )
            if own_wait:
                await helmwait.wait_for_release(
                    run.api,
                    release,
                    action="upgrade",
                    timeout=opts.timeout - (time.monotonic() - started),
                    wait_for_jobs=opts.wait_for_jobs,
                    before=before,
                )
    except HelmError as e:
        _attempted(run, "upgrade", started)
        raise await _not_released(run, "upgrade", e) from e
    _attempted(run, "upgrade", started)
    await _released(run, "upgrade", release)
    return release


async def test(run: Run, release: Release) -> Release:
    """Run the chart's tests against ``release``; ``TestSuccess`` and the snapshot's
    ``testHooks`` record the outcome."""
    try:
        async with run.staged():
            tested = await run.engine.test(
                run.access, run.name, run.namespace, options.test_options(run.spec)
            )
    except HelmError as e:
        hooks = (
            e.release.test_hooks
            if isinstance(e, ReleaseTestError) and isinstance(e.release, Release)
            else {}
        )
        _set_test_hooks(run, release.revision, hooks)
        message = f"Helm test failed for release {release.key} with chart {run.chart_display}: {e}"
        conditions.mark_false(run.obj, hs.TEST_SUCCESS, hs.TEST_FAILED, message)
        await run.event(WARNING, hs.TEST_FAILED, message)
        raise ActionFailed("test", hs.TEST_FAILED, message) from e
    _set_test_hooks(run, release.revision, tested.test_hooks)
    message = hs.tested(tested, run.chart_display)
    conditions.mark_true(run.obj, hs.TEST_SUCCESS, hs.TEST_SUCCEEDED, message)
    await run.event(NORMAL, hs.TEST_SUCCEEDED, message)
    return tested


def _set_test_hooks(run: Run, revision: int, hooks: Any) -> None:
    history = list(run.status.get("history") or [])
    for i, entry in enumerate(history):
        if entry.get("name") == run.name and entry.get("version") == revision:
            history[i] = {**entry, "testHooks": hs.test_hooks(hooks)}
    run.status["history"] = history


async def rollback(run: Run, target: Release) -> str:
    """Remediate by rolling back to ``target``; returns the message (raises on failure)."""
    prev = f"{hs.release_display(target.namespace, target.name, target.revision)}"
    chart = hs.chart_display(target.chart_name, target.chart_version)
    try:
        async with run.staged():
            release = await run.engine.rollback(
                run.access,
                run.name,
                run.namespace,
                options.rollback_options(run.spec, target.revision),
            )
    except HelmError as e:
        message = f"Helm rollback to previous release {prev} with chart {chart} failed: {e}"
        conditions.mark_false(run.obj, hs.REMEDIATED, hs.ROLLBACK_FAILED, message)
        await run.event(WARNING, hs.ROLLBACK_FAILED, message)
        raise ActionFailed("rollback", hs.ROLLBACK_FAILED, message) from e
    message = f"Helm rollback to previous release {prev} with chart {chart} succeeded"
    conditions.mark_true(run.obj, hs.REMEDIATED, hs.ROLLBACK_SUCCEEDED, message)
    run.record(release, action=None, config_digest=values_digest(release.config or {}))
    await run.update_inventory(release.manifest)
    await run.event(NORMAL, hs.ROLLBACK_SUCCEEDED, message)
    return message


async def uninstall(run: Run, *, remediation: bool) -> str:
    """Uninstall the release (remediation of a failed install, reinstall, or a moved
    release); returns the message (raises on failure)."""
    try:
        async with run.staged():
            gone = await run.engine.uninstall(
                run.access,
                run.name,
                run.namespace,
                options.uninstall_options(run.spec),
            )
    except HelmError as e:
        message = f"Helm uninstall failed for release {run.release_display}: {e}"
        if remediation:
            conditions.mark_false(run.obj, hs.REMEDIATED, hs.UNINSTALL_FAILED, message)
        await run.event(WARNING, hs.UNINSTALL_FAILED, message)
        raise ActionFailed("uninstall", hs.UNINSTALL_FAILED, message) from e
    what = gone.key if gone is not None else run.release_display
    chart = hs.chart_display(gone.chart_name, gone.chart_version) if gone else run.chart_display
    message = f"Helm uninstall succeeded for release {what} with chart {chart}"
    if remediation:
        conditions.mark_true(run.obj, hs.REMEDIATED, hs.UNINSTALL_SUCCEEDED, message)
    run.mark_uninstalled(gone)
    run.status.pop("inventory", None)
    await run.event(NORMAL, hs.UNINSTALL_SUCCEEDED, message)
    return message
