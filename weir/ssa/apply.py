"""Server-side apply of an applier's objects (a Kustomization's, a ResourceSet's), staged and
drift-aware, as Flux does it.

Stages come from :mod:`weir.kube.order`; the objects of a waiting stage (CRDs, Namespaces,
ClusterRoles; then the ``*Class`` kinds) must be Current before the next stage starts. Within a
stage, every object is first *planned* (:func:`plan`, a few at a time) and only then are changes
made:

1. Resolve its resource (discovery) and GET the live object.
2. Skip it (action ``skipped``, still part of the inventory) when the manifest or the live object
   says ``kustomize.toolkit.fluxcd.io/reconcile: disabled`` or ``.../ssa: Ignore``, or when the
   manifest says ``ssa: IfNotPresent`` and the object exists.
3. Server-side dry-run apply. If the API server refuses it as an immutable-field change (422,
   409, or "immutable") and ``force`` is on (``spec.force`` or the object's
   ``kustomize.toolkit.fluxcd.io/force: Enabled``), the object is deleted, waited for and
   created again (``created``); otherwise the stage fails naming the object and the API's reason.
4. Unless ``ssa: Merge``, fields owned by kubectl are taken over (:mod:`weir.ssa.cleanup`).
5. Drift: the dry-run result is compared with the live object (everything but ``metadata`` and
   ``status``, plus labels and annotations). Only new, drifted or cleaned-up objects are really
   applied; the rest are ``unchanged`` and keep their resourceVersion.

Field manager ``kustomize-controller``; conflicts are always forced (the Kustomization owns what
it declares).

Steps 1-5 are :func:`plan`: a :class:`Plan` per object (the action, the live object, the dry-run
result, the clean-up patch), nothing changed. ``weir diff ks`` and the MCP server's
``diff_kustomization`` (:mod:`weir.actions.diff`) use it to show what :func:`apply_all` would do;
they plan a whole build at once, so they pass it as ``pending``: a custom resource whose CRD is
in the build, or an object whose Namespace is, is ``created`` (it cannot be dry-run yet).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from kubernetes_asyncio.client import ApiClient

from weir.errors import KubeError
from weir.kube import apply as kube
from weir.kube import transport
from weir.kube.errors import ApiError, ConflictError, InvalidError, NotFoundError, UnknownKindError
from weir.kube.inventory import Entry, ObjectRef
from weir.kube.order import Stage, staged
from weir.kube.resources import ResourceRef, mapper_for
from weir.ssa.cleanup import cleanup_patch
from weir.ssa.errors import ApplyError, HealthCheckError
from weir.ssa.policies import KUSTOMIZE, SSA_IF_NOT_PRESENT, SSA_MERGE, Policies
from weir.ssa.wait import wait_for_health

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
    resource_version: str | None = None
    """The object's resourceVersion after this apply (None when unknown or skipped)."""
    resource: ResourceRef | None = None
    """The object's REST resource (None when it was not resolved)."""

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
    policies: Policies = KUSTOMIZE
    """The per-object annotations honoured (Flux's Kustomization keys by default)."""


PlanStep = Literal["resolve", "get", "dry-run"]


class PlanError(ApplyError):
    """One object could not be planned: ``ref`` names it, ``step`` says where it failed
    (discovery, reading the live object, the dry-run) and ``cause`` is the error behind it."""

    def __init__(self, message: str, ref: ObjectRef, step: PlanStep, cause: KubeError) -> None:
        super().__init__(message)
        self.ref = ref
        self.step = step
        self.cause = cause


@dataclass
class Plan:
    """What applying one object would do (see the module docstring), decided without changing
    anything."""

    obj: dict[str, Any]
    """The manifest, as it would be applied."""
    entry: Entry
    action: Action = Action.UNCHANGED
    """``created``, ``configured``, ``unchanged`` or ``skipped``; ``unknown`` when planning
    failed (:attr:`error`)."""
    resource: ResourceRef | None = None
    """None when the kind is not served (yet)."""
    live: dict[str, Any] | None = None
    """The object in the cluster; None when it does not exist."""
    dry_run: dict[str, Any] | None = None
    """The server-side dry-run result: the object as applying would leave it."""
    drift: bool = False
    """The dry-run result differs from the live object (:func:`drifted`)."""
    cleanup: list[dict[str, Any]] | None = None
    """The JSON patch taking fields over from kubectl before applying
    (:func:`~weir.ssa.cleanup.cleanup_patch`)."""
    recreate: bool = False
    """Delete and create again: an immutable field changes and force is on."""
    note: str = ""
    """Why the object is ``created`` without a successful dry-run."""
    error: Exception | None = None
    """Why the object could not be planned: a :class:`PlanError`, or the error of discovery or
    of the connection as raised."""

    @property
    def ref(self) -> ObjectRef:
        return self.entry.ref


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


def _skipped(
    obj: Mapping[str, Any], live: Mapping[str, Any] | None, policies: Policies = KUSTOMIZE
) -> bool:
    if policies.excluded(obj):
        return True
    return live is not None and (
        policies.excluded(live) or policies.ssa_is(obj, SSA_IF_NOT_PRESENT)
    )


