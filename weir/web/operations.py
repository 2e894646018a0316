"""UI actions, through the same code as the CLI (:mod:`weir.actions`):

- ``reconcile``: annotate ``reconcile.fluxcd.io/requestedAt`` (answered at once), then wait in
  the background for the controller to handle it;
- ``reconcile-source``: reconcile the sources first, then the object (in the background);
- ``suspend`` / ``resume``: ``spec.suspend`` off and on (resume also requests a reconcile and
  waits for it in the background).

The outcome of what runs in the background reaches the UI as an ``ACTION`` change on the live
stream (``data``: ``actionId``, ``action``, ``key``, ``result`` = ``succeeded``, ``failed``,
``timeout`` or ``error``, ``message``). Each action is recorded as a Kubernetes Event with
reason ``WebAction`` on the object (the audit trail) and written with the field manager
``weir-web``.
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
from weir.actions.objects import get_object, is_suspended, object_name
from weir.actions.reconcile import ReconcileOutcome, reconcile, request_reconcile, wait_reconciled
from weir.actions.suspend import resume, suspend
from weir.api import KindInfo
from weir.auth.users import Identity
from weir.errors import UsageError, WeirError
from weir.kube.client import impersonating
from weir.kube.errors import ApiError, ForbiddenError, NotFoundError
from weir.kube.events import EventRecorder
from weir.log import kv
from weir.types import Obj
from weir.web.changes import ChangeLog
from weir.web.status import flux_row, key_of

log = logging.getLogger("weir.web")

ACTIONS = ("reconcile", "reconcile-source", "suspend", "resume")
FIELD_MANAGER = "weir-web"
COMPONENT = "weir-web"


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
        api = impersonating(self.api, identity.user, identity.groups) if identity else self.api
        background: Awaitable[list[Obj]] | None = None
        try:
            body, obj, background = await self._start(api, action, info, namespace, name)
        finally:
            if background is None and api is not self.api:
                await api.close()
        if background is not None:
            body["actionId"] = self._follow(action, body["key"], self._closing(api, background))
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

    async def _closing(self, api: ApiClient, work: Awaitable[list[Obj]]) -> list[Obj]:
        """``work``, then close ``api`` when it is an impersonating client of this runner."""
        try:
            return await work
        finally:
            if api is not self.api:
                await api.close()

    async def close(self) -> None:
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

    def _follow(self, action: str, key: str, work: Awaitable[list[Obj]]) -> str:
        action_id = secrets.token_hex(6)

        async def follow() -> None:
            data: Obj = {"actionId": action_id, "action": action, "key": key}
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
        by = f" by {identity.user}" if identity else ""
        await self.events.normal(obj, "WebAction", f"{action} requested from the weir web UI{by}")
