"""Faults injected into a running ``weir run`` (issue 20): the fleet converges without manual
help, with nothing orphaned and nothing twice.

- leader kill -9 with two replicas: the new leader's consumers converge, with each replica
  advertising its own storage address and with one stable address for both;
- kill -9 in the middle of an apply, and in the middle of a prune: a restart converges, the
  inventory and the cluster hold each object once, no object is left behind;
- the API server restarted for less and for longer than the lease: the process keeps leading
  (shorter) or exits to be restarted (longer, as controller-runtime does), and converges;
- the Git server down, then back: the last artifact keeps being served, then the new commit
  is applied.

Each test runs ``weir run`` as a user runs it (a subprocess, its flags, JSON logs) against a
control plane of this module's own (the API-server restarts and the controllers watching every
namespace must not disturb the session's). Figures (time to take over, time until every
Kustomization is Ready again) are printed, never asserted: see the issue notes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from kubernetes_asyncio.client import ApiClient

from weir.api.kinds import lookup
from weir.crdinstall import install_crds
from weir.devcluster import DevCluster
from weir.devcluster.process import free_port
from weir.kube import apply as kapi
from weir.kube.client import api_client
from weir.kube.errors import ApiUnavailableError, NotFoundError
from weir.kube.informer import list_all
from weir.kube.resources import CONFIG_MAPS, ResourceRef
from weir.runtime import conditions
from weir.testing.gitrepo import GitRepoFixture
from weir.testing.gitserver import GitHttpServer
from weir.types import Obj

GIT = lookup("GitRepository").resource
KS = lookup("Kustomization").resource
NAMESPACES = ResourceRef("", "v1", "namespaces", False, "Namespace")
MANAGER = "weir-faults"
LEASE = "weir-faults"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
KS_LABEL = "kustomize.toolkit.fluxcd.io/name"
CONVERGE = 180.0
"""Upper bound of every wait: a hung controller fails the test instead of hanging it."""


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def fault_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevCluster]:
    cluster = DevCluster(tmp_path_factory.mktemp("fault-cluster"))
    cluster.up()
    try:
        yield cluster
    finally:
        if not os.environ.get("WEIR_TEST_KEEP_CLUSTER"):
            cluster.down()


@pytest.fixture(scope="module")
async def fkube(fault_cluster: DevCluster) -> AsyncIterator[ApiClient]:
    api = await api_client(str(fault_cluster.kubeconfig_path))
    async with api:
        await install_crds(api)
        yield api


@pytest.fixture
async def fns(fkube: ApiClient) -> AsyncIterator[str]:
    name = f"f-{uuid.uuid4().hex[:8]}"
    await kapi.create(fkube, NAMESPACES, {"metadata": {"name": name}})
    try:
        yield name
    finally:
        await _retrying(lambda: kapi.delete(fkube, NAMESPACES, "", name))


@pytest.fixture
def git(tmp_path: Path) -> Iterator[GitHttpServer]:
    """A Git server of the test's own (the Git-down test stops it)."""
    with GitHttpServer(tmp_path / "git") as server:
        yield server


# ----------------------------------------------------------------------------- weir run
@dataclass
class Weir:
    """One ``weir run`` subprocess."""

    argv: list[str]
    log: Path
    metrics: str
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts}\n".encode())
            self.proc = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ)
            )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    async def leading(self) -> bool:
        try:
            async with (
                aiohttp.ClientSession() as s,
                s.get(f"http://{self.metrics}/metrics") as r,
            ):
                text = await r.text()
        except aiohttp.ClientError:
            return False
        return f'leader_election_master_status{{name="{LEASE}"}} 1.0' in text

    def tail(self) -> str:
        return f"--- {self.log.name}\n" + self.log.read_text(errors="replace")[-4000:]


