"""Server-side apply of a Kustomization's objects, staged and drift-aware, as Flux does it.

Stages come from :mod:`weir.kustomize.order`; the objects of a waiting stage (CRDs, Namespaces,
ClusterRoles; then the ``*Class`` kinds) must be Current before the next stage starts. Within a
stage, every object is first *planned* (a few at a time) and only then are changes made:

1. GET the live object.
2. Skip it (action ``skipped``, still part of the inventory) when the manifest or the live object
   says ``kustomize.toolkit.fluxcd.io/reconcile: disabled`` or ``.../ssa: Ignore``, or when the
   manifest says ``ssa: IfNotPresent`` and the object exists.
3. Server-side dry-run apply. If the API server refuses it as an immutable-field change (422,
   409, or "immutable") and ``force`` is on (``spec.force`` or the object's
   ``kustomize.toolkit.fluxcd.io/force: Enabled``), the object is deleted, waited for and
   created again (``created``); otherwise the stage fails naming the object and the API's reason.
4. Unless ``ssa: Merge``, fields owned by kubectl are taken over (:mod:`weir.kustomize.cleanup`).
5. Drift: the dry-run result is compared with the live object (everything but ``metadata`` and
   ``status``, plus labels and annotations). Only new, drifted or cleaned-up objects are really
   applied; the rest are ``unchanged`` and keep their resourceVersion.

Field manager ``kustomize-controller``; conflicts are always forced (the Kustomization owns what
it declares).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.errors import KubeError
from weir.kube import apply as kube
from weir.kube import transport
from weir.kube.errors import ApiError, ConflictError, InvalidError, NotFoundError, UnknownKindError
from weir.kube.resources import ResourceRef, mapper_for
from weir.kustomize import metadata as md
from weir.kustomize.cleanup import cleanup_patch
from weir.kustomize.errors import ApplyError, HealthCheckError
from weir.kustomize.inventory import Entry, ObjectRef
from weir.kustomize.order import Stage, staged
from weir.kustomize.wait import wait_for_health

FIELD_MANAGER = "kustomize-controller"
MAX_ERRORS = 10


class Action(StrEnum):
    CREATED = "created"
    CONFIGURED = "configured"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    DELETED = "deleted"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Change:
    """What happened to one object."""

    entry: Entry
    action: Action

    @property
    def ref(self) -> ObjectRef:
        return self.entry.ref

    def __str__(self) -> str:
        """``Deployment/default/podinfo configured``, as in Flux's events."""
        return f"{self.entry.ref} {self.action}"


@dataclass
class ChangeSet:
    """The changes of one apply, in apply order."""

    changes: list[Change] = field(default_factory=list)

    def to_map(self) -> dict[str, str]:
        """``{inventory id: action}``."""
        return {c.entry.ref.id: str(c.action) for c in self.changes}

    def entries(self) -> list[Entry]:
        """The new inventory: every object, skipped ones included, in apply order."""
        return [c.entry for c in self.changes if c.action is not Action.DELETED]

    def changed(self) -> list[Change]:
        """The changes that touched the cluster (created, configured, deleted)."""
        keep = (Action.CREATED, Action.CONFIGURED, Action.DELETED)
        return [c for c in self.changes if c.action in keep]

    def __str__(self) -> str:
        """Flux's change log: one line per object that changed."""
        return "\n".join(str(c) for c in self.changed())


@dataclass(frozen=True)
class ApplyOptions:
    """How to apply (defaults are Flux's)."""

    field_manager: str = FIELD_MANAGER
    force: bool = False
    """``spec.force``: recreate objects whose immutable fields changed."""
    concurrency: int = 4
    """Objects planned at once (Flux's ``--concurrent-ssa``)."""
    wait_timeout: float = 60.0
    """How long a waiting stage may take to become Current."""
    wait_interval: float = 2.0
    custom_stage_kinds: frozenset[str] = frozenset()
    """Kinds applied in their own stage before the rest (``--custom-apply-stage-kinds``)."""


@dataclass
class _Plan:
    obj: dict[str, Any]
    resource: ResourceRef
    entry: Entry
    action: Action
    live: dict[str, Any] | None = None
    cleanup: list[dict[str, Any]] | None = None
    recreate: bool = False


