"""Helpers for the operator's tests: the objects, the in-process groups, waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from kubernetes_asyncio.client import ApiClient
from prometheus_client.parser import text_string_to_metric_families

from weir.api.kinds import KINDS
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.runtime.groups import GroupRunner
from weir.runtime.manager import Manager

Obj = dict[str, Any]
INSTANCES = KINDS["FluxInstance"].resource
REPORTS = KINDS["FluxReport"].resource


def instance(namespace: str, spec: Obj, labels: dict[str, str] | None = None) -> Obj:
    meta: Obj = {"name": "flux", "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {
        "apiVersion": "fluxcd.controlplane.io/v1",
        "kind": "FluxInstance",
        "metadata": meta,
        "spec": spec,
    }


def condition(obj: Obj | None, type_: str = "Ready") -> Obj:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return {}


def observed(obj: Obj) -> bool:
    """Status is about the current spec."""
    generation = obj["metadata"].get("generation")
    return bool((obj.get("status") or {}).get("observedGeneration") == generation)


def ready(obj: Obj) -> bool:
    return observed(obj) and condition(obj).get("status") == "True"


def failed_with(reason: str) -> Callable[[Obj], bool]:
    def check(obj: Obj) -> bool:
        cond = condition(obj)  # a transient failure keeps status.observedGeneration
        current = cond.get("observedGeneration") == obj["metadata"].get("generation")
        return current and cond.get("status") == "False" and cond.get("reason") == reason

    return check


def runner_of(manager: Manager) -> GroupRunner:
    return next(s for s in manager.services if isinstance(s, GroupRunner))


async def wait_until(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll ``check()`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def gone(api: ApiClient, kind: str, namespace: str | None, name: str) -> bool:
    from weir.kube.resources import mapper_for  # noqa: PLC0415

    api_version = {
        "ConfigMap": "v1",
        "ServiceAccount": "v1",
        "Service": "v1",
        "Deployment": "apps/v1",
        "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
        "GitRepository": "source.toolkit.fluxcd.io/v1",
        "NetworkPolicy": "networking.k8s.io/v1",
    }[kind]
    resource = await mapper_for(api).resolve(api_version, kind)
    try:
        await kapi.get(api, resource, namespace, name)
    except NotFoundError:
        return True
    return False


async def scrape(manager: Manager) -> dict[str, list[dict[str, str]]]:
    """The manager's /metrics, parsed by Prometheus' own parser: samples by metric name."""
    assert manager.endpoints is not None
    addr = manager.endpoints.bound["metrics"]
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{addr.host}:{addr.port}/metrics") as resp,
    ):
        assert resp.status == 200
        text = await resp.text()
    out: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(dict(sample.labels))
    return out
