"""The manager behind ``weir run``: controller selection, endpoints, graceful shutdown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from kubernetes_asyncio.client import ApiClient

from tests.integration.test_runtime_controller import (
    GROUP,
    WIDGETS,
    WidgetReconciler,
    widgets_crd,
)
from tests.support.waiting import eventually
from weir.errors import UsageError
from weir.kube import apply
from weir.kube.resources import ResourceRef
from weir.runtime import conditions
from weir.runtime.controller import Controller
from weir.runtime.factories import ControllerContext, ControllerRegistry, build_controller
from weir.runtime.manager import Manager
from weir.runtime.result import Result
from weir.runtime.settings import RunSettings
from weir.types import Obj

__all__ = ["widgets_crd"]  # the fixture, re-used here


@dataclass
class SlowReconciler(WidgetReconciler):
    """Takes ``spec.seconds`` to succeed and records when it started and finished."""

    started: asyncio.Event = field(default_factory=asyncio.Event)
    finished: list[str] = field(default_factory=list)

    async def reconcile(self, obj: Obj) -> Result:
        self.started.set()
        await asyncio.sleep(float((obj.get("spec") or {}).get("seconds", 0)))
        result = await super().reconcile(obj)
        self.finished.append(obj["metadata"]["name"])
        return result


def _registry(reconciler: WidgetReconciler) -> ControllerRegistry:
    def factory(ctx: ControllerContext) -> Sequence[Controller]:
        return [build_controller(ctx, "Widget", WIDGETS, reconciler, component="widget-controller")]

    registry = ControllerRegistry()
    registry.register("widget", factory, "test widgets")
    registry.register("other", "weir.does.not.exist:factory", "never loaded", default=False)
    return registry


def _settings(kubeconfig: str, namespace: str, **overrides: Any) -> RunSettings:
    base: dict[str, Any] = {
        "kubeconfig": kubeconfig,
        "watch_namespace": namespace,
        "metrics_addr": "127.0.0.1:0",
        "health_addr": "127.0.0.1:0",
        "concurrent": 2,
        "graceful_shutdown_timeout": 10.0,
    }
    base.update(overrides)
    return RunSettings(**base)


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(url) as resp:
        return resp.status, await resp.text()


async def _create(kube: ApiClient, namespace: str, name: str, **spec: Any) -> None:
    body = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }
    await apply.create(kube, WIDGETS, body)


async def test_manager_serves_health_and_metrics_and_stops_cleanly(
    kube: ApiClient, kubeconfig: str, namespace: str, widgets_crd: ResourceRef
) -> None:
    reconciler = WidgetReconciler()
    manager = Manager(_settings(kubeconfig, namespace), _registry(reconciler))
    task = asyncio.create_task(manager.run())

    async def ready() -> bool:
        if manager.endpoints is None or "health" not in manager.endpoints.bound:
            return False
        status, _ = await _get(f"http://{manager.endpoints.bound['health']}/readyz")
        return status == 200

    await eventually(ready, "/readyz", 30)
    assert manager.endpoints is not None
    health = manager.endpoints.bound["health"]
    assert (await _get(f"http://{health}/healthz"))[0] == 200

    await _create(kube, namespace, "managed", mode="ok")

    async def reconciled() -> bool:
        obj = await apply.get(kube, WIDGETS, namespace, "managed")
        return conditions.is_true(obj, "Ready")

    await eventually(reconciled, "the widget reconciled", 15)
    metrics_url = f"http://{manager.endpoints.bound['metrics']}/metrics"

    async def counted() -> bool:
        status, text = await _get(metrics_url)
        return status == 200 and 'weir_reconcile_total{kind="Widget",result="success"}' in text

    await eventually(counted, "the run counted")

    manager.request_stop()
    assert await asyncio.wait_for(task, 15) == 0
    with pytest.raises(aiohttp.ClientConnectionError):
        await _get(f"http://{health}/healthz")


async def test_shutdown_lets_in_flight_reconciles_finish(
    kube: ApiClient, kubeconfig: str, namespace: str, widgets_crd: ResourceRef
) -> None:
    reconciler = SlowReconciler()
    manager = Manager(_settings(kubeconfig, namespace), _registry(reconciler))
    task = asyncio.create_task(manager.run())
    await _create(kube, namespace, "slow", mode="ok", seconds=1.5)
    await asyncio.wait_for(reconciler.started.wait(), 30)
    stop_at = time.monotonic()
    manager.request_stop()
    assert await asyncio.wait_for(task, 15) == 0
    assert reconciler.finished == ["slow"], "the in-flight run was allowed to finish"
    assert time.monotonic() - stop_at >= 1.0
    obj = await apply.get(kube, WIDGETS, namespace, "slow")
    assert conditions.is_true(obj, "Ready"), "and its status was written"


async def test_unknown_controllers_fail_before_connecting(namespace: str) -> None:
    manager = Manager(
        _settings("/nonexistent/kubeconfig", namespace, controllers="widget,nope"),
        _registry(WidgetReconciler()),
    )
    with pytest.raises(UsageError, match=r"unknown controller 'nope'.*known controllers are other"):
        await manager.run()
