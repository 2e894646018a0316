"""Shared fixtures: one real control plane per test session, a fresh namespace per test.

- ``control_plane``: etcd + kube-apiserver, started once per session (integration tier).
- ``kwok_cluster``: the same control plane plus kube-controller-manager, kube-scheduler and kwok
  with two fake nodes, so that Deployments become Available (e2e tier).
- ``kube``: a kubernetes_asyncio ApiClient for the admin user.
- ``namespace``: a namespace created for one test and deleted after it.
- ``flux_crds``: weir's CRDs installed (once per session) and Established.
- ``controllers``: weir's source, kustomize and helm controllers running in-process (session),
  logging as ``weir run`` does (info, JSON) to a file that must end without a traceback.
- ``git_server`` / ``git_repo``: a loopback Git HTTP server and a fresh repository per test.
- ``chart_repo`` / ``oci_registry``: a loopback Helm chart repository (per test) and OCI
  registry (per session).
- ``gitea`` / ``gitea_user`` / ``gitea_repo``, ``s3_server`` / ``s3_bucket``, ``alertmanager``,
  ``http_sink``: the real peers built by ``make tools`` (weir/testing/peer_fixtures.py).

Set ``WEIR_TEST_KEEP_CLUSTER=1`` to leave the control plane running after the session for debugging.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from tests.support.logs import TRACEBACK, log_problems
from tests.support.sops import SOPS_AGE_SECRET
from weir.crdinstall import install_crds
from weir.devcluster import DevCluster
from weir.kube.client import api_client
from weir.runtime.manager import Manager
from weir.testing.controllers import running_controllers
from weir.testing.fixtures import git_repo, git_server
from weir.testing.helm_fixtures import chart_repo, oci_registry
from weir.testing.peer_fixtures import (
    alertmanager,
    gitea,
    gitea_repo,
    gitea_user,
    http_sink,
    s3_bucket,
    s3_server,
)

__all__ = [  # re-exported fixtures
    "alertmanager",
    "chart_repo",
    "git_repo",
    "git_server",
    "gitea",
    "gitea_repo",
    "gitea_user",
    "http_sink",
    "oci_registry",
    "s3_bucket",
    "s3_server",
]

_TIERS = ("unit", "integration", "e2e", "security")


def _tier(item: pytest.Item) -> int:
    parts = Path(str(item.fspath)).parts
    return next((i for i, tier in enumerate(_TIERS) if tier in parts), len(_TIERS))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier, taken from its directory (tests/<tier>/...), and run the
    tiers in order: unit, integration, e2e. The e2e tier starts weir's controllers (session
    fixture ``controllers``), which would otherwise reconcile the objects that integration tests
    give hand-written statuses."""
    for item in items:
        tier = _tier(item)
        if tier < len(_TIERS):
            item.add_marker(getattr(pytest.mark, _TIERS[tier]))
    items.sort(key=_tier)  # stable: file and definition order are kept within a tier


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


@pytest.fixture(scope="session")
async def flux_crds(kube: client.ApiClient) -> None:
    await install_crds(kube)


@pytest.fixture(scope="session")
async def controllers(
    kwok_cluster: DevCluster,
    kubeconfig: str,
    flux_crds: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Manager]:
    storage = tmp_path_factory.mktemp("storage")
    log_file = tmp_path_factory.mktemp("logs") / "weir.log"
    async with running_controllers(
        kubeconfig,
        storage,
        sops_age_secret=SOPS_AGE_SECRET,
        log_file=log_file,
        health_addr="127.0.0.1:0",
    ) as manager:
        yield manager
    # Logged as `weir run` logs (info, JSON): reconcile failures the tests provoke are ERROR
    # lines, but a traceback is a bug (a reconciler raising unexpectedly, a logging call that
    # cannot be rendered, a crashed informer).
    bugs = [line for line in log_problems(log_file.read_text()) if TRACEBACK in line]
    assert not bugs, f"weir's log ({log_file}) has tracebacks:\n" + "\n".join(bugs)