def _comparable(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    out = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
    out["labels"] = meta.get("labels") or {}
    out["annotations"] = meta.get("annotations") or {}
    return out


def drifted(live: Mapping[str, Any], dry_run: Mapping[str, Any]) -> bool:
    """True when applying would change ``live`` (Flux ignores metadata other than labels and
    annotations, and status)."""
    return _comparable(live) != _comparable(dry_run)


def is_immutable_error(error: ApiError) -> bool:
    """Whether a refused dry-run may be solved by recreating the object (as kubectl and Flux
    decide: Invalid, Conflict, or a message saying "immutable")."""
    return isinstance(error, InvalidError | ConflictError) or "immutable" in str(error).lower()


def _skipped(obj: Mapping[str, Any], live: Mapping[str, Any] | None) -> bool:
    def excluded(o: Mapping[str, Any]) -> bool:
        return md.has_policy(o, md.RECONCILE_KEY, md.DISABLED) or md.has_policy(
            o, md.SSA_KEY, md.SSA_IGNORE
        )

    if excluded(obj):
        return True
    return live is not None and (
        excluded(live) or md.has_policy(obj, md.SSA_KEY, md.SSA_IF_NOT_PRESENT)
    )


class _Applier:
    def __init__(self, api: ApiClient, options: ApplyOptions) -> None:
        self.api = api
        self.options = options
        self.mapper = mapper_for(api)
        self.limit = asyncio.Semaphore(max(1, options.concurrency))

    async def resource(self, obj: Mapping[str, Any]) -> ResourceRef:
        try:
            return await self.mapper.for_object(dict(obj))
        except UnknownKindError:
            self.mapper.invalidate(str(obj.get("apiVersion")))  # a CRD applied moments ago
            return await self.mapper.for_object(dict(obj))

    async def dry_run(self, plan: _Plan) -> dict[str, Any]:
        return await kube.apply(
            self.api,
            plan.obj,
            self.options.field_manager,
            force=True,
            dry_run=True,
            mapper=self.mapper,
        )

    async def plan(self, obj: dict[str, Any]) -> _Plan:
        ref = ObjectRef.of(obj)
        try:
            resource = await self.resource(obj)
        except UnknownKindError as e:
            raise ApplyError(f"{ref} dry-run failed: {e}") from e
        plan = _Plan(obj, resource, Entry.of(obj), Action.UNCHANGED)
        try:
            plan.live = await kube.get(self.api, resource, ref.namespace or None, ref.name)
        except NotFoundError:
            plan.live = None
        except ApiError as e:
            raise ApplyError(f"{ref} get failed ({e.reason or e.code}): {e.message}") from e
        if _skipped(obj, plan.live):
            plan.action = Action.SKIPPED
            return plan
        try:
            dry = await self.dry_run(plan)
        except ApiError as e:
            forced = self.options.force or md.has_policy(obj, md.FORCE_KEY, md.ENABLED)
            if plan.live is None or not (forced and is_immutable_error(e)):
                hint = (
                    " (set spec.force or the kustomize.toolkit.fluxcd.io/force: Enabled "
                    "annotation to recreate it)"
                    if plan.live and "immutable" in e.message.lower()
                    else ""
                )
                raise ApplyError(
                    f"{ref} dry-run failed ({e.reason or e.code}): {e.message}{hint}"
                ) from e
            plan.action, plan.recreate = Action.CREATED, True
            return plan
        except KubeError as e:  # e.g. a namespaced object without a namespace
            raise ApplyError(f"{ref} dry-run failed: {e}") from e
        if plan.live is None:
            plan.action = Action.CREATED
            return plan
        if not md.has_policy(obj, md.SSA_KEY, md.SSA_MERGE):
            plan.cleanup = cleanup_patch(plan.live, self.options.field_manager)
        if plan.cleanup or drifted(plan.live, dry):
            plan.action = Action.CONFIGURED
        return plan

    async def wait_gone(self, plan: _Plan) -> None:
        ref = plan.entry.ref
        uid = ((plan.live or {}).get("metadata") or {}).get("uid")
        deadline = time.monotonic() + self.options.wait_timeout
        while time.monotonic() < deadline:
            try:
                live = await kube.get(self.api, plan.resource, ref.namespace or None, ref.name)
            except NotFoundError:
                return
            if (live.get("metadata") or {}).get("uid") != uid:
                return
            await asyncio.sleep(0.2)
        raise ApplyError(
            f"{ref} was deleted to be recreated (immutable field changed) but is still "
            f"terminating after {self.options.wait_timeout:g}s; check its finalizers"
        )

    async def recreate(self, plan: _Plan) -> None:
        ref = plan.entry.ref
        uid = ((plan.live or {}).get("metadata") or {}).get("uid")
        namespace = ref.namespace or None
        await kube.delete(self.api, plan.resource, namespace, ref.name, missing_ok=True, uid=uid)
        await self.wait_gone(plan)

    async def take_over(self, plan: _Plan) -> None:
        ref = plan.entry.ref
        await kube.patch(
            self.api,
            plan.resource,
            ref.namespace or None,
            ref.name,
            plan.cleanup,
            content_type=transport.JSON_PATCH,
            field_manager=self.options.field_manager,
        )

    async def execute(self, plan: _Plan) -> Change:
        if plan.action in (Action.UNCHANGED, Action.SKIPPED):
            return Change(plan.entry, plan.action)
        try:
            if plan.recreate:
                await self.recreate(plan)
            if plan.cleanup:
                await self.take_over(plan)
            await kube.apply(
                self.api, plan.obj, self.options.field_manager, force=True, mapper=self.mapper
            )
        except ApiError as e:
            raise ApplyError(
                f"{plan.entry.ref} apply failed ({e.reason or e.code}): {e.message}"
            ) from e
        return Change(plan.entry, plan.action)

    async def bounded(self, coro: Any) -> Any:
        async with self.limit:
            return await coro

    async def stage(self, objects: Sequence[dict[str, Any]]) -> list[Change]:
        plans = await _gather([self.bounded(self.plan(o)) for o in objects])
        return await _gather([self.bounded(self.execute(p)) for p in plans])


async def _gather(coros: Sequence[Any]) -> list[Any]:
    """Run all; raise one :class:`ApplyError` listing every failure (in input order)."""
    results = await asyncio.gather(*coros, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    for error in errors:
        if not isinstance(error, ApplyError):
            raise error
    if errors:
        lines = [str(e) for e in errors[:MAX_ERRORS]]
        if len(errors) > MAX_ERRORS:
            lines.append(f"... and {len(errors) - MAX_ERRORS} more")
        raise ApplyError("\n".join(lines)) from errors[0]
    return list(results)


async def apply_all(
    api: ApiClient,
    objects: Iterable[Mapping[str, Any]],
    options: ApplyOptions | None = None,
) -> ChangeSet:
    """Apply ``objects`` (normalized, labelled manifests) stage by stage; see the module
    docstring. Raises :class:`~weir.kustomize.errors.ApplyError`; changes made by earlier stages
    stay made."""
    opts = options or ApplyOptions()
    applier = _Applier(api, opts)
    changes = ChangeSet()
    for stage, group in staged([dict(o) for o in objects], opts.custom_stage_kinds):
        done = await applier.stage(group)
        changes.changes.extend(done)
        if stage.waits:
            await _wait_stage(api, stage, done, group, opts)
    return changes


async def _wait_stage(
    api: ApiClient,
    stage: Stage,
    done: Sequence[Change],
    group: Sequence[Mapping[str, Any]],
    opts: ApplyOptions,
) -> None:
    targets = [o for o, c in zip(group, done, strict=True) if c.action is not Action.SKIPPED]
    try:
        await wait_for_health(api, targets, timeout=opts.wait_timeout, interval=opts.wait_interval)
    except HealthCheckError as e:
        what = (
            "CRDs, Namespaces and ClusterRoles"
            if stage is Stage.CLUSTER_DEFINITIONS
            else ("class objects")
        )
        raise ApplyError(f"{what} did not become ready: {e}") from e