@dataclass
class Fleet:
    """A GitRepository and ``count`` Kustomizations in ``namespace``, run by ``replicas``."""

    api: ApiClient
    namespace: str
    repo: GitRepoFixture
    kubeconfig: str
    tmp: Path
    replicas: list[Weir] = field(default_factory=list)

    def weir(
        self, name: str, *extra: str, leader_election: bool = False, storage_adv: str = ""
    ) -> Weir:
        metrics = f"127.0.0.1:{free_port()}"
        argv = [
            sys.executable,
            "-m",
            "weir.cli.main",
            "run",
            "--kubeconfig",
            self.kubeconfig,
            "--controllers=source,kustomize",
            "--watch-namespace",
            self.namespace,
            "--storage-path",
            str(self.tmp / f"storage-{name}"),
            "--storage-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            metrics,
            "--health-addr",
            "0",
            "--web-addr",
            "0",
            "--graceful-shutdown-timeout",
            "5s",
            *extra,
        ]
        if storage_adv:
            argv += ["--storage-adv-addr", storage_adv]
        if leader_election:
            argv += [
                "--enable-leader-election",
                "--leader-election-namespace",
                self.namespace,
                "--leader-election-id",
                LEASE,
            ]
        w = Weir(argv, self.tmp / f"weir-{name}.log", metrics)
        self.replicas.append(w)
        return w

    def logs(self) -> str:
        return "\n".join(r.tail() for r in self.replicas)

    async def until(self, probe: Callable[[], Awaitable[Any]], what: str) -> float:
        """Poll ``probe`` every 0.1 s until truthy; returns the seconds it took."""
        start = time.monotonic()
        while True:
            try:
                if await probe():
                    return time.monotonic() - start
            except ApiUnavailableError:
                pass
            if time.monotonic() - start > CONVERGE:
                pytest.fail(f"{what}: not within {CONVERGE}s\n{self.logs()}")
            await asyncio.sleep(0.1)

    async def kustomizations(self) -> list[Obj]:
        listed, _ = await list_all(self.api, KS, namespace=self.namespace)
        return listed

    async def ready(self, revision: str, requested: str | None = None, count: int = 1) -> bool:
        """Every Kustomization Ready at ``revision`` (and having handled ``requested``)."""
        found = await self.kustomizations()
        if len(found) < count:
            return False
        for ks in found:
            status = ks.get("status") or {}
            ready = conditions.get(ks, "Ready") or {}
            if ready.get("status") != "True" or status.get("lastAppliedRevision") != revision:
                return False
            if requested is not None and status.get("lastHandledReconcileAt") != requested:
                return False
        return True

    async def request_reconcile(self, value: str) -> None:
        for ks in await self.kustomizations():
            patch = {"metadata": {"annotations": {REQUESTED_AT: value}}}
            await kapi.patch(self.api, KS, self.namespace, ks["metadata"]["name"], patch)


@pytest.fixture
async def fleet(
    fkube: ApiClient, fault_cluster: DevCluster, fns: str, git: GitHttpServer, tmp_path: Path
) -> AsyncIterator[Fleet]:
    repo = git.create_repo(f"fleet-{uuid.uuid4().hex[:6]}.git")
    found = Fleet(fkube, fns, repo, str(fault_cluster.kubeconfig_path), tmp_path)
    try:
        yield found
    finally:
        for r in found.replicas:
            r.stop()


def configmaps(prefix: str, count: int) -> str:
    return "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {prefix}-{i:04d}\n"
        f"data:\n  index: '{i}'\n"
        for i in range(count)
    )


async def create_fleet(f: Fleet, kustomizations: int, objects: int = 3) -> str:
    files = {f"apps/{i}/cms.yaml": configmaps(f"app{i}", objects) for i in range(kustomizations)}
    sha = f.repo.commit(files, "fleet")
    await kapi.apply(
        f.api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": f.namespace},
            "spec": {"url": f.repo.url, "interval": "1m", "ref": {"branch": "master"}},
        },
        MANAGER,
    )
    for i in range(kustomizations):
        await kapi.apply(f.api, kustomization(f.namespace, f"ks-{i}", f"./apps/{i}"), MANAGER)
    return f"master@sha1:{sha}"


def kustomization(ns: str, name: str, path: str) -> Obj:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            # Flux's usual interval and no retryInterval: a failed run would retry after 10m.
            "interval": "10m",
            "path": path,
            "prune": True,
            "targetNamespace": ns,
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
        },
    }


async def _retrying(make: Callable[[], Awaitable[Any]], within: float = 60.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        try:
            return await make()
        except ApiUnavailableError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)
        except NotFoundError:
            return None


async def owned_configmaps(f: Fleet, ks: str) -> list[str]:
    listed, _ = await list_all(
        f.api, CONFIG_MAPS, namespace=f.namespace, label_selector=f"{KS_LABEL}={ks}"
    )
    return sorted(o["metadata"]["name"] for o in listed)


async def inventory_ids(f: Fleet, ks: str) -> list[str]:
    live = await kapi.get(f.api, KS, f.namespace, ks)
    return [e["id"] for e in ((live.get("status") or {}).get("inventory") or {}).get("entries", [])]


