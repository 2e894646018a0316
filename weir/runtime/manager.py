"""The manager behind ``weir run``: builds the selected controllers, serves metrics and health,
starts the caches, (optionally) wins leader election, runs the workers, and shuts down cleanly.

Lifecycle::

    select controllers (unknown names fail before anything starts)
    -> connect -> build controllers -> serve /metrics, /healthz, /readyz
    -> start every cache and wait for the first lists (ready from here on, leader or not)
    -> [leader election] -> workers run
    -> stop requested (SIGTERM/SIGINT) or leadership lost:
       stop taking work -> let in-flight runs finish (graceful timeout) -> cancel the rest
       -> release the Lease -> stop caches and endpoints

Standbys keep warm caches so that a takeover starts reconciling at once. Losing leadership
ends the process with exit code 1 (like controller-runtime), so a supervisor restarts it
instead of letting two instances reconcile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.kube.client import api_client
from weir.kube.lease import LeaderElector
from weir.log import kv
from weir.runtime.controller import Controller, ControllerSettings
from weir.runtime.endpoints import Endpoints, parse_address
from weir.runtime.factories import (
    REGISTRY,
    ControllerContext,
    ControllerFactory,
    ControllerRegistry,
    Service,
)
from weir.runtime.metrics import RuntimeMetrics
from weir.runtime.settings import RunSettings

log = logging.getLogger("weir.manager")


class Manager:
    """Runs the controllers of one ``weir run`` process; see the module docstring."""

    def __init__(
        self,
        settings: RunSettings,
        registry: ControllerRegistry = REGISTRY,
        *,
        api: ApiClient | None = None,
        metrics: RuntimeMetrics | None = None,
        services: Sequence[ControllerFactory] = (),
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.service_factories = tuple(services)
        """Factories that run whatever ``--controllers`` selects, e.g. the web UI's
        (``weir.web.factory.controllers``): the caller composes the process, the runtime
        imports no front end."""
        self.metrics = metrics or RuntimeMetrics()
        self.controllers: list[Controller] = []
        self.endpoints: Endpoints | None = None
        self.identity = ""
        self.leading = False
        self._api = api
        self._stop: asyncio.Event | None = None
        self._stopping = False
        self._exit_code = 0
        self._ctx: ControllerContext | None = None
        self._services: list[Service] = []
        self._caches_started = False

    @property
    def services(self) -> list[Service]:
        """The services started for the controllers (artifact server, controller groups)."""
        return list(self._services)

    def request_stop(self) -> None:
        """Begin a graceful shutdown (what SIGTERM/SIGINT do)."""
        self._stopping = True
        if self._stop is not None:
            self._stop.set()

    def ready(self) -> tuple[bool, dict[str, Any]]:
        """``/readyz``: every cache has synced (standbys included)."""
        synced = {c.name: c.synced for c in self.controllers}
        ok = self._caches_started and all(synced.values()) and not self._stopping
        return ok, {"caches": synced, "leader": self.leading}

    async def run(self) -> int:
        """Run until stopped; returns the process exit code."""
        self._stop = asyncio.Event()
        if self._stopping:
            self._stop.set()
        selected = self.registry.select(self.settings.controllers)
        le = self.settings.leader_election
        lease_namespace = le.resolved_namespace() if le.enabled else ""
        metrics_addr = parse_address(self.settings.metrics_addr, "--metrics-addr")
        health_addr = parse_address(self.settings.health_addr, "--health-addr")
        own_api = self._api is None
        api = self._api or await api_client(self.settings.kubeconfig, self.settings.context)
        try:
            ctx = self._context(api)
            for registration in selected:
                self.controllers.extend(registration.load()(ctx))
            log.info("controllers selected", extra=kv(controllers=[r.name for r in selected]))
            for factory in self.service_factories:
                self.controllers.extend(factory(ctx))
            for service in ctx.services:
                await service.start()
                self._services.append(service)
            self.endpoints = Endpoints(
                metrics_addr, health_addr, exposition=self.metrics.exposition, ready=self.ready
            )
            await self.endpoints.start()
            if await self._until_stopped(self._start_caches()):
                self._caches_started = True
                await self._serve(api, lease_namespace)
        finally:
            await self._teardown(api if own_api else None)
        return self._exit_code

    def _context(self, api: ApiClient) -> ControllerContext:
        s = self.settings
        controller_settings = ControllerSettings(
            workers=s.concurrent,
            min_retry_delay=s.min_retry_delay,
            max_retry_delay=s.max_retry_delay,
            jitter_percent=s.jitter_percent,
        )
        ctx = ControllerContext(
            api, controller_settings, self.metrics, s.watch_namespace, s.watch_label_selector, run=s
        )
        ctx.leading = lambda: self.leading
        self._ctx = ctx
        return ctx

    async def _until_stopped(self, work: Any) -> bool:
        """Await ``work`` unless a stop comes first; True when it finished."""
        assert self._stop is not None
        task = asyncio.ensure_future(work)
        stopper = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return False
        task.result()
        return True

    async def _start_caches(self) -> None:
        timeout = self.settings.cache_sync_timeout
        await asyncio.gather(*(c.start_cache(timeout) for c in self.controllers))
        if self._ctx is not None:  # informers used only for secondary watches
            await self._ctx.informers.start(timeout)
        log.info("caches synced", extra=kv(controllers=[c.name for c in self.controllers]))

    async def _serve(self, api: ApiClient, lease_namespace: str) -> None:
        assert self._stop is not None
        lead = asyncio.create_task(self._lead(api, lease_namespace), name="weir-lead")
        stopper = asyncio.create_task(self._stop.wait())
        await asyncio.wait({lead, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if lead.done() and not self._stopping:
            self._exit_code = 1
            if not lead.cancelled() and lead.exception() is not None:
                log.error("controllers failed", exc_info=lead.exception())
        await self._drain(lead)

    async def _lead(self, api: ApiClient, lease_namespace: str) -> None:
        le = self.settings.leader_election
        if not le.enabled:
            self.identity = "standalone"
            await self._work()
            return
        self.identity = le.resolved_identity()
        self._set_leading(False)
        elector = LeaderElector(
            api,
            lease_namespace,
            le.lease_name,
            self.identity,
            lease_duration=le.lease_duration,
            renew_deadline=le.renew_deadline,
            retry_period=le.retry_period,
            release_on_cancel=le.release_on_cancel,
        )
        log.info(
            "waiting for leadership",
            extra=kv(lease=f"{elector.namespace}/{elector.name}", identity=self.identity),
        )
        await elector.run(self._work, self._stopped_leading)

    async def _work(self) -> None:
        """What the leader does: run every controller's workers until shutdown."""
        self._set_leading(True)
        log.info("starting controllers", extra=kv(identity=self.identity))
        assert self._stop is not None
        async with asyncio.TaskGroup() as tg:
            for controller in self.controllers:
                tg.create_task(controller.run(), name=f"controller/{controller.name}")
            if not self.controllers:  # only services work (--plan-configmap): stay until stopped
                tg.create_task(self._stop.wait(), name="until-stopped")

    def _stopped_leading(self) -> None:
        self._set_leading(False)
        if not self._stopping:
            log.error("leader election lost, exiting", extra=kv(identity=self.identity))
            self._exit_code = 1
            self.request_stop()

    def _set_leading(self, leading: bool) -> None:
        self.leading = leading
        self.metrics.leader.labels(self.settings.leader_election.lease_name).set(int(leading))

    async def _drain(self, lead: asyncio.Task[None]) -> None:
        """Stop taking work, give in-flight runs the graceful timeout, then cancel the rest
        (which releases the Lease)."""
        self._stopping = True
        for controller in self.controllers:
            controller.shutdown()
        timeout = self.settings.graceful_shutdown_timeout
        idle = await asyncio.gather(*(c.wait_idle(timeout) for c in self.controllers))
        if not all(idle):
            log.warning("in-flight reconciles did not finish in time, cancelling them")
        if not lead.done():
            lead.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await lead  # a failure was logged by _serve
        log.info("controllers stopped")

    async def _teardown(self, api: ApiClient | None) -> None:
        for controller in self.controllers:
            with contextlib.suppress(Exception):
                await controller.stop_cache()
            with contextlib.suppress(Exception):
                await controller.reconciler.close()
        if self._ctx is not None:
            with contextlib.suppress(Exception):
                await self._ctx.informers.stop()
        for service in reversed(self._services):
            with contextlib.suppress(Exception):
                await service.stop()
        if self.endpoints is not None:
            await self.endpoints.stop()
        if api is not None:
            await api.close()
