"""A stand-in for Flux's controllers in CLI tests: it answers the reconcile handshake only.

For each object of the watched kinds in one namespace whose ``reconcile.fluxcd.io/requestedAt``
differs from ``status.lastHandledReconcileAt``, it writes ``lastHandledReconcileAt`` plus a
``Ready`` condition (and the revision fields ``weir get`` shows), as a real controller does at
the end of a run. Per-object behaviours make it fail, or ignore requests (timeouts).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

from kubernetes_asyncio.client import ApiClient

from tests.support.flux import condition, now, resource
from weir.api import KINDS
from weir.kube import apply
from weir.kube.informer import Informer
from weir.types import Obj

REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
KINDS_HANDLED = (
    "GitRepository",
    "OCIRepository",
    "HelmRepository",
    "HelmChart",
    "Kustomization",
    "HelmRelease",
)


@dataclass
class Behaviour:
    """How the fake controller answers one object."""

    ready: bool = True
    message: str = ""
    revision: str = "main@sha1:0123456789abcdef0123456789abcdef01234567"
    ignore: bool = False
    """Never handle requests (the timeout path)."""
    progressing_first: bool = False
    """First write Ready=Unknown (still in progress) with the token, then the outcome."""


class FakeController:
    def __init__(
        self, api: ApiClient, namespace: str, kinds: Iterable[str] = KINDS_HANDLED
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.behaviours: dict[tuple[str, str], Behaviour] = {}
        self.handled: list[tuple[str, str, str]] = []
        """(kind, name, token) in the order the requests were handled."""
        self._queue: asyncio.Queue[Obj] = asyncio.Queue()
        self._informers = [Informer(api, resource(KINDS[k]), namespace=namespace) for k in kinds]
        self._task: asyncio.Task[None] | None = None

    def set(self, kind: str, name: str, behaviour: Behaviour) -> None:
        self.behaviours[(kind, name)] = behaviour

    async def __aenter__(self) -> FakeController:
        for informer in self._informers:
            informer.add_handler(self._on_event)
            await informer.start()
        for informer in self._informers:
            await informer.wait_synced(timeout=30)
        self._task = asyncio.create_task(self._work())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for informer in self._informers:
            await informer.stop()

    def _on_event(self, event_type: str, obj: Obj) -> None:
        if event_type == "DELETED":
            return
        token = ((obj.get("metadata") or {}).get("annotations") or {}).get(REQUESTED_AT)
        if token and token != (obj.get("status") or {}).get("lastHandledReconcileAt"):
            self._queue.put_nowait(obj)

    async def _work(self) -> None:
        while True:
            obj = await self._queue.get()
            await self._handle(obj)

    async def _handle(self, obj: Obj) -> None:
        meta = obj["metadata"]
        kind, name = obj["kind"], meta["name"]
        token = meta["annotations"][REQUESTED_AT]
        behaviour = self.behaviours.get((kind, name), Behaviour())
        if behaviour.ignore or (obj.get("spec") or {}).get("suspend"):
            return
        if (kind, name, token) in self.handled:
            return
        self.handled.append((kind, name, token))
        info = KINDS[kind]
        if behaviour.progressing_first:
            await self._patch(
                obj,
                {
                    "lastHandledReconcileAt": token,
                    "conditions": [
                        condition("Ready", "Unknown", "Progressing", "Building manifests")
                    ],
                },
            )
            await asyncio.sleep(0.3)
        status: Obj = {"lastHandledReconcileAt": token, "observedGeneration": meta["generation"]}
        if behaviour.ready:
            message = behaviour.message or f"Applied revision: {behaviour.revision}"
            status["conditions"] = [condition("Ready", "True", "ReconciliationSucceeded", message)]
            if "fluxcd-sources" in info.categories:
                status["artifact"] = {
                    "revision": behaviour.revision,
                    "digest": "sha256:" + "0" * 64,
                    "lastUpdateTime": now(),
                    "path": f"{kind.lower()}/{self.namespace}/{name}/a.tar.gz",
                    "url": f"http://source-controller/{name}.tar.gz",
                }
            elif kind == "Kustomization":
                status["lastAppliedRevision"] = behaviour.revision
            else:
                status["lastAttemptedRevision"] = behaviour.revision
        else:
            message = behaviour.message or "reconciliation failed"
            status["conditions"] = [
                condition("Ready", "False", "ReconciliationFailed", message),
                condition("Stalled", "True", "ReconciliationFailed", message),
            ]
        await self._patch(obj, status)

    async def _patch(self, obj: Obj, status: Obj) -> None:
        meta = obj["metadata"]
        await apply.patch_status(
            self.api,
            resource(KINDS[obj["kind"]]),
            meta["namespace"],
            meta["name"],
            status,
            "fake-controller",
        )
