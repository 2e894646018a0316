"""The ResourceSetInputProvider reconciler.

One run::

    schedule (InvalidSchedule: Stalled) -> outside every window and not forced: skip
    -> Static: defaultValues + id | forge: change requests, branches or tags | registry: tags
    -> filter, skip labels, defaultValues -> status.exportedInputs, lastExportedRevision
    -> next run: reconcileEvery, or the next window (status.nextSchedule)

A refused token, a forge that is down or a bad answer is ``ReconciliationFailed`` (retried
with backoff) and **the exported inputs stay as they were**, so the ResourceSets fed by the
provider keep what they generated. Outside the deployment windows the run changes nothing
(Normal event ``SkippedDueToSchedule``), unless forced with ``reconcile.fluxcd.io/requestedAt``
and ``reconcile.fluxcd.io/forceAt`` set to the same value (``weir reconcile rsip --force``).

Types weir does not implement (``GitLabEnvironment``, ``AWSCodeCommit*``, ``ExternalService``,
``ExternalArtifact``) and GitHub App credentials are Stalled with a message naming them.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.api.resourceset import ResourceSetInputProvider
from weir.errors import ConfigError
from weir.kube.events import EventRecorder
from weir.log import kv, object_logger
from weir.oci.auth import credentials_from_dockerconfig
from weir.oci.client import RegistryClient
from weir.oci.errors import OCIError
from weir.oci.reference import parse_url
from weir.operator.gotemplate.goyaml import dump
from weir.operator.inputs import secrets
from weir.operator.inputs.filters import (
    FilterError,
    Filters,
    Item,
    apply_skip,
    checksum_id,
    with_defaults,
)
from weir.operator.inputs.forges import Credentials, ForgeError, kind_of, open_forge
from weir.operator.inputs.schedule import Entry, NextWindow, ScheduleError, Scheduler
from weir.operator.report.metrics import OperatorMetrics
from weir.runtime import conditions
from weir.runtime.durations import format_duration, parse_duration
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.types import Obj

log = logging.getLogger("weir.operator.inputs")

FINALIZER = "fluxcd.controlplane.io/finalizer"
RECONCILE_ANNOTATION = "fluxcd.controlplane.io/reconcile"
EVERY_ANNOTATION = "fluxcd.controlplane.io/reconcileEvery"
TIMEOUT_ANNOTATION = "fluxcd.controlplane.io/reconcileTimeout"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
FORCE_AT = "reconcile.fluxcd.io/forceAt"
DEFAULT_EVERY = 600.0
DEFAULT_TIMEOUT = 120.0

SUCCEEDED = "ReconciliationSucceeded"
FAILED = "ReconciliationFailed"
INVALID_SCHEDULE = "InvalidSchedule"
SKIPPED = "SkippedDueToSchedule"
INVALID_DEFAULTS = "InvalidDefaultValues"
OCI_TYPES = ("OCIArtifactTag", "ACRArtifactTag", "ECRArtifactTag", "GARArtifactTag")


def _annotations(obj: Obj) -> dict[str, Any]:
    return dict((obj.get("metadata") or {}).get("annotations") or {})


def annotation_seconds(obj: Obj, key: str, default: float) -> float:
    raw = _annotations(obj).get(key)
    if not raw:
        return default
    try:
        return parse_duration(str(raw))
    except (ValueError, ConfigError):
        return default


def timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def inputs_digest(inputs: list[Obj]) -> str:
    """``lastExportedRevision``: sha256 of the exported inputs as YAML (sorted keys)."""
    return "sha256:" + hashlib.sha256(dump(inputs).encode()).hexdigest()


def scheduler_of(provider: ResourceSetInputProvider, limit: float) -> Scheduler:
    entries = [
        Entry(s.cron, s.time_zone or "UTC", str(s.window or "0s"))
        for s in provider.spec.schedule or []
    ]
    return Scheduler(entries, limit)


def next_schedule_wire(window: NextWindow) -> Obj:
    return {
        "cron": window.entry.cron,
        "timeZone": window.entry.time_zone,
        "window": window.entry.window,
        "when": timestamp(window.when),
    }


class ResourceSetInputProviderReconciler(Reconciler):
    """See the module docstring."""

    finalizer = FINALIZER

    def __init__(
        self,
        api: ApiClient,
        *,
        events: EventRecorder | None = None,
        metrics: OperatorMetrics | None = None,
        clock: Any = None,
    ) -> None:
        self.api = api
        self.events = events
        self.metrics = metrics
        self.clock = clock or (lambda: datetime.now(UTC))

    # -- runtime hooks ------------------------------------------------------------------------
    def is_suspended(self, obj: Obj) -> bool:
        return str(_annotations(obj).get(RECONCILE_ANNOTATION, "")).lower() == "disabled"

    def interval(self, obj: Obj) -> float | None:
        return annotation_seconds(obj, EVERY_ANNOTATION, DEFAULT_EVERY)

    async def finalize(self, obj: Obj) -> Result | None:
        if self.metrics is not None:
            uid = str((obj.get("metadata") or {}).get("uid") or "")
            self.metrics.forget_object("ResourceSetInputProvider", uid)
        return None

    # -- one run --------------------------------------------------------------------------------
    async def reconcile(self, obj: Obj) -> Result:
        started = time.monotonic()
        status = obj.setdefault("status", {})
        try:
            provider = ResourceSetInputProvider.model_validate(obj)
        except ValueError as e:
            raise Stalled(INVALID_DEFAULTS, f"invalid spec: {e}") from e
        timeout = annotation_seconds(obj, TIMEOUT_ANNOTATION, DEFAULT_TIMEOUT)
        try:
            scheduler = scheduler_of(provider, timeout)
        except ScheduleError as e:
            status.pop("nextSchedule", None)
            raise Stalled(INVALID_SCHEDULE, f"Reconciliation failed terminally: {e}") from e
        force = self._forced(obj)
        now = self.clock()
        status.pop("nextSchedule", None)
        if not force and not scheduler.should_reconcile(now):
            return await self._skip(obj, scheduler, now)
        if force:
            status["lastHandledForceAt"] = _annotations(obj)[FORCE_AT]
        try:
            exported = await self._export(provider, timeout)
        except ReconcileError:
            self._metric(obj, "False", FAILED)
            raise
        except Stalled:
            raise
        status["exportedInputs"] = exported
        status["lastExportedRevision"] = inputs_digest(exported)
        interval = annotation_seconds(obj, EVERY_ANNOTATION, DEFAULT_EVERY)
        delay, upcoming = scheduler.requeue_after(self.clock(), interval)
        if upcoming is not None:
            status["nextSchedule"] = next_schedule_wire(upcoming)
        self._metric(obj, "True", SUCCEEDED)
        took = format_duration(round(time.monotonic() - started, 3))
        return Result.success(
            f"Reconciliation finished in {took}",
            reason=SUCCEEDED,
            revision=status["lastExportedRevision"],
            requeue_after=delay,
        )

    def _forced(self, obj: Obj) -> bool:
        ann = _annotations(obj)
        force = ann.get(FORCE_AT)
        if not force:
            return False
        handled = (obj.get("status") or {}).get("lastHandledForceAt")
        return bool(force != handled and ann.get(REQUESTED_AT) == force)

    async def _skip(self, obj: Obj, scheduler: Scheduler, now: datetime) -> Result:
        """Outside every window: nothing changes; the conditions say what they said."""
        upcoming = scheduler.next(now)
        assert upcoming is not None
        status = obj["status"]
        status["nextSchedule"] = next_schedule_wire(upcoming)
        message = f"Reconciliation skipped, next scheduled at {timestamp(upcoming.when)}"
        object_logger(log, "ResourceSetInputProvider", obj).info(message)
        if self.events is not None:
            await self.events.normal(obj, SKIPPED, message)
        delay = max(1.0, (upcoming.when - now).total_seconds())
        ready = conditions.get(obj, "Ready")
        generation = (obj.get("metadata") or {}).get("generation")
        if ready is not None and ready.get("observedGeneration") == generation:
            text, why = str(ready.get("message") or message), str(ready.get("reason") or SKIPPED)
            if ready.get("status") == "True":
                return Result.success(text, reason=why, requeue_after=delay)
            if ready.get("status") == "False":
                return Result.requeue_after(delay, text, reason=why)
        return Result.success(message, reason=SKIPPED, requeue_after=delay)

    async def _export(self, provider: ResourceSetInputProvider, limit: float) -> list[Obj]:
        spec = provider.spec
        defaults = dict(spec.default_values or {})
        if spec.type == "Static":
            values = dict(defaults)
            values["id"] = checksum_id(provider.metadata.uid or provider.name)
            return [values]
        try:
            filters = Filters.of(spec.filter)
        except FilterError as e:
            raise Stalled(FAILED, str(e)) from e
        previous = list((provider.status.exported_inputs if provider.status else None) or [])
        forge = kind_of(spec.type)
        if forge is not None:
            items = await self._forge(provider, forge[0], forge[1], filters, limit)
            return with_defaults(apply_skip(items, spec.skip, previous), defaults)
        if spec.type in OCI_TYPES:
            items = await self._oci(provider, filters, limit)
            return with_defaults([i.to_input() for i in items], defaults)
        raise Stalled(
            FAILED,
            f"provider type {spec.type} is not implemented by weir; use Static, GitHub*, "
            "GitLab* (not GitLabEnvironment), Gitea*, AzureDevOps* or *ArtifactTag",
        )

    async def _tls(self, provider: ResourceSetInputProvider) -> Any:
        ref = provider.spec.cert_secret_ref
        if ref is None:
            return True
        data = await secrets.read(self.api, provider.namespace, ref.name, "spec.certSecretRef")
        return secrets.tls_context(data, f"{provider.namespace}/{ref.name}")

    async def _credentials(self, provider: ResourceSetInputProvider) -> Credentials:
        ref = provider.spec.secret_ref
        if ref is None:
            return Credentials()
        where = f"{provider.namespace}/{ref.name}"
        data = await secrets.read(self.api, provider.namespace, ref.name, "spec.secretRef")
        if "githubAppID" in data:
            raise Stalled(
                FAILED,
                f"secret '{where}' holds GitHub App keys: weir does not implement GitHub App "
                "authentication yet; use a token in 'username'/'password'",
            )
        for key in ("username", "password"):
            if key not in data:
                raise ReconcileError(FAILED, f"invalid secret '{where}': key '{key}' is missing")
        return Credentials(
            token=data["password"].decode().strip(), username=data["username"].decode().strip()
        )

    async def _forge(
        self,
        provider: ResourceSetInputProvider,
        forge: str,
        what: Any,
        filters: Filters,
        limit: float,
    ) -> list[Item]:
        creds = await self._credentials(provider)
        verify = await self._tls(provider)
        client = open_forge(forge, str(provider.spec.url), creds, timeout=limit, verify=verify)
        try:
            return await client.fetch(what, filters)
        except ForgeError as e:
            raise ReconcileError(FAILED, f"failed to call Git provider: {e}") from e
        finally:
            await client.close()

    async def _oci(
        self, provider: ResourceSetInputProvider, filters: Filters, limit: float
    ) -> list[Item]:
        spec = provider.spec
        url = str(spec.url)
        try:
            ref = parse_url(url if url.startswith("oci://") else f"oci://{url}")
        except Exception as e:
            raise Stalled(FAILED, f"invalid OCI URL {url!r}: {e}") from e
        creds = None
        if spec.secret_ref is not None:
            data = await secrets.read(
                self.api, provider.namespace, spec.secret_ref.name, "spec.secretRef"
            )
            config = data.get(".dockerconfigjson") or data.get(".dockercfg")
            if config is not None:
                creds = credentials_from_dockerconfig(config, ref.registry)
            elif "username" in data and "password" in data:
                from weir.oci.auth import Credentials as OCICredentials  # noqa: PLC0415

                creds = OCICredentials(data["username"].decode(), data["password"].decode())
        verify = await self._tls(provider)
        repo = url.removeprefix("oci://")
        try:
            async with RegistryClient(
                credentials=creds, insecure=bool(spec.insecure), verify=verify, timeout=limit
            ) as oci:
                tags = filters.tag_names(await oci.list_tags(ref))
                items = []
                for tag in tags:
                    digest = await oci.resolve(ref.with_tag(tag))
                    items.append(Item(id=checksum_id(tag), tag=tag, digest=digest))
                return items
        except OCIError as e:
            raise ReconcileError(
                FAILED, f"failed to call OCI provider: failed to list OCI tags for '{repo}': {e}"
            ) from e

    def _metric(self, obj: Obj, ready: str, reason: str) -> None:
        if self.metrics is not None:
            url = str((obj.get("spec") or {}).get("url") or "")
            self.metrics.set_object(obj, ready=ready, reason=reason, url=url)
            object_logger(log, "ResourceSetInputProvider", obj).debug(
                "metrics", extra=kv(ready=ready)
            )
