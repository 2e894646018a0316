"""The informer survives a restart of the API server: it relists after the connection errors
and handlers see every change exactly once. Runs on a dedicated control plane so that the
shared one is not disturbed."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.integration.test_kube_support import FIELD_MANAGER, configmap
from tests.support.waiting import eventually
from weir.devcluster import DevCluster
from weir.kube import apply
from weir.kube.client import api_client
from weir.kube.errors import ApiUnavailableError
from weir.kube.informer import Informer
from weir.kube.resources import ResourceRef

CONFIGMAPS = ResourceRef("", "v1", "configmaps", True, "ConfigMap")
NAMESPACES = ResourceRef("", "v1", "namespaces", False, "Namespace")
NS = "restart"


@pytest.fixture(scope="module")
def restart_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevCluster]:
    cluster = DevCluster(tmp_path_factory.mktemp("restart-cluster"))
    cluster.up()
    try:
        yield cluster
    finally:
        if not os.environ.get("WEIR_TEST_KEEP_CLUSTER"):
            cluster.down()


@pytest.fixture(scope="module")
async def restart_kube(restart_cluster: DevCluster) -> AsyncIterator[ApiClient]:
    api = await api_client(str(restart_cluster.kubeconfig_path))
    async with api:
        yield api


async def retrying(make: Any, within: float = 30.0) -> Any:
    """Run ``make()`` until it does not fail to connect (the server may still be warming up)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await make()
        except ApiUnavailableError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_informer_survives_apiserver_restart(
    restart_cluster: DevCluster, restart_kube: ApiClient
) -> None:
    kube = restart_kube
    await apply.create(kube, NAMESPACES, {"metadata": {"name": NS}})

    async def put(name: str, value: str) -> str:
        obj = await retrying(lambda: apply.apply(kube, configmap(name, NS, v=value), FIELD_MANAGER))
        return str(obj["metadata"]["resourceVersion"])

    seen: dict[str, list[tuple[str, str]]] = {}

    def handler(event_type: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        seen.setdefault(meta["name"], []).append((event_type, meta["resourceVersion"]))

    inf = Informer(kube, CONFIGMAPS, namespace=NS)
    inf.add_handler(handler)
    await inf.start()
    try:
        await inf.wait_synced(timeout=10)
        rv = {name: await put(name, "1") for name in ("a", "b", "c", "e")}
        await eventually(lambda: len(seen) == 4, what="the first ADDED events")
        rv_a2 = await put("a", "2")  # just before the restart: by watch or by relist

        t0 = time.monotonic()
        await asyncio.to_thread(restart_cluster.restart_apiserver)
        restart_seconds = time.monotonic() - t0

        rv_d = await put("d", "1")  # made before the informer has reconnected, most likely
        rv_c2 = await put("c", "2")
        await retrying(lambda: apply.delete(kube, CONFIGMAPS, NS, "b"))
        await eventually(
            lambda: len(seen.get("b", [])) == 2 and "d" in seen and len(seen["c"]) == 2,
            timeout=30,
            what="the changes made around the restart",
        )
        rv_e2 = await put("e", "2")  # and the watch works again afterwards
        await eventually(lambda: len(seen["e"]) == 2, timeout=10, what="a later watch event")
    finally:
        await inf.stop()

    assert seen["a"] == [("ADDED", rv["a"]), ("MODIFIED", rv_a2)]
    assert seen["b"][0] == ("ADDED", rv["b"])
    assert [t for t, _ in seen["b"]] == ["ADDED", "DELETED"]
    assert seen["c"] == [("ADDED", rv["c"]), ("MODIFIED", rv_c2)]
    assert seen["d"] == [("ADDED", rv_d)]
    assert seen["e"] == [("ADDED", rv["e"]), ("MODIFIED", rv_e2)]
    assert inf.list_count >= 2  # it relisted after losing the server
    assert restart_seconds < 60