def _defined_kinds(objects: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(group, kind) of the CRDs among ``objects``."""
    out = set()
    for obj in objects:
        if obj.get("kind") == "CustomResourceDefinition":
            spec = obj.get("spec") or {}
            out.add((str(spec.get("group", "")), str((spec.get("names") or {}).get("kind", ""))))
    return out


def _defined_namespaces(objects: Iterable[Mapping[str, Any]]) -> set[str]:
    """The names of the Namespaces among ``objects``."""
    return {
        str((o.get("metadata") or {}).get("name"))
        for o in objects
        if o.get("kind") == "Namespace" and o.get("apiVersion") == "v1"
    }


class _Planner:
    def __init__(
        self, api: ApiClient, options: ApplyOptions, pending: Iterable[Mapping[str, Any]]
    ) -> None:
        self.api = api
        self.options = options
        self.mapper = mapper_for(api)
        self.limit = asyncio.Semaphore(max(1, options.concurrency))
        ahead = list(pending)
        self.pending_kinds = _defined_kinds(ahead)
        self.pending_namespaces = _defined_namespaces(ahead)

    async def resource(self, obj: Mapping[str, Any], ref: ObjectRef) -> ResourceRef | None:
        """The object's resource; None when its kind is defined by a pending CRD."""
        try:
            return await self.mapper.for_object(dict(obj))
        except UnknownKindError:
            if (ref.group, ref.kind) in self.pending_kinds:
                return None
            self.mapper.invalidate(str(obj.get("apiVersion")))  # a CRD applied moments ago
        try:
            return await self.mapper.for_object(dict(obj))
        except UnknownKindError as e:
            raise PlanError(f"{ref} dry-run failed: {e}", ref, "resolve", e) from e

    async def plan(self, obj: dict[str, Any]) -> Plan:
        async with self.limit:
            return await self._plan(obj)

    async def _plan(self, obj: dict[str, Any]) -> Plan:
        plan = Plan(obj, Entry.of(obj))
        ref = plan.ref
        plan.resource = await self.resource(obj, ref)
        if plan.resource is None:
            plan.action, plan.note = Action.CREATED, "its CRD is created by this build"
            return plan
        try:
            plan.live = await kube.get(self.api, plan.resource, ref.namespace or None, ref.name)
        except NotFoundError:
            plan.live = None
        except ApiError as e:
            message = f"{ref} get failed ({e.reason or e.code}): {e.message}"
            raise PlanError(message, ref, "get", e) from e
        if _skipped(obj, plan.live, self.options.policies):
            plan.action = Action.SKIPPED
            return plan
        try:
            plan.dry_run = await kube.apply(
                self.api,
                obj,
                self.options.field_manager,
                force=True,
                dry_run=True,
                mapper=self.mapper,
            )
        except ApiError as e:
            return self.refused(plan, e)
        except KubeError as e:  # e.g. a namespaced object without a namespace
            raise PlanError(f"{ref} dry-run failed: {e}", ref, "dry-run", e) from e
        if plan.live is None:
            plan.action = Action.CREATED
            return plan
        if not self.options.policies.ssa_is(obj, SSA_MERGE):
            plan.cleanup = cleanup_patch(plan.live, self.options.field_manager)
        plan.drift = drifted(plan.live, plan.dry_run)
        if plan.cleanup or plan.drift:
            plan.action = Action.CONFIGURED
        return plan

    def refused(self, plan: Plan, error: ApiError) -> Plan:
        """A refused dry-run: recreate when forced, ``created`` when its namespace is pending,
        else an error naming the object and the API server's reason."""
        ref, obj = plan.ref, plan.obj
        forced = self.options.force or self.options.policies.forced(obj)
        if plan.live is not None and forced and is_immutable_error(error):
            plan.action, plan.recreate = Action.CREATED, True
            plan.note = "recreated: an immutable field changes"
            return plan
        if (
            plan.live is None
            and isinstance(error, NotFoundError)
            and ref.namespace in self.pending_namespaces
        ):
            plan.action, plan.note = Action.CREATED, f"namespace {ref.namespace} is new"
            return plan
        hint = (
            f" (set spec.force or the {self.options.policies.force}: Enabled "
            "annotation to recreate it)"
            if plan.live is not None and "immutable" in error.message.lower()
            else ""
        )
        raise PlanError(
            f"{ref} dry-run failed ({error.reason or error.code}): {error.message}{hint}",
            ref,
            "dry-run",
            error,
        ) from error


async def plan(
    api: ApiClient,
    objects: Iterable[Mapping[str, Any]],
    options: ApplyOptions | None = None,
    *,
    pending: Iterable[Mapping[str, Any]] = (),
) -> list[Plan]:
    """Plan every object (up to ``options.concurrency`` at once; see the module docstring),
    without changing anything: one :class:`Plan` per object, in input order. An object that
    could not be planned has action ``unknown`` and its :attr:`Plan.error`.

    ``pending``: objects of the same apply that are not in the cluster yet, for planning
    everything at once (``weir diff``) instead of stage by stage: an object whose kind one of
    their CRDs defines, or whose dry-run is refused because its namespace is one of their
    Namespaces, is ``created`` with a :attr:`Plan.note`."""
    planner = _Planner(api, options or ApplyOptions(), pending)
    items = [dict(o) for o in objects]
    results = await asyncio.gather(*(planner.plan(o) for o in items), return_exceptions=True)
    plans = []
    for obj, result in zip(items, results, strict=True):
        if isinstance(result, Plan):
            plans.append(result)
        elif isinstance(result, Exception):
            plans.append(Plan(obj, Entry.of(obj), Action.UNKNOWN, error=result))
        else:
            raise result
    return plans


class _Applier:
    def __init__(self, api: ApiClient, options: ApplyOptions) -> None:
        self.api = api
        self.options = options
        self.mapper = mapper_for(api)
        self.limit = asyncio.Semaphore(max(1, options.concurrency))

    @staticmethod
    def resource(plan: Plan) -> ResourceRef:
        assert plan.resource is not None, "only planned objects of a served kind are applied"
        return plan.resource

    async def wait_gone(self, plan: Plan) -> None:
        ref = plan.entry.ref
        uid = ((plan.live or {}).get("metadata") or {}).get("uid")
        deadline = time.monotonic() + self.options.wait_timeout
        while time.monotonic() < deadline:
            try:
                live = await kube.get(
                    self.api, self.resource(plan), ref.namespace or None, ref.name
                )
            except NotFoundError:
                return
            if (live.get("metadata") or {}).get("uid") != uid:
                return
            await asyncio.sleep(0.2)
        raise ApplyError(
            f"{ref} was deleted to be recreated (immutable field changed) but is still "
            f"terminating after {self.options.wait_timeout:g}s; check its finalizers"
        )

    async def recreate(self, plan: Plan) -> None:
        ref = plan.entry.ref
        uid = ((plan.live or {}).get("metadata") or {}).get("uid")
        namespace = ref.namespace or None
        await kube.delete(
            self.api, self.resource(plan), namespace, ref.name, missing_ok=True, uid=uid
        )
        await self.wait_gone(plan)

    async def take_over(self, plan: Plan) -> None:
        ref = plan.entry.ref
        await kube.patch(
            self.api,
            self.resource(plan),
            ref.namespace or None,
            ref.name,
            plan.cleanup,
            content_type=transport.JSON_PATCH,
            field_manager=self.options.field_manager,
        )

    async def execute(self, plan: Plan) -> Change:
        if plan.action is Action.SKIPPED:
            return Change(plan.entry, plan.action, None, plan.resource)
        if plan.action is Action.UNCHANGED:
            return Change(plan.entry, plan.action, _version(plan.live), plan.resource)
        try:
            if plan.recreate:
                await self.recreate(plan)
            if plan.cleanup:
                await self.take_over(plan)
            applied = await kube.apply(
                self.api, plan.obj, self.options.field_manager, force=True, mapper=self.mapper
            )
        except ApiError as e:
            raise ApplyError(
                f"{plan.entry.ref} apply failed ({e.reason or e.code}): {e.message}"
            ) from e
        return Change(plan.entry, plan.action, _version(applied), plan.resource)

    async def bounded(self, coro: Any) -> Any:
        async with self.limit:
            return await coro


def _version(obj: Mapping[str, Any] | None) -> str | None:
    version = ((obj or {}).get("metadata") or {}).get("resourceVersion")
    return str(version) if version else None


def _raise_failures(errors: Sequence[BaseException]) -> None:
    """Raise the first error that is not an :class:`ApplyError` as it is, else one
    :class:`ApplyError` listing them all (in input order)."""
    for error in errors:
        if not isinstance(error, ApplyError):
            raise error
    if errors:
        lines = [str(e) for e in errors[:MAX_ERRORS]]
        if len(errors) > MAX_ERRORS:
            lines.append(f"... and {len(errors) - MAX_ERRORS} more")
        raise ApplyError("\n".join(lines)) from errors[0]


async def _gather(coros: Sequence[Any]) -> list[Any]:
    """Run all; raise their failures as :func:`_raise_failures` does."""
    results = await asyncio.gather(*coros, return_exceptions=True)
    _raise_failures([r for r in results if isinstance(r, BaseException)])
    return list(results)


async def apply_all(
    api: ApiClient,
    objects: Iterable[Mapping[str, Any]],
    options: ApplyOptions | None = None,
) -> ChangeSet:
    """Apply ``objects`` (normalized, labelled manifests) stage by stage; see the module
    docstring. Every object of a stage is planned (:func:`plan`) before any is changed.
    Raises :class:`~weir.ssa.errors.ApplyError`; changes made by earlier stages stay
    made."""
    opts = options or ApplyOptions()
    applier = _Applier(api, opts)
    changes = ChangeSet()
    for stage, group in staged([dict(o) for o in objects], opts.custom_stage_kinds):
        plans = await plan(api, group, opts)
        _raise_failures([p.error for p in plans if p.error is not None])
        done = await _gather([applier.bounded(applier.execute(p)) for p in plans])
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
