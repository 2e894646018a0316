"""UI actions, through the same code as the CLI (:mod:`weir.actions`):

- ``reconcile``: annotate ``reconcile.fluxcd.io/requestedAt`` (answered at once), then wait in
  the background for the controller to handle it;
- ``reconcile-source``: reconcile the sources first, then the object (in the background);
- ``suspend`` / ``resume``: ``spec.suspend`` off and on (resume also requests a reconcile and
  waits for it in the background).

Who may do what: with a signed-in user, each action first asks the API server whether the user
has the action's custom verb on the object (a ``SelfSubjectAccessReview`` as the user:
``reconcile``, ``suspend``, ``resume``; :data:`VERBS`), as the Flux Operator's UI does, and
then runs impersonating the user (``access: Impersonated``, the default: the native verbs such
as ``patch`` are needed too) or as weir itself (``access: FineGrained``: the custom verb is
enough). The ``flux-web-admin`` ClusterRole (``config/rbac/``) grants both.

The outcome of what runs in the background reaches the UI as an ``ACTION`` change on the live
stream (``data``: ``actionId``, ``action``, ``key``, ``result`` = ``succeeded``, ``failed``,
``timeout`` or ``error``, ``message``). Each action is recorded as a Kubernetes Event with
reason ``WebAction`` on the object (the audit trail: who, with the annotations
``event.toolkit.fluxcd.io/action``, ``/username``, ``/groups`` and ``/subject``) and written
with the field manager ``weir-web``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable

from kubernetes_asyncio.client import ApiClient

from weir.actions.errors import (
    NotSuspendableError,
    ObjectNotFoundError,
    ReconcileTimeoutError,
    SuspendedError,
)
from weir.actions.helmrevisions import check_rollback_target, read_revisions, storage_namespace
from weir.actions.objects import get_object, is_suspended, object_name
from weir.actions.reconcile import ReconcileOutcome, reconcile, request_reconcile, wait_reconciled
from weir.actions.suspend import resume, suspend
from weir.actions.workloads import CRONJOBS, restart, run_job
from weir.api import KindInfo
from weir.auth.rbac import AccessReviewer, Resource
from weir.auth.users import Identity
from weir.errors import UsageError, WeirError
from weir.helmengine.engine import ClusterAccess, HelmEngine, RollbackOptions
from weir.helmengine.errors import EngineUnavailableError, HelmError
from weir.helmengine.service import default_engine
from weir.kube import apply
from weir.kube.client import acting_as
from weir.kube.errors import ApiError, ForbiddenError, NotFoundError
from weir.kube.events import EventRecorder
from weir.log import kv
from weir.types import Obj
from weir.web.changes import ChangeLog
from weir.web.status import flux_row, key_of

log = logging.getLogger("weir.web")

ACTIONS = ("reconcile", "reconcile-source", "suspend", "resume")
VERBS = {
    "reconcile": "reconcile",
    "reconcile-source": "reconcile",
    "suspend": "suspend",
    "resume": "resume",
}
"""The custom RBAC verb each action needs (checked by an access review as the user)."""
FIELD_MANAGER = "weir-web"
COMPONENT = "weir-web"
EVENT_PREFIX = "event.toolkit.fluxcd.io"
WORKLOAD_ACTIONS: dict[str, tuple[str, ...]] = {
    "Deployment": ("restart",),
    "StatefulSet": ("restart",),
    "DaemonSet": ("restart",),
    "CronJob": ("run-job",),
}
"""The actions of each workload kind; both need the custom verb ``restart`` (as in the Flux
Operator's UI, where running a CronJob's job is its restart)."""


WORKLOADS_RBAC = {
    "Deployment": Resource("apps", "deployments"),
    "StatefulSet": Resource("apps", "statefulsets"),
    "DaemonSet": Resource("apps", "daemonsets"),
    "Job": Resource("batch", "jobs"),
    "CronJob": Resource("batch", "cronjobs"),
}


def resource_ref(info: KindInfo) -> Resource:
    """The RBAC resource of a Flux kind."""
    return Resource(info.resource.group, info.resource.plural)


class ActionError(WeirError):
    """An action that cannot be done, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def http_status(error: Exception) -> int:
    """The HTTP status for an error of :mod:`weir.actions` or :mod:`weir.kube`."""
    if isinstance(error, ActionError):
        return error.status
    if isinstance(error, ObjectNotFoundError | NotFoundError):
        return 404
    if isinstance(error, SuspendedError):
        return 409
    if isinstance(error, NotSuspendableError | UsageError):
        return 400
    if isinstance(error, ForbiddenError):
        return 403
    if isinstance(error, ApiError):
        return 502
    return 500


