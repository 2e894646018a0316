"""The HelmRelease reconciler: a chart and its values become a Helm release in the cluster.

One run, in helm-controller's order (the runtime owns Ready / Reconciling / Stalled, the
``requestedAt`` handshake, suspend, the status patch and requeues):

chart source (apply the HelmChart of a ``spec.chart`` template, or read ``spec.chartRef``;
wait until it is Ready) -> dependencies -> release identity and access -> chart download ->
values (``valuesFrom`` then ``values``) -> release state -> one action (+ its tests and
remediation) -> drift detection.

The release state decides the action (helm-controller's state machine):

=================== =========================================================================
absent              install
pending-*           unlock (mark the leftover revision failed), then as failed
failed              a new desired state: upgrade (reinstall when nothing was ever deployed);
                    the same one: remediate and retry, or stall when the retries are spent
deployed, changed   upgrade (reinstall when the chart name changed, unless
                    ``upgrade.chartNameChangeStrategy: InPlaceUpdate``)
deployed, untested  test (``test.enable``)
deployed, in sync   drift detection (``driftDetection.mode``), then Ready
=================== =========================================================================

"Changed" compares the desired chart (name, version, OCI digest), values digest,
post-renderers and commonMetadata with the snapshot of the deployed revision in
``status.history``; a revision weir has no snapshot of is compared through Helm's storage.

Failure counters (``failures``, ``installFailures``, ``upgradeFailures``) belong to one
desired state: a new generation, chart revision or values digest resets them (as does
``reconcile.fluxcd.io/resetAt``). See :mod:`weir.helm.remediation` for what the counters
allow.

Deletion uninstalls the release (unless the HelmRelease is suspended) and deletes the
HelmChart the release owns; a failed uninstall keeps the finalizer, so a release is never
left half-deleted.

Helm's records live in the storage namespace (``spec.storageNamespace``, by default the
HelmRelease's namespace, as in Flux); the engine acts in the release namespace, so
:mod:`weir.helm.storage` moves the records around each write action. Known limit
(``docs/helm.md``): Helm applies with the process's field manager.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from kubernetes_asyncio.client import ApiClient
from pydantic import ValidationError

from weir.api.helm import HelmReleaseSpec
from weir.api.kinds import lookup
from weir.helm import options, releaseops, remediation
from weir.helm import status as hs
from weir.helm.access import Identities
from weir.helm.chartsource import ChartArtifact, ChartCache, ChartSources
from weir.helm.drift import IgnoreRule, correct_drift, detect_drift
from weir.helm.ports import InventoryBuilder, LatestReader, release_inventory
from weir.helm.releaseops import ActionFailed, Run
from weir.helm.settings import HelmSettings
from weir.helm.storage import ReleaseStorage, SecretsStorage
from weir.helm.unlock import unlock
from weir.helmengine.engine import ClusterAccess, HelmEngine, Release, release_name
from weir.helmengine.errors import DriftError, EngineUnavailableError, HelmError
from weir.helmengine.values import ValuesRef, resolve_values, values_checksum, values_digest
from weir.kube import apply as kube
from weir.kube.errors import NotFoundError
from weir.kube.resources import CONFIG_MAPS, SECRETS
from weir.log import kv
from weir.runtime import conditions
from weir.runtime.dependencies import Dependencies
from weir.runtime.durations import format_duration
from weir.runtime.ports import EventSink
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.types import Obj

log = logging.getLogger("weir.helm")

KIND = "HelmRelease"
HELM_RELEASE = lookup("HelmRelease").resource
FORCE_ANNOTATION = "reconcile.fluxcd.io/forceAt"
RESET_ANNOTATION = "reconcile.fluxcd.io/resetAt"
REQUEST_ANNOTATION = "reconcile.fluxcd.io/requestedAt"

Lookup = Callable[[str | None, str], Obj | None]
EngineProvider = Callable[[], HelmEngine]


class HelmReleaseReconciler(Reconciler):
    """Reconciles ``helm.toolkit.fluxcd.io/v2`` HelmReleases (see the module docstring)."""

    def __init__(
        self,
        api: ApiClient,
        engine: EngineProvider,
        sources: ChartSources,
        releases: Lookup,
        *,
        access: ClusterAccess | None = None,
        events: EventSink | None = None,
        settings: HelmSettings | None = None,
        read_latest: LatestReader | None = None,
        inventory: InventoryBuilder | None = None,
        storage: ReleaseStorage | None = None,
    ) -> None:
        self.api = api
        self.engine = engine
        self.sources = sources
        self.releases = releases
        self.events = events
        self.settings = settings or HelmSettings()
        self.dependencies = Dependencies(
            KIND,
            releases,
            self.settings.requeue_dependency,
            self.settings.no_cross_namespace_refs,
        )
        self.read_latest: LatestReader = read_latest or self._read_from_api
        self.inventory: InventoryBuilder = inventory or release_inventory
        self.storage: ReleaseStorage = storage or SecretsStorage()
        self.identities = Identities(
            api,
            access or ClusterAccess(),
            default_service_account=self.settings.default_service_account,
        )
        self.charts = ChartCache()

    async def close(self) -> None:
        await self.charts.aclose()
        await self.identities.aclose()

    # -- the run ------------------------------------------------------------------------------

    async def reconcile(self, obj: Obj) -> Result:
        await self._refresh(obj)
        spec = _parse(obj)
        status = obj.setdefault("status", {})
        force = self._handle_annotations(obj)
        found = await self.sources.artifact(obj, spec)
        if isinstance(found, Result):
            return found
        artifact = found
        waiting = self.dependencies.waiting(obj, spec.depends_on)
        if waiting is not None:
            return waiting
        name, namespace = self._identity(obj, spec)
        storage_ns = spec.storage_namespace or obj["metadata"]["namespace"]
        access, api = await self.identities.for_release(obj["metadata"]["namespace"], spec)
        await self._adopt_records(obj, api, name, storage_ns)
        status["storageNamespace"] = storage_ns
        engine = self._engine()
        try:
            chart = await self.charts.load(engine, artifact)
        except HelmError as e:
            raise ReconcileError(
                "ArtifactFailed",
                f"failed to load the chart of {artifact.display}: {e}",
                retry_after=self.settings.requeue_dependency,
            ) from e
        values = await self._values(obj, spec)
        revision = _revision(chart.info.version, artifact)
        config_digest = values_digest(values)
        changed = self._attempt(obj, revision, artifact, config_digest, values)
        run = Run(
            obj=obj,
            spec=spec,
            name=name,
            namespace=namespace,
            access=access,
            api=api,
            engine=engine,
            chart=chart,
            artifact=artifact,
            values=values,
            config_digest=config_digest,
            post_render=options.post_render_spec(
                obj["metadata"]["name"], obj["metadata"]["namespace"], spec
            ),
            revision=revision,
            events=self.events,
            inventory=self.inventory,
            changed=changed,
            force=force,
            storage_namespace=storage_ns,
            storage=self.storage,
        )
        if force:
            status["lastHandledForceAt"] = _annotations(obj).get(FORCE_ANNOTATION)
        try:
            return await self._converge(run)
        except ActionFailed as e:  # a remediation or uninstall failed: retry with backoff
            raise ReconcileError(e.reason, e.message, revision=revision) from e

    async def finalize(self, obj: Obj) -> Result | None:
        """Uninstall the release (not for a suspended HelmRelease) and delete its HelmChart."""
        status = obj.get("status") or {}
        spec_raw = obj.get("spec") or {}
        meta = obj["metadata"]
        if not spec_raw.get("suspend"):
            await self._uninstall_on_delete(obj)
        else:
            log.info(
                "skipping Helm uninstall for a suspended HelmRelease",
                extra=kv(kind=KIND, namespace=meta["namespace"], name=meta["name"]),
            )
        if status.get("helmChart"):
            await self.sources.delete_chart(obj, str(status["helmChart"]))
        return None

    # -- steps --------------------------------------------------------------------------------

    async def _refresh(self, obj: Obj) -> None:
        """Read the HelmRelease from the API when the cached copy is behind it.

        The state machine trusts ``status.history`` and the release conditions; a run that
        follows the previous one closely (its key was queued again meanwhile) could otherwise
        start from a cache that has not seen the previous run's status yet and write the stale
        history and conditions back.
        """
        meta = obj["metadata"]
        fresh = await self.read_latest(meta["namespace"], meta["name"])
        if fresh is None:
            return
        fresh_meta = fresh.get("metadata") or {}
        if fresh_meta.get("resourceVersion") == meta.get("resourceVersion"):
            return
        obj["status"] = fresh.get("status") or {}
        obj["spec"] = fresh.get("spec") or {}
        for field in ("generation", "resourceVersion", "annotations"):
            if field in fresh_meta:
                meta[field] = fresh_meta[field]

    async def _read_from_api(self, namespace: str, name: str) -> Obj | None:
        try:
            return await kube.get(self.api, HELM_RELEASE, namespace, name)
        except NotFoundError:
            return None

    def _handle_annotations(self, obj: Obj) -> bool:
        """``resetAt`` resets the failure counters; returns whether ``forceAt`` asks for a
        forced action. Both count only when equal to ``requestedAt`` (Flux's handshake)."""
        ann = _annotations(obj)
        status = obj["status"]
        requested = ann.get(REQUEST_ANNOTATION)
        reset = ann.get(RESET_ANNOTATION)
        if reset and reset == requested and reset != status.get("lastHandledResetAt"):
            for field in ("failures", "installFailures", "upgradeFailures"):
                status.pop(field, None)
            status["lastHandledResetAt"] = reset
        forced = ann.get(FORCE_ANNOTATION)
        return bool(forced and forced == requested and forced != status.get("lastHandledForceAt"))

    def _identity(self, obj: Obj, spec: HelmReleaseSpec) -> tuple[str, str]:
        meta = obj["metadata"]
        target = spec.target_namespace or meta["namespace"]
        name = spec.release_name or release_name(meta["name"], spec.target_namespace)
        return name, target

    async def _adopt_records(self, obj: Obj, api: ApiClient, name: str, storage_ns: str) -> None:
        """Move the release's records when its storage namespace changed since the last run
        (``spec.storageNamespace`` edited, or a release weir stored in the release namespace
        before it kept Flux's default)."""
        status = obj.get("status") or {}
        previous = status.get("storageNamespace")
        if not previous or previous == storage_ns:
            return
        history = status.get("history") or []
        old_name = str(history[0].get("name") or name) if history else name
        if await self.storage.adopt(api, old_name, str(previous), storage_ns):
            log.info(
                "moved the Helm records to the storage namespace",
                extra=kv(kind=KIND, release=old_name, source=previous, storage=storage_ns),
            )

    def _engine(self) -> HelmEngine:
        try:
            return self.engine()
        except EngineUnavailableError as e:
            raise Stalled("InitFailed", str(e)) from e

    async def _values(self, obj: Obj, spec: HelmReleaseSpec) -> dict[str, Any]:
        ns = obj["metadata"]["namespace"]

        async def get_object(kind: str, name: str) -> Mapping[str, Any] | None:
            resource = SECRETS if kind == "Secret" else CONFIG_MAPS
            try:
                return await kube.get(self.api, resource, ns, name)
            except NotFoundError:
                return None

        refs = [ValuesRef.from_model(r) for r in spec.values_from or []]
        try:
            return await resolve_values(get_object, refs, spec.values, namespace=ns)
        except HelmError as e:
            message = f"could not compose the values: {e}"
            if e.retryable:
                raise ReconcileError(e.reason, message) from e
            raise Stalled(e.reason, message) from e

    def _attempt(
        self,
        obj: Obj,
        revision: str,
        artifact: ChartArtifact,
        config_digest: str,
        values: dict[str, Any],
    ) -> bool:
        """Record the desired state as the last attempted one; returns whether it differs
        from the previous attempt (which resets the failure counters)."""
        status = obj["status"]
        generation = obj["metadata"].get("generation")
        changed = bool(
            status.get("lastAttemptedGeneration") != generation
            or status.get("lastAttemptedRevision") != revision
            or status.get("lastAttemptedConfigDigest") != config_digest
        )
        if changed:
            for field in ("failures", "installFailures", "upgradeFailures"):
                status.pop(field, None)
        status["lastAttemptedGeneration"] = generation
        status["lastAttemptedRevision"] = revision
        status["lastAttemptedConfigDigest"] = config_digest
        status["lastAttemptedValuesChecksum"] = values_checksum(values)
        if artifact.oci_digest:
            status["lastAttemptedRevisionDigest"] = artifact.oci_digest
        else:
            status.pop("lastAttemptedRevisionDigest", None)
        return changed

    # -- the state machine --------------------------------------------------------------------

    async def _converge(self, run: Run) -> Result:
        await self._uninstall_moved(run)
        releases = await run.history()
        if releases and releases[-1].status.startswith("pending-"):
            pending = releases[-1]
            previous = await unlock(run.api, run.name, run.records_namespace, pending.revision)
            await run.event(
                releaseops.WARNING,
                "Unlocked",
                f"release {pending.key} was left '{previous}' by an interrupted action; marked "
                "failed",
            )
            releases = await run.history()
        run.status["history"] = hs.refresh(run.status.get("history") or [], releases)
        latest = releases[-1] if releases else None
        if latest is None or latest.status == "uninstalled":
            return await self._install(run, replace=latest is not None)
        if latest.status == "uninstalling":
            raise ReconcileError(
                hs.UNINSTALL_FAILED,
                f"release {latest.key} is being uninstalled; waiting for it to finish",
            )
        deployed = [r for r in releases if r.status in hs.SUCCESSFUL]
        if latest.status == "failed":
            return await self._recover(run, releases, latest, deployed)
        if run.force or await self._out_of_sync(run, latest):
            return await self._upgrade(run, latest)
        entry = hs.find(run.status.get("history") or [], run.name, run.namespace, latest.revision)
        if options.tests_enabled(run.spec) and entry is not None:
            if "testHooks" not in entry:
                action = str(run.status.get("lastAttemptedReleaseAction") or "upgrade")
                return await self._test(run, latest, action)
            if (
                _failed_tests(entry)
                and not remediation.for_action(run.spec, _action_of(run)).ignore_test_failures
            ):
                return await self._recover(run, releases, latest, deployed)
        self._in_sync(run, latest)
        await self._drift(run, latest)
        return self._ready(run)

    async def _install(self, run: Run, *, replace: bool = False) -> Result:
        self._stall_if_exhausted(run, "install")
        try:
            release = await releaseops.install(run, replace=replace)
        except ActionFailed as e:
            await self._failed(run, "install", e)
        if options.tests_enabled(run.spec):
            return await self._test(run, release, "install")
        return self._ready(run)

    async def _upgrade(self, run: Run, latest: Release) -> Result:
        if not run.force:
            self._stall_if_exhausted(run, "upgrade")
        chart_name = run.chart.info.name
        strategy = (run.spec.upgrade.chart_name_change_strategy if run.spec.upgrade else None) or (
            "Reinstall"
        )
        if latest.chart_name and latest.chart_name != chart_name and strategy == "Reinstall":
            await releaseops.uninstall(run, remediation=False)
            return await self._install(run, replace=True)
        try:
            release = await releaseops.upgrade(run)
        except ActionFailed as e:
            await self._failed(run, "upgrade", e)
        if options.tests_enabled(run.spec):
            return await self._test(run, release, "upgrade")
        return self._ready(run)

    async def _test(self, run: Run, release: Release, action: str) -> Result:
        try:
            await releaseops.test(run, release)
        except ActionFailed as e:
            policy = remediation.for_action(
                run.spec, "install" if action == "install" else "upgrade"
            )
            if policy.ignore_test_failures:
                return self._ready(run)
            await self._failed(run, "install" if action == "install" else "upgrade", e)
        return self._ready(run)

    async def _recover(
        self, run: Run, releases: list[Release], latest: Release, deployed: list[Release]
    ) -> Result:
        """The latest release failed (or failed its tests) before this run."""
        action: remediation.Action = "upgrade" if deployed else "install"
        policy = remediation.for_action(run.spec, action)
        if run.changed or run.force or policy.retry_on_failure:  # a new attempt
            if deployed:
                return await self._upgrade(run, latest)
            await releaseops.uninstall(run, remediation=False)
            return await self._install(run, replace=True)
        failures = run.failures(action)
        if policy.exhausted(failures):
            self._stall(run, action, failures)
        message = await self._remediate(run, action, policy, releases, latest)
        log.info(
            "remediated a failed release left by an earlier run",
            extra=kv(kind=KIND, name=run.name, namespace=run.namespace, message=message),
        )
        if action == "upgrade":
            fresh = await run.history()
            return await self._upgrade(run, fresh[-1] if fresh else latest)
        return await self._install(run, replace=True)

    async def _failed(
        self, run: Run, action: remediation.Action, failure: ActionFailed
    ) -> NoReturn:
        """Count the failure, remediate as the spec says, and end the run."""
        failures = run.count_failure(action)
        policy = remediation.for_action(run.spec, action)
        if policy.retry_on_failure:
            delay = policy.retry_interval
            raise ReconcileError(
                failure.reason,
                f"{failure.message}; retrying in {format_duration(delay)} (RetryOnFailure)",
                revision=run.revision,
                retry_after=delay,
            )
        remediated = ""
        if policy.remediates(failures):
            releases = await run.history()
            latest = releases[-1] if releases else None
            # An install/upgrade that failed before Helm stored a release (the chart did not
            # render, values broke a template) leaves the deployed release as it was: there is
            # nothing to roll back, and uninstalling it would take down a working release.
            untouched = (
                failure.action != "test" and latest is not None and latest.status in hs.SUCCESSFUL
            )
            if not untouched:
                remediated = await self._remediate(run, action, policy, releases, latest)
        if policy.exhausted(failures):
            self._stall(run, action, failures)
        detail = f"; {remediated}" if remediated else ""
        raise ReconcileError(
            failure.reason,
            f"{failure.message}{detail}; retrying ({policy.describe_attempts(failures)})",
            revision=run.revision,
        )

    async def _remediate(
        self,
        run: Run,
        action: remediation.Action,
        policy: remediation.Remediation,
        releases: list[Release],
        latest: Release | None,
    ) -> str:
        """Roll back or uninstall the failed release; returns what was done ('' for nothing)."""
        if latest is None:
            return ""  # nothing was stored (the chart did not render)
        if action == "upgrade" and policy.strategy == "rollback":
            target = next(
                (
                    r
                    for r in reversed(releases)
                    if r.status in hs.SUCCESSFUL and r.revision < latest.revision
                ),
                None,
            )
            if target is not None:
                return await releaseops.rollback(run, target)
        return await releaseops.uninstall(run, remediation=True)

    def _stall_if_exhausted(self, run: Run, action: remediation.Action) -> None:
        policy = remediation.for_action(run.spec, action)
        failures = run.failures(action)
        if not policy.retry_on_failure and failures and policy.exhausted(failures):
            self._stall(run, action, failures)

    def _stall(self, run: Run, action: str, failures: int) -> NoReturn:
        parts = [f"Failed to {action} after {failures} attempt(s)"]
        for type_ in (hs.RELEASED, hs.TEST_SUCCESS, hs.REMEDIATED):
            cond = conditions.get(run.obj, type_)
            if cond is not None and (type_ == hs.REMEDIATED or cond.get("status") == "False"):
                parts.append(str(cond.get("message")))
        raise Stalled(hs.RETRIES_EXCEEDED, "; ".join(parts), revision=run.revision)

    async def _out_of_sync(self, run: Run, latest: Release) -> bool:
        """Whether the deployed release differs from the desired state."""
        status = run.status
        entry = hs.find(status.get("history") or [], run.name, run.namespace, latest.revision)
        if entry is None:  # a release weir has no snapshot of: ask Helm's storage
            current = await run.engine.status(
                run.access, run.name, run.namespace, storage_namespace=run.records_namespace
            )
            config = values_digest(current.config or {})
            run.record(current, action=None, config_digest=config)
            return (
                current.chart_name != run.chart.info.name
                or current.chart_version != run.chart.info.version
                or config != run.config_digest
            )
        if (
            entry.get("chartName") != run.chart.info.name
            or entry.get("chartVersion") != run.chart.info.version
            or entry.get("configDigest") != run.config_digest
            or entry.get("ociDigest") != run.artifact.oci_digest
        ):
            return True
        observed_pr = status.get("observedPostRenderersDigest")
        if observed_pr is not None and observed_pr != run.post_render.renderers_digest():
            return True
        observed_cm = status.get("observedCommonMetadataDigest")
        cm = (
            run.spec.common_metadata.model_dump(by_alias=True, exclude_none=True)
            if run.spec.common_metadata
            else {}
        )
        return observed_cm is not None and observed_cm != hs.digest_of(cm)

    def _in_sync(self, run: Run, latest: Release) -> None:
        """The deployed release is the desired one: clear what an earlier failure left, and
        restore the release conditions when they are missing (a status written from a stale
        cache can drop them)."""
        entry = hs.find(run.status.get("history") or [], run.name, run.namespace, latest.revision)
        if conditions.get(run.obj, hs.RELEASED) is None and entry is not None:
            action = str(entry.get("action") or ("install" if latest.revision == 1 else "upgrade"))
            reason = hs.INSTALL_SUCCEEDED if action == "install" else hs.UPGRADE_SUCCEEDED
            conditions.mark_true(
                run.obj, hs.RELEASED, reason, hs.succeeded(action, latest, run.chart_display)
            )
        hooks = (entry or {}).get("testHooks")
        if (
            options.tests_enabled(run.spec)
            and hooks
            and conditions.get(run.obj, hs.TEST_SUCCESS) is None
            and not _failed_tests(entry or {})
        ):
            conditions.mark_true(
                run.obj,
                hs.TEST_SUCCESS,
                hs.TEST_SUCCEEDED,
                f"Helm test succeeded for release {latest.key} with chart "
                f"{run.chart_display}: {len(hooks)} test hook(s) completed successfully",
            )
        if conditions.is_true(run.obj, hs.REMEDIATED) or conditions.is_false(run.obj, hs.RELEASED):
            conditions.delete(run.obj, hs.REMEDIATED)
            action = "install" if latest.revision == 1 else "upgrade"
            reason = hs.INSTALL_SUCCEEDED if action == "install" else hs.UPGRADE_SUCCEEDED
            conditions.mark_true(
                run.obj,
                hs.RELEASED,
                reason,
                f"Helm release {latest.key} with chart {run.chart_display} matches the "
                "desired state",
            )
        if not options.tests_enabled(run.spec):
            conditions.delete(run.obj, hs.TEST_SUCCESS)

    async def _drift(self, run: Run, latest: Release) -> None:
        dd = run.spec.drift_detection
        mode = (dd.mode if dd else None) or "disabled"
        if mode == "disabled":
            conditions.delete(run.obj, hs.DRIFTED)
            return
        try:
            current = await run.engine.status(
                run.access, run.name, run.namespace, storage_namespace=run.records_namespace
            )
            report = await detect_drift(
                run.api,
                current.manifest,
                release_name=run.name,
                release_namespace=run.namespace,
                field_manager=run.engine.field_manager,
                ignore=[IgnoreRule.from_model(r) for r in (dd.ignore if dd else None) or []],
            )
        except HelmError as e:
            raise ReconcileError("DriftDetectionFailed", f"drift detection failed: {e}") from e
        if not report.drifted:
            conditions.mark_false(
                run.obj,
                hs.DRIFTED,
                hs.NO_DRIFT_DETECTED,
                f"No drift detected for release {latest.key}",
            )
            return
        summary = report.summary()
        detected = (
            f"Cluster state of release {latest.key} has drifted from the desired state: {summary}"
        )
        if mode == "warn":
            conditions.mark_true(run.obj, hs.DRIFTED, hs.DRIFT_DETECTED, detected)
            await run.event(releaseops.WARNING, hs.DRIFT_DETECTED, detected)
            return
        try:
            await correct_drift(run.api, report, field_manager=run.engine.field_manager)
        except DriftError as e:
            conditions.mark_true(run.obj, hs.DRIFTED, hs.DRIFT_DETECTED, detected)
            await run.event(
                releaseops.WARNING, hs.DRIFT_DETECTED, f"{detected}; correction failed: {e}"
            )
            raise ReconcileError(hs.DRIFT_DETECTED, f"{detected}; correction failed: {e}") from e
        corrected = f"Cluster state of release {latest.key} was corrected: {summary}"
        conditions.mark_false(run.obj, hs.DRIFTED, hs.DRIFT_CORRECTED, corrected)
        await run.event(releaseops.NORMAL, hs.DRIFT_CORRECTED, corrected)

    def _ready(self, run: Run) -> Result:
        ignore = remediation.for_action(run.spec, _action_of(run)).ignore_test_failures
        ok, reason, message = hs.summary(run.obj, ignore_test_failures=ignore)
        if not ok:
            raise ReconcileError(reason, message, revision=run.revision)
        return Result.success(message, reason=reason, revision=run.revision)

    # -- deletion and moves -------------------------------------------------------------------

    async def _uninstall_moved(self, run: Run) -> None:
        """Uninstall the release a changed ``releaseName``/``targetNamespace`` left behind."""
        history = run.status.get("history") or []
        if not history:
            return
        old_name, old_ns = history[0].get("name"), history[0].get("namespace")
        if (old_name, old_ns) == (run.name, run.namespace) or not old_name or not old_ns:
            return
        try:
            async with self.storage.staged(
                run.api, str(old_name), str(old_ns), run.records_namespace
            ):
                await run.engine.uninstall(
                    run.access, str(old_name), str(old_ns), options.uninstall_options(run.spec)
                )
        except HelmError as e:
            raise ReconcileError(
                hs.UNINSTALL_FAILED,
                f"failed to uninstall the previous release {old_ns}/{old_name} after the release "
                f"name or namespace changed: {e}",
            ) from e
        await run.event(
            releaseops.NORMAL,
            hs.UNINSTALL_SUCCEEDED,
            f"Helm uninstall succeeded for the previous release {old_ns}/{old_name}: the release "
            f"is now {run.namespace}/{run.name}",
        )
        run.status["history"] = []
        run.status.pop("inventory", None)

    async def _uninstall_on_delete(self, obj: Obj) -> None:
        status = obj.get("status") or {}
        history = status.get("history") or []
        try:
            spec = _parse(obj)
        except Stalled:
            return
        if history:
            name, namespace = str(history[0]["name"]), str(history[0]["namespace"])
        else:
            meta = obj["metadata"]
            namespace = spec.target_namespace or meta["namespace"]
            name = spec.release_name or release_name(meta["name"], spec.target_namespace)
        engine = self._engine()
        access, api = await self.identities.for_release(obj["metadata"]["namespace"], spec)
        storage_ns = str(
            status.get("storageNamespace") or spec.storage_namespace or obj["metadata"]["namespace"]
        )
        try:
            async with self.storage.staged(api, name, namespace, storage_ns):
                gone = await engine.uninstall(
                    access, name, namespace, options.uninstall_options(spec)
                )
        except HelmError as e:
            raise ReconcileError(
                hs.UNINSTALL_FAILED,
                f"Helm uninstall failed for release {namespace}/{name}: {e}; the finalizer "
                "stays until it succeeds",
            ) from e
        if gone is not None and self.events is not None:
            message = (
                f"Helm uninstall succeeded for release {gone.key} with chart "
                f"{hs.chart_display(gone.chart_name, gone.chart_version)}"
            )
            with contextlib.suppress(Exception):  # Events are best effort
                await self.events.event(obj, releaseops.NORMAL, hs.UNINSTALL_SUCCEEDED, message)


# ------------------------------------------------------------------------------- helpers


def _parse(obj: Obj) -> HelmReleaseSpec:
    try:
        return HelmReleaseSpec.model_validate(obj.get("spec") or {})
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise Stalled("InvalidSpec", f"invalid HelmRelease: {where}: {first['msg']}") from e


def _annotations(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("annotations") or {})


def _revision(chart_version: str, artifact: ChartArtifact) -> str:
    """``lastAttemptedRevision``: the chart version; for an OCIRepository source
    ``<version>+<first 12 hex of the manifest digest>`` (Flux's chart digest tracking)."""
    digest = artifact.oci_digest
    if not digest:
        return chart_version
    hex_part = digest.split(":", 1)[-1][:12]
    return f"{chart_version.split('+', 1)[0]}+{hex_part}"


def _action_of(run: Run) -> remediation.Action:
    return "install" if run.status.get("lastAttemptedReleaseAction") == "install" else "upgrade"


def _failed_tests(entry: Mapping[str, Any]) -> bool:
    hooks = entry.get("testHooks") or {}
    return any((h or {}).get("phase") == "Failed" for h in hooks.values())
