"""The web UI inside ``weir run``'s manager: a service that reads the controllers' shared
informers (no second watch of the same kind) and stops with the process."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient

from weir.api import KINDS
from weir.runtime.factories import ControllerContext, ControllerRegistry, build_controller
from weir.runtime.manager import Manager
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import Result
from weir.runtime.settings import RunSettings
from weir.testing import seeded_fleet as demo
from weir.web.factory import controllers
from weir.web.service import WebService
from weir.web.settings import WebSettings

pytestmark = pytest.mark.usefixtures("flux_crds")


class Idle(Reconciler):
    finalizer = None

    async def reconcile(self, obj: dict[str, Any]) -> Result:
        return Result.success("nothing to do")


async def test_embedded_service_shares_informers(
    kubeconfig: str, kube: ApiClient, namespace: str
) -> None:
    services: list[WebService] = []
    shared: list[Any] = []

    def watcher(ctx: ControllerContext) -> Sequence[Any]:
        # Stands for the kustomize controller: it puts Kustomizations in the shared pool. Its
        # one controller watches Receivers, which this test never creates.
        shared.append(ctx.informers.get(KINDS["Kustomization"].resource))
        receiver = KINDS["Receiver"]
        return [build_controller(ctx, receiver.kind, receiver.resource, Idle(), component="t")]

    def web(ctx: ControllerContext) -> Sequence[Any]:
        found = controllers(ctx)
        services.extend(s for s in ctx.services if isinstance(s, WebService))
        return found

    settings = WebSettings(addr="127.0.0.1:0", base_path="/ui")
    registry = ControllerRegistry()
    registry.register("watcher", watcher)
    manager = Manager(
        RunSettings(
            controllers="*",
            kubeconfig=kubeconfig,
            metrics_addr="0",
            health_addr="0",
            watch_namespace=namespace,
            graceful_shutdown_timeout=2.0,
            features=(settings,),
        ),
        registry,
        services=[web],
    )
    task = asyncio.create_task(manager.run())
    try:
        async with asyncio.timeout(30):
            while not (manager.ready()[0] and shared and shared[0].synced):
                assert not task.done(), task
                await asyncio.sleep(0.05)
        (service,) = services
        ui = service.ui
        assert ui.cache.flux["Kustomization"] is shared[0]  # the controllers' cache, shared
        assert ui.cache.flux["GitRepository"] is not shared[0]
        await demo.populate(kube, namespace)
        async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
            deadline = time.monotonic() + 15
            while True:
                page = (await http.get("/api/v1/resources")).json()
                if page["total"] == 6:
                    break
                assert time.monotonic() < deadline, page
                await asyncio.sleep(0.1)
            assert {r["namespace"] for r in page["items"]} == {namespace}
            overview = (await http.get("/api/v1/overview")).json()
            assert overview["mode"] == "embedded"
            assert overview["totals"]["failed"] == 1
    finally:
        manager.request_stop()
        async with asyncio.timeout(20):
            with contextlib.suppress(asyncio.CancelledError):
                assert await task == 0
    async with httpx.AsyncClient(timeout=2) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(ui.url + "/api/healthz")


def test_disabled_service_adds_nothing() -> None:
    class Ctx:
        services: list[Any] = []  # noqa: RUF012
        run = RunSettings(features=(WebSettings(addr="0"),))

        def feature(self, kind: type[Any]) -> Any:
            return self.run.feature(kind)

    ctx: Any = Ctx()
    assert controllers(ctx) == []
    assert ctx.services == []
