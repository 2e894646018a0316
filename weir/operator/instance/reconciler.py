"""The FluxInstance reconciler.

One run::

    validate + decide (desired_state) -> render -> kustomize patches -> revision
    -> [local: the controller groups' plans]                 (bad input stops here: Stalled)
    -> apply (server-side, inventory) -> [local: converge the in-process groups]
    -> garbage collection of what is no longer rendered
    -> components' health (Deployments' kstatus / groups' state) and the sync source's,
       polled in the run for up to 30s (then requeued every 5s until reconcileTimeout)
    -> status (components, inventory, revisions, history, notApplicable) -> Ready

Bad input (an unknown component, a version no release implements, a second instance, a
patch that does not apply, invalid settings) ends the run before anything is applied, with
Ready=False and a message saying what to change: the running controllers keep running as
they were. Annotations are the Flux Operator's: ``fluxcd.controlplane.io/reconcile:
disabled`` suspends, ``reconcileEvery`` (1h) is the interval, ``reconcileTimeout`` (5m)
bounds the wait for health.

Deleting the instance stops its controllers first (local groups, or the Deployments), then
deletes what it applied except the CRDs, orphaning what the sync Kustomization applied: the
cluster's workloads are not touched.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kube
from weir.kube.errors import ApiError, NotFoundError
from weir.kube.events import EventRecorder
from weir.kube.inventory import Entry, from_wire, merge_entries, stale_entries, to_wire
from weir.kube.resources import mapper_for
from weir.log import kv, object_logger
from weir.operator.instance import history
from weir.operator.instance.applier import (
    UnitHealth,
    apply_objects,
    collect_garbage,
    deployment_health,
)
from weir.operator.instance.desired import (
    BUILD_FAILED,
    HEALTH_CHECK_FAILED,
    RECONCILIATION_FAILED,
    RECONCILIATION_SUCCEEDED,
    Desired,
    InstanceError,
    Options,
    desired_state,
)
from weir.operator.instance.patches import apply_patches
from weir.operator.instance.plans import SettingsError, local_plans
from weir.operator.instance.render import render
from weir.operator.report.metrics import OperatorMetrics
from weir.runtime.durations import format_duration, parse_duration
from weir.runtime.factories import REGISTRY, ControllerRegistry
from weir.runtime.groups import GroupPlan, GroupRunner, GroupStartError
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.runtime.settings import RunSettings

log = logging.getLogger("weir.operator")
Obj = dict[str, Any]

FINALIZER = "fluxcd.controlplane.io/finalizer"
RECONCILE_ANNOTATION = "fluxcd.controlplane.io/reconcile"
EVERY_ANNOTATION = "fluxcd.controlplane.io/reconcileEvery"
TIMEOUT_ANNOTATION = "fluxcd.controlplane.io/reconcileTimeout"
FORCE_ANNOTATION = "reconcile.fluxcd.io/forceAt"
DEFAULT_EVERY = 3600.0
DEFAULT_TIMEOUT = 300.0
HEALTH_POLL = 5.0
"""Requeue delay of a run that ended still waiting for health."""
IN_RUN_WAIT = 30.0
"""How long one run waits (polling every IN_RUN_POLL seconds) for the components and the sync
source to become healthy before it ends Progressing."""
IN_RUN_POLL = 1.0
SYNC_KINDS = ("GitRepository", "OCIRepository", "Bucket", "Kustomization")
LOCAL_SKIPPED_KINDS = frozenset({"Deployment", "PersistentVolumeClaim"})
"""What local mode does not apply: the controllers run in-process, artifacts on local disk."""


def annotation_duration(obj: Obj, key: str, default: float) -> float:
    raw = ((obj.get("metadata") or {}).get("annotations") or {}).get(key)
    if not raw:
        return default
    return parse_duration(str(raw))


def is_disabled(obj: Obj) -> bool:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(RECONCILE_ANNOTATION, "")).lower() == "disabled"


def digest_of(objects: Sequence[Obj]) -> str:
    """sha256 of the rendered objects (order-independent)."""
    docs = sorted(json.dumps(o, sort_keys=True, separators=(",", ":")) for o in objects)
    return hashlib.sha256("\n".join(docs).encode()).hexdigest()


@dataclass
class _Waiting:
    revision: str
    since: float


class FluxInstanceReconciler(Reconciler):
    """See the module docstring."""

    finalizer = FINALIZER

    def __init__(
        self,
        api: ApiClient,
        options: Options,
        *,
        base: RunSettings,
        runner: GroupRunner | None,
        metrics: OperatorMetrics,
        events: EventRecorder | None = None,
        registry: ControllerRegistry = REGISTRY,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        if options.mode == "local" and runner is None:
            raise ValueError("local mode needs a GroupRunner")
        self.api = api
        self.options = options
        self.base = base
        self.runner = runner
        self.metrics = metrics
        self.events = events
        self.registry = registry
        self.on_change = on_change
        self._waiting: dict[str, _Waiting] = {}

    # -- runtime hooks ------------------------------------------------------------------------
    def is_suspended(self, obj: Obj) -> bool:
        return is_disabled(obj)

    def interval(self, obj: Obj) -> float | None:
        return annotation_duration(obj, EVERY_ANNOTATION, DEFAULT_EVERY)

    # -- one run --------------------------------------------------------------------------------
    async def reconcile(self, obj: Obj) -> Result:
        started = time.monotonic()
        status = obj.setdefault("status", {})
        force = ((obj.get("metadata") or {}).get("annotations") or {}).get(FORCE_ANNOTATION)
        if force:
            status["lastHandledForceAt"] = force
        digest, revision = "", ""
        try:
            desired = desired_state(obj, self.options, self.registry)
            patches = desired.spec.kustomize.patches if desired.spec.kustomize else None
            objects = await apply_patches(render(desired), patches or [])
            digest = digest_of(objects)
            revision = f"{desired.release.flux_tag}@sha256:{digest}"
            status["lastAttemptedRevision"] = revision
            status["notApplicable"] = [
                n.model_dump(by_alias=True) for n in desired.not_applicable
            ] or None
            plans = local_plans(objects, self.base) if self.options.mode == "local" else []
        except (InstanceError, SettingsError) as e:
            reason = e.reason if isinstance(e, InstanceError) else BUILD_FAILED
            self._finish(obj, started, digest, reason, "False", revision)
            raise Stalled(reason, _message(e), revision=revision or None) from e
        await self._announce(obj, desired, revision)
        try:
            await self._apply(obj, desired, objects, plans)
        except ReconcileError as e:
            self._finish(obj, started, digest, e.reason, "False", revision)
            raise
        except Exception as e:
            self._finish(obj, started, digest, RECONCILIATION_FAILED, "False", revision)
            raise ReconcileError(
                RECONCILIATION_FAILED, f"apply failed: {_message(e)}", revision=revision
            ) from e
        units = await self._health(desired)
        status["components"] = self._components(desired, units)
        key = _key(obj)
        if desired.spec.wait is not False:
            waiting = await self._wait_for(desired, units)
            # As the Flux Operator does, wait in the run (polling) for the components and the
            # sync source: Ready turns True a moment after they do, not a requeue later.
            # Beyond IN_RUN_WAIT (or the timeout) the run ends Progressing and is requeued.
            mark = self._mark(key, revision)
            limit = annotation_duration(obj, TIMEOUT_ANNOTATION, DEFAULT_TIMEOUT)
            stop = min(time.monotonic() + IN_RUN_WAIT, mark.since + limit)
            while waiting is not None and time.monotonic() < stop:
                await asyncio.sleep(IN_RUN_POLL)
                units = await self._health(desired)
                status["components"] = self._components(desired, units)
                waiting = await self._wait_for(desired, units)
            if waiting is not None:
                return self._still_waiting(
                    obj, key, started=started, digest=digest, revision=revision, waiting=waiting
                )
        self._waiting.pop(key, None)
        status["lastAppliedRevision"] = revision
        self._finish(obj, started, digest, RECONCILIATION_SUCCEEDED, "True", revision)
        took = format_duration(round(time.monotonic() - started, 3))
        return Result.success(
            f"Reconciliation finished in {took}",
            reason=RECONCILIATION_SUCCEEDED,
            revision=revision,
        )

    def _still_waiting(
        self, obj: Obj, key: str, *, started: float, digest: str, revision: str, waiting: str
    ) -> Result:
        mark = self._mark(key, revision)
        limit = annotation_duration(obj, TIMEOUT_ANNOTATION, DEFAULT_TIMEOUT)
        if time.monotonic() - mark.since > limit:
            self._waiting.pop(key, None)
            self._finish(obj, started, digest, HEALTH_CHECK_FAILED, "False", revision)
            raise ReconcileError(
                HEALTH_CHECK_FAILED,
                f"timeout waiting for: {waiting} (after {format_duration(limit)})",
                revision=revision,
            )
        self._metric(obj, "Unknown", "Progressing", revision)
        return Result.requeue_after(HEALTH_POLL, f"waiting for: {waiting}", revision=revision)

    def _mark(self, key: str, revision: str) -> _Waiting:
        """Since when this instance waits for the health of ``revision``."""
        mark = self._waiting.get(key)
        if mark is None or mark.revision != revision:
            mark = self._waiting[key] = _Waiting(revision, time.monotonic())
        return mark

    async def _announce(self, obj: Obj, desired: Desired, revision: str) -> None:
        applied = str((obj.get("status") or {}).get("lastAppliedRevision") or "")
        if applied == revision or self.events is None:
            return
        if not applied:
            message = f"Installing revision {revision}"
        elif applied.partition("@")[0] != desired.release.flux_tag:
            message = f"Upgrading from {applied.partition('@')[0]} to revision {revision}"
        else:
            message = f"Configuring revision {revision}"
        await self.events.normal(obj, "Progressing", message)

    async def _apply(
        self, obj: Obj, desired: Desired, objects: Sequence[Obj], plans: Sequence[GroupPlan]
    ) -> None:
        status = obj["status"]
        if self.options.mode == "local":
            objects = [o for o in objects if o.get("kind") not in LOCAL_SKIPPED_KINDS]
        applied = await apply_objects(self.api, objects)
        if self.runner is not None:
            try:
                changes = await self.runner.apply(plans)
            except GroupStartError as e:
                raise ReconcileError(HEALTH_CHECK_FAILED, str(e)) from e
            if changes:
                object_logger(log, "FluxInstance", obj).info(
                    "controllers changed", extra=kv(changes=changes)
                )
        old = from_wire(status.get("inventory"))
        stale = stale_entries(old, applied.entries)
        deleted, failed = await collect_garbage(
            self.api, stale, desired.name, desired.namespace, orphan=("Kustomization",)
        )
        status["inventory"] = to_wire(merge_entries(applied.entries, failed))
        if deleted and self.events is not None:
            names = "\n".join(f"{e.ref} deleted" for e in deleted)
            await self.events.normal(obj, "GarbageCollectionSucceeded", names)
        if failed:
            problems = "; ".join(f"{e.ref}: {why}" for e, why in failed.items())
            raise ReconcileError(RECONCILIATION_FAILED, f"garbage collection failed: {problems}")
        if self.on_change is not None:
            self.on_change()

    # -- health ---------------------------------------------------------------------------------
    async def _health(self, desired: Desired) -> list[UnitHealth]:
        names = [u.name for u in desired.units]
        if self.options.mode == "cluster":
            return await deployment_health(self.api, desired.namespace, names)
        assert self.runner is not None
        states = self.runner.states()
        out = []
        for name in names:
            state = states.get(name)
            if state is None:
                out.append(UnitHealth(name, False, False, "not started"))
            elif state.error:
                out.append(UnitHealth(name, False, True, f"Failed {state.error}"))
            elif state.running and state.synced:
                out.append(
                    UnitHealth(
                        name,
                        True,
                        False,
                        f"Current running in-process, {state.workers} workers per controller",
                    )
                )
            else:
                out.append(UnitHealth(name, False, False, "InProgress starting"))
        return out

    def _components(self, desired: Desired, units: Sequence[UnitHealth]) -> list[Obj]:
        """``status.components``: one per component (shards share its image)."""
        by_unit = {u.unit: u for u in units}
        out = []
        for name in desired.components:
            image = by_unit.get(name, UnitHealth(name, False, False, "", desired.image)).image
            if self.options.mode == "local" or not image:
                image = f"weir:{desired.release.weir}"
            repository, _, tag = image.partition("@")[0].rpartition(":")
            entry: Obj = {"name": name, "repository": repository, "tag": tag}
            if "@" in image:
                entry["digest"] = image.partition("@")[2]
            out.append(entry)
        return out

    async def _wait_for(self, desired: Desired, units: Sequence[UnitHealth]) -> str | None:
        """None when healthy; else what is still awaited. Raises ``HealthCheckFailed`` when
        something failed."""
        failed = [f"{u.unit}: {u.message}" for u in units if u.failed]
        sync = await self._sync_health(desired)
        if sync is not None and sync[0] == "failed":
            failed.append(sync[1])
        if failed:
            raise ReconcileError(HEALTH_CHECK_FAILED, "; ".join(failed))
        pending = [f"Deployment/{desired.namespace}/{u.unit}" for u in units if not u.ready]
        if self.options.mode == "local":
            pending = [f"controllers {u.unit} ({u.message})" for u in units if not u.ready]
        if sync is not None:
            pending.append(sync[1])
        return ", ".join(pending) or None

    async def _sync_health(self, desired: Desired) -> tuple[str, str] | None:
        """("failed" | "pending", message) for the sync source, None when Ready."""
        sync = desired.spec.sync
        if sync is None:
            return None
        name = f"{sync.kind}/{desired.namespace}/{desired.sync_name}"
        try:
            resource = await mapper_for(self.api).resolve("source.toolkit.fluxcd.io/v1", sync.kind)
            live = await kube.get(self.api, resource, desired.namespace, desired.sync_name)
        except (NotFoundError, ApiError):
            return "pending", name
        meta, status = live.get("metadata") or {}, live.get("status") or {}
        ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
        # a failing source keeps status.observedGeneration; its condition says which spec
        if ready is None or ready.get("observedGeneration") != meta.get("generation"):
            return "pending", name
        if ready.get("status") == "Unknown":
            return "pending", name
        if ready.get("status") == "False":
            return "failed", (
                f"sync source {name} is not ready: {ready.get('message')}; check spec.sync.url, "
                "spec.sync.ref and spec.sync.pullSecret"
            )
        return None

    # -- bookkeeping ----------------------------------------------------------------------------
    def _finish(  # noqa: PLR0917 - one call shape, six facts of a finished run
        self, obj: Obj, started: float, digest: str, outcome: str, ready: str, revision: str
    ) -> None:
        desired_flux = revision.partition("@")[0]
        history.record(
            obj["status"],
            f"sha256:{digest}" if digest else "sha256:",
            outcome,
            time.monotonic() - started,
            {"flux": desired_flux} if desired_flux else {},
        )
        self._metric(obj, ready, outcome, revision)

    def _metric(self, obj: Obj, ready: str, reason: str, revision: str) -> None:
        spec = obj.get("spec") or {}
        registry = str((spec.get("distribution") or {}).get("registry") or "")
        self.metrics.set_instance(
            obj, ready=ready, reason=reason, registry=registry, revision=revision
        )

    # -- deletion -------------------------------------------------------------------------------
    async def finalize(self, obj: Obj) -> Result | None:
        meta = obj.get("metadata") or {}
        self.metrics.forget_instance(str(meta.get("uid") or ""))
        self._waiting.pop(_key(obj), None)
        if meta.get("namespace") != self.options.namespace:
            return None  # a rejected instance installed nothing
        if self.runner is not None:
            await self.runner.apply([])
        entries = from_wire((obj.get("status") or {}).get("inventory"))
        order = stale_entries(entries, [])
        controllers = [e for e in order if e.ref.kind == "Deployment"]
        rest = [e for e in order if e.ref.kind != "Deployment"]
        name, namespace = str(meta.get("name")), str(meta.get("namespace"))
        _, failed = await collect_garbage(self.api, controllers, name, namespace)
        if not failed and controllers:
            await self._wait_gone(controllers)
        _, more = await collect_garbage(
            self.api, rest, name, namespace, strip_finalizers=SYNC_KINDS
        )
        failed.update(more)
        if failed:
            problems = "; ".join(f"{e.ref}: {why}" for e, why in failed.items())
            raise ReconcileError("DeletionFailed", f"uninstall failed: {problems}")
        if self.on_change is not None:
            self.on_change()
        return None

    async def _wait_gone(self, entries: Sequence[Entry], timeout: float = 60.0) -> None:  # noqa: ASYNC109
        resource = await mapper_for(self.api).resolve("apps/v1", "Deployment")
        deadline = time.monotonic() + timeout
        for entry in entries:
            while time.monotonic() < deadline:
                try:
                    await kube.get(self.api, resource, entry.ref.namespace, entry.ref.name)
                except NotFoundError:
                    break
                await asyncio.sleep(0.5)


def _key(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def _message(e: BaseException) -> str:
    return getattr(e, "message", None) or str(e) or type(e).__name__
