"""The ResourceSet reconciler.

One run::

    dependsOn (InvalidCELExpression: Stalled; unmet: DependencyNotReady, re-checked every 5s)
    -> inputs: spec.inputs + the exportedInputs of the providers inputsFrom selects
    -> render (Go templates; BuildFailed: Stalled, nothing applied)
    -> apply server-side as flux-operator (impersonating spec.serviceAccountName), by steps
    -> garbage collection of what is no longer rendered -> ApplySucceeded event
    -> spec.wait: health of the applied objects (HealthCheckFailed)
    -> status: inventory, lastAppliedRevision, history (metadata inputs/resources) -> Ready

Bad input (a template that does not parse or execute, a missing key, a permutation over the
cap, a provider that does not exist) ends the run before anything is applied: Ready=False and
Stalled with reason ``BuildFailed``, and the objects generated before stay as they are (the
inventory is not touched). When the providers export nothing, the set is empty and everything
generated before is garbage-collected (a closed pull request's preview goes away).

Annotations are the Flux Operator's: ``fluxcd.controlplane.io/reconcile: disabled`` suspends,
``reconcileEvery`` (1h) is the drift-correction interval, ``reconcileTimeout`` (5m) bounds the
health checks, ``fluxcd.controlplane.io/force: enabled`` recreates objects whose immutable fields
changed. Deleting the ResourceSet deletes what it generated (except ``prune: disabled``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.api.resourceset import ResourceSet, ResourceSetInputProvider
from weir.kube.client import impersonating, service_account_user
from weir.kube.events import EventRecorder
from weir.kube.inventory import from_wire, merge_entries, to_wire
from weir.log import kv, object_logger
from weir.operator.inputs.reconciler import annotation_seconds
from weir.operator.instance import history
from weir.operator.report.metrics import OperatorMetrics
from weir.operator.resourceset import (
    PermutationLimitError,
    RenderedStep,
    RenderError,
    Rendering,
    combine_inputs,
    render_resourceset,
    select_providers,
)
from weir.operator.rset import applier
from weir.operator.rset.dependencies import compile_expressions, unmet
from weir.runtime.durations import format_duration
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.ssa.errors import HealthCheckError, InvalidCELExpressionError, SSAError
from weir.types import Obj

log = logging.getLogger("weir.operator.rset")

FINALIZER = "fluxcd.controlplane.io/finalizer"
RECONCILE_ANNOTATION = "fluxcd.controlplane.io/reconcile"
EVERY_ANNOTATION = "fluxcd.controlplane.io/reconcileEvery"
TIMEOUT_ANNOTATION = "fluxcd.controlplane.io/reconcileTimeout"
FORCE_ANNOTATION = "fluxcd.controlplane.io/force"
DEFAULT_EVERY = 3600.0
DEFAULT_TIMEOUT = 300.0

SUCCEEDED = "ReconciliationSucceeded"
FAILED = "ReconciliationFailed"
BUILD_FAILED = "BuildFailed"
HEALTH_FAILED = "HealthCheckFailed"
DEPENDENCY_NOT_READY = "DependencyNotReady"

Providers = Callable[[str], Sequence[Obj]]
"""namespace -> the ResourceSetInputProviders in it (from the informer cache)."""


def _annotations(obj: Obj) -> dict[str, Any]:
    return dict((obj.get("metadata") or {}).get("annotations") or {})


def spec_digest(obj: Obj) -> str:
    data = json.dumps(obj.get("spec") or {}, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(data.encode()).hexdigest()


class ResourceSetReconciler(Reconciler):
    """See the module docstring."""

    finalizer = FINALIZER

    def __init__(
        self,
        api: ApiClient,
        providers: Providers,
        *,
        events: EventRecorder | None = None,
        metrics: OperatorMetrics | None = None,
        requeue_dependency: float = 5.0,
        default_service_account: str | None = None,
    ) -> None:
        self.api = api
        self.providers = providers
        self.events = events
        self.metrics = metrics
        self.requeue_dependency = requeue_dependency
        self.default_service_account = default_service_account
        self._clients: dict[str, ApiClient] = {}

    # -- runtime hooks ------------------------------------------------------------------------
    def is_suspended(self, obj: Obj) -> bool:
        return str(_annotations(obj).get(RECONCILE_ANNOTATION, "")).lower() == "disabled"

    def interval(self, obj: Obj) -> float | None:
        return annotation_seconds(obj, EVERY_ANNOTATION, DEFAULT_EVERY)

    async def close(self) -> None:
        for api in self._clients.values():
            await api.close()
        self._clients.clear()

    def _client(self, rset: ResourceSet) -> ApiClient:
        sa = rset.spec.service_account_name or self.default_service_account
        if not sa:
            return self.api
        user = service_account_user(rset.namespace, sa)
        found = self._clients.get(user)
        if found is None:
            found = self._clients[user] = impersonating(self.api, user)
        return found

    # -- one run --------------------------------------------------------------------------------
    async def reconcile(self, obj: Obj) -> Result:
        started = time.monotonic()
        status = obj.setdefault("status", {})
        try:
            rset = ResourceSet.model_validate(obj)
        except ValueError as e:
            raise Stalled(BUILD_FAILED, f"invalid spec: {e}") from e
        try:
            checked = compile_expressions(rset.spec.depends_on)
        except InvalidCELExpressionError as e:
            raise Stalled(e.reason, f"Reconciliation failed terminally: {e}") from e
        waiting = await unmet(self.api, checked, rset.namespace)
        if waiting is not None:
            return Result.requeue_after(
                self.requeue_dependency,
                f"Retrying dependency check: {waiting}",
                reason=DEPENDENCY_NOT_READY,
            )
        rendering = self._render(obj, rset, started)
        objects = rendering.objects
        revision = applier.objects_digest(objects)
        metadata = {"inputs": str(len(rendering.inputs)), "resources": str(len(objects))}
        timeout = annotation_seconds(obj, TIMEOUT_ANNOTATION, DEFAULT_TIMEOUT)
        api = self._client(rset)
        force = str(_annotations(obj).get(FORCE_ANNOTATION, "")).lower() == "enabled"
        try:
            applied = await applier.apply_steps(api, rendering.steps, force=force, timeout=timeout)
            old = from_wire(status.get("inventory"))
            pruned = await applier.collect_garbage(
                api, old, applied.entries, rset.name, rset.namespace
            )
            status["inventory"] = to_wire(merge_entries(applied.entries, list(pruned.failed)))
            text = applier.change_log(applied, pruned)
            if text and self.events is not None:
                await self.events.normal(obj, "ApplySucceeded", text)
            if text:
                object_logger(log, "ResourceSet", obj).info(
                    "server-side apply completed", extra=kv(output=applied.changes.to_map())
                )
            pruned.raise_for_failures()
            if rset.spec.wait:
                await applier.health(api, objects, applied.skipped, timeout)
        except HealthCheckError as e:
            self._finish(obj, started, revision, HEALTH_FAILED, metadata, "False")
            raise ReconcileError(HEALTH_FAILED, f"health check failed: {e}") from e
        except SSAError as e:
            self._finish(obj, started, revision, FAILED, metadata, "False")
            raise ReconcileError(FAILED, f"reconciliation failed: {e}") from e
        status["lastAppliedRevision"] = revision
        self._finish(obj, started, revision, SUCCEEDED, metadata, "True")
        took = format_duration(round(time.monotonic() - started, 3))
        return Result.success(
            f"Reconciliation finished in {took}", reason=SUCCEEDED, revision=revision
        )

    def _render(self, obj: Obj, rset: ResourceSet, started: float) -> Rendering:
        """Inputs and templates; bad input is Stalled (BuildFailed), nothing applied."""
        try:
            candidates = [
                ResourceSetInputProvider.model_validate(p) for p in self.providers(rset.namespace)
            ]
            chosen = select_providers(rset, candidates)
        except (RenderError, ValueError) as e:
            self._finish(obj, started, spec_digest(obj), BUILD_FAILED, {}, "False")
            raise Stalled(BUILD_FAILED, f"failed to compute inputs: {e}") from e
        try:
            if rset.spec.inputs_from and not combine_inputs(rset, chosen):
                # the providers export nothing: an empty set, so everything generated before
                # is garbage-collected (a closed pull request's preview goes away)
                names = [s.name for s in rset.spec.steps or []] or [""]
                return Rendering(inputs=[], steps=[RenderedStep(n, []) for n in names])
            rendering = render_resourceset(rset, chosen)
        except PermutationLimitError as e:
            self._finish(obj, started, spec_digest(obj), BUILD_FAILED, {}, "False")
            raise Stalled(BUILD_FAILED, f"failed to compute inputs: {e}") from e
        except RenderError as e:
            self._finish(obj, started, spec_digest(obj), BUILD_FAILED, {}, "False")
            raise Stalled(BUILD_FAILED, f"build failed: {e}") from e
        return rendering

    def _finish(  # noqa: PLR0917 - one call shape for every outcome
        self,
        obj: Obj,
        started: float,
        digest: str,
        outcome: str,
        metadata: dict[str, str],
        ready: str,
    ) -> None:
        history.record(obj["status"], digest, outcome, time.monotonic() - started, metadata)
        if self.metrics is not None:
            count = len((obj["status"].get("inventory") or {}).get("entries") or [])
            self.metrics.set_object(
                obj,
                ready=ready,
                reason=outcome,
                resources=str(count),
                revision=str(obj["status"].get("lastAppliedRevision") or ""),
            )

    # -- deletion -------------------------------------------------------------------------------
    async def finalize(self, obj: Obj) -> Result | None:
        meta = obj.get("metadata") or {}
        if self.metrics is not None:
            self.metrics.forget_object("ResourceSet", str(meta.get("uid") or ""))
        entries = from_wire((obj.get("status") or {}).get("inventory"))
        if self.is_suspended(obj) or not entries:
            return None
        try:
            rset = ResourceSet.model_validate(obj)
            api = self._client(rset)
        except ValueError:
            api = self.api
        pruned = await applier.collect_garbage(
            api, entries, [], str(meta.get("name")), str(meta.get("namespace"))
        )
        logger = object_logger(log, "ResourceSet", obj)
        if pruned.failed:
            problems = "; ".join(f"{e.ref}: {why}" for e, why in pruned.failed.items())
            logger.warning("pruning for deleted ResourceSet failed", extra=kv(error=problems))
        elif pruned.deleted:
            logger.info("garbage collected", extra=kv(deleted=len(pruned.deleted)))
        return None
