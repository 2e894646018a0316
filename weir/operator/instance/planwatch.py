"""``weir run --plan-configmap NS/NAME``: run the controllers a unit's settings ConfigMap names,
and follow its changes live.

This is how a unit's Deployment runs on a cluster (:mod:`weir.operator.instance.render`):
the process watches its ConfigMap and converges one in-process controller group on it
(:class:`~weir.runtime.groups.GroupRunner`): a new ``concurrent`` resizes the workers at once,
any other change restarts the controllers in-process; the pod itself never restarts for a
settings change. A ConfigMap that holds an invalid value, or that is deleted, leaves the
controllers running as they were (and says so in the log).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.errors import UsageError, WeirError
from weir.kube.informer import Informer
from weir.kube.resources import CONFIG_MAPS
from weir.log import kv
from weir.operator.instance.plans import run_settings
from weir.runtime.controller import Controller
from weir.runtime.factories import REGISTRY, ControllerContext, ControllerRegistry
from weir.runtime.groups import GroupPlan, GroupRunner
from weir.runtime.metrics import RuntimeMetrics
from weir.runtime.settings import RunSettings

log = logging.getLogger("weir.planwatch")
Obj = dict[str, Any]


def parse_ref(text: str) -> tuple[str, str]:
    """``NS/NAME`` -> (namespace, name)."""
    ns, sep, name = text.strip().partition("/")
    if not sep or not ns or not name:
        raise UsageError(f"--plan-configmap={text}: expected NAMESPACE/NAME")
    return ns, name


class PlanWatch:
    """A manager service: watches one settings ConfigMap and runs its controller group."""

    def __init__(
        self,
        api: ApiClient,
        metrics: RuntimeMetrics,
        base: RunSettings,
        ref: str,
        registry: ControllerRegistry = REGISTRY,
    ) -> None:
        self.namespace, self.name = parse_ref(ref)
        self.base = base
        self.runner = GroupRunner(api, metrics, registry)
        self.informer = Informer(api, CONFIG_MAPS, namespace=self.namespace)
        self._latest: Obj | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.applied: list[str] = []
        """What the last change did (``resized ...``), for tests and logs."""
        self.error: str | None = None

    def _on_event(self, event_type: str, obj: Obj) -> None:
        if (obj.get("metadata") or {}).get("name") != self.name:
            return
        if event_type == "DELETED":
            log.warning(
                "settings ConfigMap deleted; the controllers keep running as they were",
                extra=kv(configmap=f"{self.namespace}/{self.name}"),
            )
            return
        self._latest = obj
        self._wake.set()

    async def start(self) -> None:
        self.informer.add_handler(self._on_event)
        await self.informer.start()
        await self.informer.wait_synced(self.base.cache_sync_timeout)
        self._latest = self.informer.get(self.namespace, self.name) or self._latest
        self._wake.clear()
        if self._latest is None:
            log.warning(
                "settings ConfigMap not found; waiting for it",
                extra=kv(configmap=f"{self.namespace}/{self.name}"),
            )
        else:
            await self._apply(self._latest)
        self._task = asyncio.create_task(self._loop(), name="plan-configmap")

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._latest is not None:
                await self._apply(self._latest)

    async def _apply(self, obj: Obj) -> None:
        data = {str(k): str(v) for k, v in (obj.get("data") or {}).items()}
        source = f"ConfigMap {self.namespace}/{self.name}"
        try:
            plan = GroupPlan(self.name, run_settings(data, self.base, source=source))
            self.applied = await self.runner.apply([plan])
            self.error = None
        except WeirError as e:
            self.error = str(e)
            log.error(  # noqa: TRY400 - the message is the user's problem, not a traceback's
                "settings not applied; the controllers keep running as they were",
                extra=kv(configmap=f"{self.namespace}/{self.name}", error=str(e)),
            )
            return
        if self.applied:
            log.info("settings applied", extra=kv(changes=self.applied))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.runner.stop()
        await self.informer.stop()


def controllers(ctx: ControllerContext) -> Sequence[Controller]:
    """``weir run --plan-configmap``: no controllers of its own, the settings ConfigMap's
    group runs as a service (see the module docstring)."""
    from weir.operator.settings import OperatorSettings  # noqa: PLC0415 - avoids a cycle

    ref = ctx.run.feature(OperatorSettings).plan_configmap
    if not ref:
        raise UsageError("--controllers=plan needs --plan-configmap=NAMESPACE/NAME")
    base = replace(ctx.run, controllers="")
    ctx.services.append(PlanWatch(ctx.api, ctx.metrics, base, ref))
    return []
