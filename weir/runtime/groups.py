"""Controller groups started, resized and stopped while the process runs.

A :class:`GroupPlan` names a set of registered controllers (``--controllers``) with the
settings they run with (a :class:`~weir.runtime.settings.RunSettings`: workers, label
selector, storage, feature settings). A :class:`ControllerGroup` runs one plan with its own
context: its own informers, services (e.g. the artifact server) and workers, so that groups
start and stop independently of each other and of the manager's own controllers.

:class:`GroupRunner` is a manager service that converges a set of groups on a set of plans
(:meth:`GroupRunner.apply`):

- a new plan starts a group (caches listed before its workers run);
- a plan that is gone stops its group (in-flight runs finish, then caches and services stop);
- a plan that changed only its number of workers resizes the running controllers **live**
  (:meth:`~weir.runtime.controller.Controller.set_workers`): nothing restarts;
- any other change restarts that group in-process (new settings are read when controllers
  are built).

The operator drives it from a FluxInstance (``weir.operator``); ``weir run --plan-configmap``
drives it from a ConfigMap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from kubernetes_asyncio.client import ApiClient

from weir.errors import WeirError
from weir.log import kv
from weir.runtime.controller import Controller, ControllerSettings
from weir.runtime.factories import REGISTRY, ControllerContext, ControllerRegistry, Service
from weir.runtime.metrics import RuntimeMetrics
from weir.runtime.settings import RunSettings

log = logging.getLogger("weir.groups")


class GroupStartError(WeirError):
    """A group's controllers could not be built or their caches did not list."""


@dataclass(frozen=True)
class GroupPlan:
    """One group: a name unique in the runner and the settings its controllers run with
    (``run.controllers`` selects them, ``run.concurrent`` is the workers per controller)."""

    name: str
    run: RunSettings

    def differs_only_in_workers(self, other: GroupPlan) -> bool:
        return self.name == other.name and replace(other.run, concurrent=self.run.concurrent) == (
            self.run
        )


@dataclass
class GroupState:
    """What a group is doing, for status reports."""

    name: str
    controllers: list[str] = field(default_factory=list)
    """Names of the running controllers."""
    workers: int = 0
    synced: bool = False
    """Every cache of the group has listed."""
    running: bool = False
    error: str | None = None
    """Why the group is not running, when it failed."""
    starts: int = 0
    """How many times the group was (re)started in this process."""


class ControllerGroup:
    """The controllers of one :class:`GroupPlan`; see the module docstring."""

    def __init__(
        self,
        plan: GroupPlan,
        api: ApiClient,
        metrics: RuntimeMetrics,
        registry: ControllerRegistry = REGISTRY,
    ) -> None:
        self.plan = plan
        self.api = api
        self.metrics = metrics
        self.registry = registry
        self.controllers: list[Controller] = []
        self.ctx: ControllerContext | None = None
        self._services: list[Service] = []
        self._task: asyncio.Task[None] | None = None
        self.state = GroupState(plan.name, workers=plan.run.concurrent)

    async def start(self) -> None:
        """Build the controllers, start their services and caches, then their workers."""
        run = self.plan.run
        selected = self.registry.select(run.controllers)
        settings = ControllerSettings(
            workers=run.concurrent,
            min_retry_delay=run.min_retry_delay,
            max_retry_delay=run.max_retry_delay,
            jitter_percent=run.jitter_percent,
            labels={"group": self.plan.name},
        )
        ctx = ControllerContext(
            self.api,
            settings,
            self.metrics,
            run.watch_namespace,
            run.watch_label_selector,
            run=run,
        )
        self.ctx = ctx
        for registration in selected:
            self.controllers.extend(registration.load()(ctx))
        for service in ctx.services:
            await service.start()
            self._services.append(service)
        timeout = run.cache_sync_timeout
        await asyncio.gather(*(c.start_cache(timeout) for c in self.controllers))
        await ctx.informers.start(timeout)
        self.state.controllers = [c.name for c in self.controllers]
        self.state.synced = True
        self.state.running = True
        self.state.starts += 1
        self._task = asyncio.create_task(self._run(), name=f"group/{self.plan.name}")
        log.info(
            "controller group started",
            extra=kv(group=self.plan.name, controllers=self.state.controllers),
        )

    async def _run(self) -> None:
        try:
            async with asyncio.TaskGroup() as tg:
                for controller in self.controllers:
                    tg.create_task(controller.run(), name=f"controller/{controller.name}")
        except Exception as e:
            self.state.running = False
            self.state.error = str(e) or type(e).__name__
            log.exception("controller group failed", extra=kv(group=self.plan.name))

    def set_workers(self, workers: int) -> None:
        """Resize every controller of the group live."""
        for controller in self.controllers:
            controller.set_workers(workers)
        self.plan = replace(self.plan, run=replace(self.plan.run, concurrent=workers))
        self.state.workers = workers

    async def stop(self, graceful_timeout: float | None = None) -> None:
        """Stop taking work, let in-flight runs finish (up to ``graceful_timeout``, default
        the plan's ``graceful_shutdown_timeout``), then stop caches and services."""
        timeout = (
            self.plan.run.graceful_shutdown_timeout
            if graceful_timeout is None
            else graceful_timeout
        )
        for controller in self.controllers:
            controller.shutdown()
        await asyncio.gather(*(c.wait_idle(timeout) for c in self.controllers))
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for controller in self.controllers:
            with contextlib.suppress(Exception):
                await controller.stop_cache()
            with contextlib.suppress(Exception):
                await controller.reconciler.close()
        if self.ctx is not None:
            with contextlib.suppress(Exception):
                await self.ctx.informers.stop()
        for service in reversed(self._services):
            with contextlib.suppress(Exception):
                await service.stop()
        self.state.running = False
        self.state.synced = False
        log.info("controller group stopped", extra=kv(group=self.plan.name))


