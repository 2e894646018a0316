"""Runtime metrics: names, labels, the resource gauges and the endpoints serving them."""

from __future__ import annotations

import aiohttp

from weir.devcluster.process import free_port
from weir.runtime import conditions
from weir.runtime.endpoints import Address, Endpoints
from weir.runtime.metrics import RuntimeMetrics
from weir.types import Obj


def _obj(name: str, ready: str | None, suspend: bool = False) -> Obj:
    obj: Obj = {"metadata": {"name": name, "generation": 1}, "spec": {"suspend": suspend}}
    if ready is not None:
        conditions.set_condition(obj, "Ready", ready, "R", "m")
    return obj


def test_runs_and_resources_are_exposed() -> None:
    m = RuntimeMetrics()
    m.observe_run("Kustomization", "apps", "podinfo", "success", 0.2)
    m.observe_run("Kustomization", "apps", "podinfo", "error", 0.1)
    objs = [_obj("a", "True"), _obj("b", "False", suspend=True), _obj("c", None)]
    m.watch_resources("Kustomization", lambda: objs)
    obs = m.queue_observer("kustomization")
    obs.on_add()
    obs.on_depth(3)
    obs.on_retry()
    m.leader.labels("weir").set(1)
    text = m.exposition().decode()
    for line in (
        'weir_reconcile_total{kind="Kustomization",result="success"} 1.0',
        'weir_reconcile_total{kind="Kustomization",result="error"} 1.0',
        'weir_reconcile_errors_total{kind="Kustomization"} 1.0',
        'weir_reconcile_duration_seconds_count{kind="Kustomization"} 2.0',
        'gotk_reconcile_duration_seconds_count{kind="Kustomization",name="podinfo",'
        'namespace="apps"} 2.0',
        'weir_workqueue_depth{controller="kustomization"} 3.0',
        'weir_workqueue_adds_total{controller="kustomization"} 1.0',
        'weir_workqueue_retries_total{controller="kustomization"} 1.0',
        'weir_resources{kind="Kustomization",ready="True"} 1.0',
        'weir_resources{kind="Kustomization",ready="False"} 1.0',
        'weir_resources{kind="Kustomization",ready="Unknown"} 0.0',
        'weir_resources{kind="Kustomization",ready="None"} 1.0',
        'weir_resources_suspended{kind="Kustomization"} 1.0',
        'leader_election_master_status{name="weir"} 1.0',
    ):
        assert line in text, line
    m.forget_object("Kustomization", "apps", "podinfo")
    m.forget_object("Kustomization", "apps", "podinfo")
    assert "gotk_reconcile_duration_seconds_count" not in m.exposition().decode()


def test_registries_are_independent() -> None:
    RuntimeMetrics().observe_run("A", "", "x", "success", 1)
    assert "weir_reconcile_total{" not in RuntimeMetrics().exposition().decode()


async def test_endpoints_serve_metrics_health_and_readiness() -> None:
    m = RuntimeMetrics()
    ready = {"ok": False}
    endpoints = Endpoints(
        Address("127.0.0.1", 0),
        Address("127.0.0.1", 0),
        exposition=m.exposition,
        ready=lambda: (ready["ok"], {"caches": {}}),
    )
    await endpoints.start()
    try:
        metrics, health = endpoints.bound["metrics"], endpoints.bound["health"]
        assert metrics.port != 0
        assert metrics != health
        async with aiohttp.ClientSession() as s:
            async with s.get(f"http://{metrics}/metrics") as r:
                assert r.status == 200
                assert "weir_resources" in await r.text()
                assert r.headers["Content-Type"].startswith("text/plain")
            async with s.get(f"http://{health}/healthz") as r:
                assert r.status == 200
            async with s.get(f"http://{health}/readyz") as r:
                assert r.status == 503
                assert (await r.json())["status"] == "not ready"
            ready["ok"] = True
            async with s.get(f"http://{health}/readyz") as r:
                assert r.status == 200
            async with s.get(f"http://{metrics}/healthz") as r:
                assert r.status == 404, "each endpoint only on its own address"
    finally:
        await endpoints.stop()


async def test_one_address_serves_everything() -> None:
    addr = Address("127.0.0.1", free_port())
    endpoints = Endpoints(addr, addr, exposition=lambda: b"", ready=lambda: (True, {}))
    await endpoints.start()
    try:
        bound = endpoints.bound["metrics"]
        assert endpoints.bound["health"] == bound
        async with aiohttp.ClientSession() as s, s.get(f"http://{bound}/healthz") as r:
            assert r.status == 200
    finally:
        await endpoints.stop()


async def test_disabled_endpoints_listen_nowhere() -> None:
    endpoints = Endpoints(None, None, exposition=lambda: b"", ready=lambda: (True, {}))
    await endpoints.start()
    assert endpoints.bound == {}
    await endpoints.stop()