# ----------------------------------------------------------------------------- failover
@pytest.mark.parametrize("addresses", ["per-replica", "stable"])
async def test_leader_kill_consumers_converge_without_help(fleet: Fleet, addresses: str) -> None:
    """Two replicas; kill -9 of the leader; every Kustomization is Ready again at once (not
    after its 10m retry interval) with no manual reconcile. ``stable``: both replicas advertise
    one storage address (a Service in a cluster; here a name nothing answers, so the consumers
    can only succeed by reading their own storage)."""
    revision = await create_fleet(fleet, kustomizations=6)
    adv = "weir-storage.invalid:9090" if addresses == "stable" else ""
    replicas = [fleet.weir(f"r{i}", leader_election=True, storage_adv=adv) for i in range(2)]
    for r in replicas:
        r.start()

    async def one_leader() -> bool:
        return [await r.leading() for r in replicas].count(True) == 1

    await fleet.until(one_leader, "one leader")
    await fleet.until(lambda: fleet.ready(revision, count=6), "the fleet Ready")
    leader, standby = replicas if await replicas[0].leading() else replicas[::-1]
    before = ((await kapi.get(fleet.api, GIT, fleet.namespace, "fleet"))["status"])["artifact"]

    leader.kill()
    killed = time.monotonic()
    await fleet.request_reconcile("after-failover")  # so that "Ready" means "Ready again"
    took_over = await fleet.until(standby.leading, "takeover")
    await fleet.until(
        lambda: fleet.ready(revision, requested="after-failover", count=6), "the fleet Ready again"
    )
    ready_again = time.monotonic() - killed
    after = ((await kapi.get(fleet.api, GIT, fleet.namespace, "fleet"))["status"])["artifact"]
    assert after["revision"] == before["revision"]
    if addresses == "stable":
        assert after["url"] == before["url"], "one stable address across the failover"
    else:
        assert after["url"] != before["url"], "the new leader stored it at its own address"
    print(
        f"\nfailover ({addresses} storage address): leader kill -9 -> takeover {took_over:.1f}s, "
        f"-> all 6 Kustomizations Ready again {ready_again:.1f}s "
        "(lease 35s, renew 30s, retry 5s: weir run's defaults)"
    )
    assert standby.running()


# ----------------------------------------------------------------------- kill mid-apply/prune
async def _watch_first(f: Fleet, event: str, ks: str) -> None:
    """Returns at the first ``event`` (ADDED/DELETED) of a ConfigMap of ``ks``."""
    from kubernetes_asyncio import watch  # noqa: PLC0415
    from kubernetes_asyncio.client import CoreV1Api  # noqa: PLC0415

    core = CoreV1Api(f.api)
    async with watch.Watch() as w:  # closes the client the Watch makes for itself
        async for ev in w.stream(
            core.list_namespaced_config_map,
            f.namespace,
            label_selector=f"{KS_LABEL}={ks}",
            timeout_seconds=int(CONVERGE),
        ):
            if ev["type"] == event:
                return
    pytest.fail(f"no {event} ConfigMap of {ks} within {CONVERGE}s\n{f.logs()}")


async def _converged(f: Fleet, revision: str, names: list[str]) -> bool:
    if not await f.ready(revision):
        return False
    return await owned_configmaps(f, "big") == names and sorted(
        await inventory_ids(f, "big")
    ) == sorted(f"{f.namespace}_{n}__ConfigMap" for n in names)


async def test_kill_mid_apply_and_mid_prune_converges(fleet: Fleet) -> None:
    count = 600
    sha = fleet.repo.commit({"big/cms.yaml": configmaps("cm", count)}, "many objects")
    revision = f"master@sha1:{sha}"
    await kapi.apply(
        fleet.api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": fleet.namespace},
            "spec": {"url": fleet.repo.url, "interval": "1m", "ref": {"branch": "master"}},
        },
        MANAGER,
    )
    first = asyncio.create_task(_watch_first(fleet, "ADDED", "big"))
    await asyncio.sleep(0.5)  # the watch is open
    await kapi.apply(fleet.api, kustomization(fleet.namespace, "big", "./big"), MANAGER)
    weir = fleet.weir("single")
    weir.start()
    await first
    weir.kill()
    applied = len(await owned_configmaps(fleet, "big"))
    print(f"\nkill -9 mid-apply: {applied} of {count} objects applied")
    assert applied < count, "the kill came after the apply: nothing was interrupted"

    weir.start()
    names = [f"cm-{i:04d}" for i in range(count)]
    await fleet.until(lambda: _converged(fleet, revision, names), "converged after mid-apply kill")

    # Prune: keep 5 objects; kill at the first deletion, restart, converge.
    sha = fleet.repo.commit({"big/cms.yaml": configmaps("cm", 5)}, "prune")
    revision = f"master@sha1:{sha}"
    first = asyncio.create_task(_watch_first(fleet, "DELETED", "big"))
    await asyncio.sleep(0.5)
    await fleet.request_reconcile("prune")
    await _annotate_git(fleet, "prune")
    await first
    weir.kill()
    left = len(await owned_configmaps(fleet, "big"))
    print(f"kill -9 mid-prune: {left} objects left of {count}, 5 wanted")
    assert left > 5, "the kill came after the prune: nothing was interrupted"
    weir.start()
    await fleet.until(
        lambda: _converged(fleet, revision, names[:5]), "converged after mid-prune kill"
    )


