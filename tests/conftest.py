"""Shared fixtures: one real control plane per test session, a fresh namespace per test.

- ``control_plane``: etcd + kube-apiserver, started once per session (integration tier).
- ``kwok_cluster``: the same control plane plus kube-controller-manager, kube-scheduler and kwok
  with two fake nodes, so that Deployments become Available (e2e tier).
- ``kube``: a kubernetes_asyncio ApiClient for the admin user.
- ``namespace``: a namespace created for one test and deleted after it.

Set ``WEIR_TEST_KEEP_CLUSTER=1`` to leave the control plane running after the session for debugging.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from weir.devcluster import DevCluster
from weir.kube.client import api_client

_TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier, taken from its directory (tests/<tier>/...)."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        for tier in _TIERS:
            if tier in parts:
                item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevCluster]:
    cluster = DevCluster(tmp_path_factory.mktemp("devcluster"))
    cluster.up()
    try:
        yield cluster
    finally:
        if not os.environ.get("WEIR_TEST_KEEP_CLUSTER"):
            cluster.down()


@pytest.fixture(scope="session")
def kwok_cluster(control_plane: DevCluster) -> DevCluster:
    control_plane.add_nodes(2)
    return control_plane


@pytest.fixture(scope="session")
def kubeconfig(control_plane: DevCluster) -> str:
    return str(control_plane.kubeconfig_path)


@pytest.fixture(scope="session")
async def kube(kubeconfig: str) -> AsyncIterator[client.ApiClient]:
    api = await api_client(kubeconfig)
    async with api:
        yield api


@pytest.fixture
async def namespace(kube: client.ApiClient) -> AsyncIterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(kube)
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        await core.delete_namespace(name)