class GroupRunner:
    """Runs controller groups and converges them on plans (a manager service)."""

    def __init__(
        self,
        api: ApiClient,
        metrics: RuntimeMetrics,
        registry: ControllerRegistry = REGISTRY,
    ) -> None:
        self.api = api
        self.metrics = metrics
        self.registry = registry
        self.groups: dict[str, ControllerGroup] = {}
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Nothing runs until the first :meth:`apply`."""

    async def stop(self) -> None:
        async with self._lock:
            await asyncio.gather(*(g.stop() for g in self.groups.values()))
            self.groups.clear()

    async def apply(self, plans: Sequence[GroupPlan]) -> list[str]:
        """Converge on ``plans`` (see the module docstring); returns what was done, one line
        per group that changed (``started kustomize``, ``resized kustomize to 10 workers``,
        ...). Unknown controller names raise before anything changes."""
        wanted = {p.name: p for p in plans}
        if len(wanted) != len(plans):
            raise ValueError("group plans must have unique names")
        for plan in plans:
            self.registry.select(plan.run.controllers)  # UsageError for unknown names
        done: list[str] = []
        errors: list[str] = []
        async with self._lock:
            for name in [n for n in self.groups if n not in wanted]:
                await self.groups.pop(name).stop()
                done.append(f"stopped {name}")
            for name, plan in wanted.items():
                group = self.groups.get(name)
                if group is not None and group.state.running and group.plan == plan:
                    continue
                if group is not None and group.state.running:
                    if group.plan.differs_only_in_workers(plan):
                        group.set_workers(plan.run.concurrent)
                        done.append(f"resized {name} to {plan.run.concurrent} workers")
                        continue
                    await group.stop()  # stays listed (not running) until ``fresh`` replaces it
                    done.append(f"restarted {name}")
                elif group is not None:
                    await group.stop()
                starts = group.state.starts if group is not None else 0
                fresh = ControllerGroup(plan, self.api, self.metrics, self.registry)
                fresh.state.starts = starts
                self.groups[name] = fresh
                try:
                    await fresh.start()
                except Exception as e:
                    fresh.state.error = str(e) or type(e).__name__
                    await fresh.stop(0)
                    log.exception("controller group did not start", extra=kv(group=name))
                    errors.append(f"{name}: {fresh.state.error}")
                    continue
                if not done or done[-1] != f"restarted {name}":
                    done.append(f"started {name}")
        if errors:
            raise GroupStartError("controllers did not start: " + "; ".join(errors))
        return done

    def states(self) -> dict[str, GroupState]:
        """The state of every group, by name."""
        return {name: g.state for name, g in self.groups.items()}