# ----------------------------------------------------------------------- API server restarts
@pytest.mark.parametrize("down", ["shorter", "longer"])
async def test_api_server_restart(fleet: Fleet, fault_cluster: DevCluster, down: str) -> None:
    """Lease 20s, renew deadline 15s. ``shorter``: the API server is back before the renew
    deadline: the leader keeps leading, same process. ``longer``: down 25s: the leader cannot
    renew, gives up leadership and exits 1 (a Deployment restarts it; here the test does)."""
    revision = await create_fleet(fleet, kustomizations=2)
    weir = fleet.weir(
        "le",
        "--leader-election-lease-duration",
        "20s",
        "--leader-election-renew-deadline",
        "15s",
        "--leader-election-retry-period",
        "2s",
        leader_election=True,
    )
    weir.start()
    await fleet.until(lambda: fleet.ready(revision, count=2), "the fleet Ready")
    started = time.monotonic()
    await asyncio.to_thread(fault_cluster.restart_apiserver, 0.0 if down == "shorter" else 25.0)
    outage = time.monotonic() - started
    if down == "shorter":
        await fleet.until(weir.leading, "still leading")
        assert weir.running(), weir.tail()
        assert weir.starts == 1
    else:
        await fleet.until(lambda: asyncio.sleep(0, result=not weir.running()), "the leader exits")
        assert weir.proc is not None
        assert weir.proc.returncode == 1, weir.tail()
        weir.start()  # what a Deployment does
    print(f"\nAPI server down {outage:.1f}s ({down} than the lease)")
    sha = fleet.repo.commit({"apps/0/extra.yaml": configmaps("extra", 1)}, "after the restart")
    await _annotate_git(fleet, "after-restart")
    await fleet.until(lambda: fleet.ready(f"master@sha1:{sha}", count=2), "converged after restart")
    assert await owned_configmaps(fleet, "ks-0") == sorted(
        ["app0-0000", "app0-0001", "app0-0002", "extra-0000"]
    )


async def _annotate_git(f: Fleet, value: str) -> None:
    patch = {"metadata": {"annotations": {REQUESTED_AT: value}}}
    await _retrying(lambda: kapi.patch(f.api, GIT, f.namespace, "fleet", patch))


# ----------------------------------------------------------------------------- Git server down
async def test_git_server_down_then_back(fleet: Fleet, git: GitHttpServer) -> None:
    revision = await create_fleet(fleet, kustomizations=2)
    weir = fleet.weir("single")
    weir.start()
    await fleet.until(lambda: fleet.ready(revision, count=2), "the fleet Ready")
    git.stop()

    async def fetch_failed() -> bool:
        repo = await kapi.get(fleet.api, GIT, fleet.namespace, "fleet")
        ready = conditions.get(repo, "Ready") or {}
        return ready.get("status") == "False"

    await _annotate_git(fleet, "while-down")
    await fleet.until(fetch_failed, "the GitRepository failing while Git is down")
    repo = await kapi.get(fleet.api, GIT, fleet.namespace, "fleet")
    assert repo["status"]["artifact"]["revision"] == revision  # the last artifact stays
    await fleet.request_reconcile("while-down")
    await fleet.until(
        lambda: fleet.ready(revision, requested="while-down", count=2),
        "Kustomizations keep applying the last artifact",
    )
    git.start()
    sha = fleet.repo.commit({"apps/1/extra.yaml": configmaps("extra", 1)}, "after the outage")
    await _annotate_git(fleet, "back")
    await fleet.until(lambda: fleet.ready(f"master@sha1:{sha}", count=2), "converged after outage")
    assert weir.running()