def _waits(obj: Obj) -> bool:
    """OCI HelmRepositories have no status to wait for."""
    spec = obj.get("spec") or {}
    return not (obj.get("kind") == "HelmRepository" and spec.get("type") == "oci")


class ActionRunner:
    """Runs UI actions and follows those that finish in the background."""

    def __init__(self, api: ApiClient, changes: ChangeLog, timeout: float = 300.0) -> None:
        self.api = api
        self.changes = changes
        self.timeout = timeout
        self.events = EventRecorder(api, COMPONENT)
        self._tasks: set[asyncio.Task[None]] = set()
        self._engine: HelmEngine | None = None
        self.reviewer: AccessReviewer | None = None
        """Checks custom verbs (set by the web state when sign-in is on)."""
        self.access_mode = "Impersonated"
        """``Impersonated`` (act as the user) or ``FineGrained`` (act as weir once the custom
        verb is granted)."""

    async def authorize(
        self, identity: Identity | None, verb: str, resource: Resource, namespace: str, name: str
    ) -> None:
        """Raise :class:`ActionError` 403 unless ``identity`` has ``verb`` on the object."""
        if identity is None or self.reviewer is None:
            return
        if await self.reviewer.allowed(identity, verb, resource, namespace, name):
            return
        raise ActionError(
            403,
            f'User "{identity.user}" cannot {verb} resource "{resource}" in the namespace '
            f'"{namespace}": the web UI needs the verb {verb!r} on it (the flux-web-admin '
            "ClusterRole grants it)",
        )

    async def allowed_actions(
        self, identity: Identity | None, info: KindInfo, actions: list[str], obj: Obj
    ) -> dict[str, bool]:
        """Which of the object's ``actions`` the user's rules grant (the buttons shown); each
        action is still checked when it runs."""
        if identity is None or self.reviewer is None:
            return dict.fromkeys(actions, True)
        namespace = str((obj.get("metadata") or {}).get("namespace", ""))
        wanted = {a: VERBS.get(a, a) for a in actions}
        granted = await self.reviewer.verbs(
            identity, resource_ref(info), namespace, set(wanted.values())
        )
        return {a: granted.get(v, False) for a, v in wanted.items()}

    async def allowed_workload_actions(
        self, identity: Identity | None, kind: str, namespace: str, name: str
    ) -> dict[str, bool]:
        """The workload's actions and ``logs`` (reading pod logs), and whether the user's rules
        grant them."""
        actions = WORKLOAD_ACTIONS.get(kind, ())
        if identity is None or self.reviewer is None:
            return {**dict.fromkeys(actions, True), "logs": True}
        ref = WORKLOADS_RBAC[kind]
        granted = await self.reviewer.verbs(identity, ref, namespace, {"restart"})
        logs = await self.reviewer.verbs(identity, Resource("", "pods/log"), namespace, {"get"})
        return {**{a: granted["restart"] for a in actions}, "logs": logs["get"]}

    async def run_workload(
        self, action: str, kind: str, namespace: str, name: str, identity: Identity | None
    ) -> Obj:
        """``restart`` a Deployment/StatefulSet/DaemonSet or ``run-job`` a CronJob, as
        ``identity`` (see the module docstring); returns ``{action, key, message, job?}``."""
        if action not in WORKLOAD_ACTIONS.get(kind, ()):
            allowed = ", ".join(WORKLOAD_ACTIONS.get(kind, ())) or "none"
            raise ActionError(400, f"{kind} has no action {action!r} (its actions: {allowed})")
        await self.authorize(identity, "restart", WORKLOADS_RBAC[kind], namespace, name)
        api = self.client_for(identity)
        key = key_of(kind, namespace, name)
        body: Obj = {"action": action, "key": key}
        user = identity.user if identity is not None else ""
        if action == "restart":
            obj = await restart(api, kind, namespace, name, field_manager=FIELD_MANAGER)
            body["message"] = f"restarted {key}: its pods are being replaced"
        else:
            job = await run_job(api, namespace, name, field_manager=FIELD_MANAGER, created_by=user)
            obj = await apply.get(self.api, CRONJOBS, namespace, name)
            body["job"] = job["metadata"]["name"]
            body["message"] = f"started Job {namespace}/{job['metadata']['name']} from {key}"
        obj.setdefault("kind", kind)
        self.record(obj, action, identity)
        log.info(
            "web action",
            extra=kv(action=action, kind=kind, namespace=namespace, name=name, user=user or None),
        )
        return body

    async def rollback(
        self,
        info: KindInfo,
        namespace: str,
        name: str,
        *,
        revision: int,
        identity: Identity | None,
        access: ClusterAccess,
    ) -> Obj:
        """Suspend a HelmRelease and roll its release back to ``revision`` (see
        :mod:`weir.actions.helmrevisions`). Needs the custom verb ``rollback``; the suspend
        runs like the other actions (as the user, or as weir with FineGrained), Helm's rollback
        as the HelmRelease's own identity (its ``serviceAccountName``, else weir's), as its
        controller would run a remediation."""
        if info.kind != "HelmRelease":
            raise ActionError(400, f"{info.kind} has no release to roll back")
        await self.authorize(identity, "rollback", resource_ref(info), namespace, name)
        hr = await get_object(self.api, info, namespace, name)
        revisions, _ = await read_revisions(self.api, hr)
        target = check_rollback_target(revisions, revision)
        obj = await suspend(
            self.client_for(identity), info, namespace, name, field_manager=FIELD_MANAGER
        )
        account = (hr.get("spec") or {}).get("serviceAccountName")
        as_hr = access.as_service_account(namespace, account) if account else access
        try:
            engine = self._engine or default_engine(concurrency=1)
        except EngineUnavailableError as e:
            raise ActionError(501, f"Helm is not available in this process: {e}") from e
        self._engine = engine
        options = RollbackOptions(revision=revision, storage_namespace=storage_namespace(hr))
        try:
            release = await engine.rollback(as_hr, target.name, target.namespace, options)
        except HelmError as e:
            raise ActionError(
                502, f"Helm could not roll {target.name} back to revision {revision}: {e}"
            ) from e
        key = key_of(info.kind, namespace, name)
        self.record(obj, "rollback", identity, f"revision {revision}")
        log.info(
            "web action",
            extra=kv(
                action="rollback",
                kind=info.kind,
                namespace=namespace,
                name=name,
                revision=revision,
                user=identity.user if identity else None,
            ),
        )
        return {
            "action": "rollback",
            "key": key,
            "revision": release.revision,
            "row": flux_row(obj),
            "message": (
                f"rolled {key} back to revision {revision} (now revision {release.revision}, "
                f"chart {target.chart} {target.chart_version}) and suspended it: fix Git, then "
                "resume it"
            ),
        }

    def record(self, obj: Obj, action: str, identity: Identity | None, subject: str = "") -> None:
        """Audit an action done outside :meth:`run` (downloads, workload actions)."""
        self._spawn(audit(self.events, obj, action, identity, subject))

    def reader_for(self, identity: Identity | None) -> ApiClient:
        """The client reads go through: always as the user when one is signed in (FineGrained
        is about actions only)."""
        if identity is None:
            return self.api
        return acting_as(self.api, identity.user, identity.groups)

    def client_for(self, identity: Identity | None) -> ApiClient:
        """The client an action runs with (see the module docstring)."""
        if identity is None or self.access_mode == "FineGrained":
            return self.api
        return acting_as(self.api, identity.user, identity.groups)

    async def run(
        self,
        action: str,
        info: KindInfo,
        namespace: str,
        name: str,
        identity: Identity | None = None,
    ) -> Obj:
        """Do ``action`` (as ``identity`` when given: impersonated, so RBAC decides); returns
        the response body (``actionId`` when something goes on in the background). Raises
        errors mapped by :func:`http_status`."""
        if action not in ACTIONS:
            raise ActionError(404, f"unknown action {action!r}: use one of {', '.join(ACTIONS)}")
        resource = Resource(info.resource.group, info.resource.plural)
        await self.authorize(identity, VERBS[action], resource, namespace, name)
        api = self.client_for(identity)
        body, obj, background = await self._start(api, action, info, namespace, name)
        if background is not None:
            user = identity.user if identity is not None else None
            body["actionId"] = self._follow(action, body["key"], background, user)
        body["row"] = flux_row(obj)
        self._spawn(self._audit(obj, action, identity))
        log.info(
            "web action",
            extra=kv(
                action=action,
                kind=info.kind,
                namespace=namespace,
                name=name,
                user=identity.user if identity else None,
            ),
        )
        return body

    async def _start(
        self, api: ApiClient, action: str, info: KindInfo, namespace: str, name: str
    ) -> tuple[Obj, Obj, Awaitable[list[Obj]] | None]:
        """The synchronous part of an action: (body, object, what to follow in background)."""
        key = key_of(info.kind, namespace, name)
        body: Obj = {"action": action, "key": key, "actionId": None}
        background: Awaitable[list[Obj]] | None = None
        if action == "reconcile":
            if not info.has_status:
                raise ActionError(400, f"{info.kind} has no status: nothing reconciles it")
            token, obj = await request_reconcile(
                api, info, namespace, name, field_manager=FIELD_MANAGER
            )
            if _waits(obj):
                background = self._wait(api, info, namespace, name, token)
        elif action == "reconcile-source":
            obj = await get_object(api, info, namespace, name)
            if is_suspended(obj):
                raise SuspendedError(f"{object_name(info, namespace, name)} is suspended")
            background = self._with_source(api, info, namespace, name)
        elif action == "suspend":
            obj = await suspend(api, info, namespace, name, field_manager=FIELD_MANAGER)
        else:
            token, obj = await resume(api, info, namespace, name, field_manager=FIELD_MANAGER)
            background = self._wait(api, info, namespace, name, token)
        return body, obj, background

    async def close(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.aclose()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # ------------------------------------------------------------------------- background
    async def _wait(
        self, api: ApiClient, info: KindInfo, namespace: str, name: str, token: str
    ) -> list[Obj]:
        outcome = await wait_reconciled(api, info, namespace, name, token, timeout=self.timeout)
        return [outcome.to_dict()]

    async def _with_source(
        self, api: ApiClient, info: KindInfo, namespace: str, name: str
    ) -> list[Obj]:
        outcomes: list[ReconcileOutcome] = await reconcile(
            api,
            info,
            namespace,
            name,
            with_source=True,
            timeout=self.timeout,
            field_manager=FIELD_MANAGER,
        )
        return [o.to_dict() for o in outcomes]

    def _follow(
        self, action: str, key: str, work: Awaitable[list[Obj]], user: str | None = None
    ) -> str:
        action_id = secrets.token_hex(6)

        async def follow() -> None:
            data: Obj = {"actionId": action_id, "action": action, "key": key, "user": user}
            try:
                outcomes = await work
            except ReconcileTimeoutError as e:
                data.update(result="timeout", message=str(e))
            except WeirError as e:
                data.update(result="error", message=str(e))
            except Exception as e:
                log.exception("web action failed", extra=kv(action=action, key=key))
                data.update(result="error", message=f"{type(e).__name__}: {e}")
            else:
                failed = [o for o in outcomes if not o["ready"]]
                data["outcomes"] = outcomes
                if failed:
                    data.update(result="failed", message=failed[0]["message"])
                else:
                    last = outcomes[-1] if outcomes else {}
                    revision = last.get("revision")
                    data.update(
                        result="succeeded",
                        message=f"reconciled {key}" + (f" at {revision}" if revision else ""),
                    )
            self.changes.append("ACTION", "action", key, data)

        self._spawn(follow())
        return action_id

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _audit(self, obj: Obj, action: str, identity: Identity | None) -> None:
        await audit(self.events, obj, action, identity)


async def audit(
    events: EventRecorder, obj: Obj, action: str, identity: Identity | None, subject: str = ""
) -> None:
    """Record a ``WebAction`` Event on ``obj``: what was done and by whom."""
    by = f" by {identity.user}" if identity else ""
    annotations = {f"{EVENT_PREFIX}/action": action}
    if identity is not None:
        annotations[f"{EVENT_PREFIX}/username"] = identity.user
        if identity.groups:
            annotations[f"{EVENT_PREFIX}/groups"] = ",".join(identity.groups)
    if subject:
        annotations[f"{EVENT_PREFIX}/subject"] = subject
    await events.normal(
        obj, "WebAction", f"{action} requested from the weir web UI{by}", annotations
    )
