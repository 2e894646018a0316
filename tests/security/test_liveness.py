"""Attacks on the process's liveness: a hostile repository must not freeze the event loop
(health checks, the UI and every other reconcile live there), and a busy loop must not cost
the leader its Lease."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import threading
import time
import uuid
from typing import Any

from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import wait_for
from weir.api.kinds import lookup
from weir.kube import apply as kapi
from weir.kube.client import api_client
from weir.kube.lease import LEASES, LeaderElector
from weir.runtime import conditions
from weir.runtime.manager import Manager
from weir.testing.gitrepo import GitRepoFixture

KS = lookup("Kustomization").resource
MANAGER = "weir-security"


class HealthPoller(threading.Thread):
    """GET /healthz every 100 ms from a thread of its own; counts the answers that did not
    come (a probe's 5 s timeout) or were not 200."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.answered = 0
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
                if status == 200:
                    self.answered += 1
                else:
                    self.failures.append(f"HTTP {status}")
            except OSError as e:
                self.failures.append(repr(e))
            finally:
                conn.close()
            self.stop.wait(0.1)


async def test_healthz_answers_while_a_hostile_repository_is_reconciled(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture, controllers: Manager
) -> None:
    api, ns = kube, namespace
    assert controllers.endpoints is not None
    poller = HealthPoller(controllers.endpoints.bound["health"].port)
    git_repo.commit(
        {
            # catastrophic backtracking in a regex-based engine: minutes per value
            "glob/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: glob\n"
                "data:\n  v: ${v##*a*a*a*b}\n  w: ${v%%*a*a*a*b}\n"
            ),
            # a 6 MB manifest: parsing it is seconds of CPU (too large to apply, too)
            "big/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n"
                + "".join(f"  k{i}: '{'x' * 60_000}'\n" for i in range(100))
            ),
        },
        "hostile",
    )
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": ns},
            "spec": {"url": git_repo.url, "interval": "1h", "ref": {"branch": "master"}},
        },
        MANAGER,
    )
    poller.start()
    try:
        for name, extra in (
            ("glob", {"postBuild": {"substitute": {"v": "a" * 3000}}}),
            ("big", {}),
        ):
            await kapi.apply(
                api,
                {
                    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                    "kind": "Kustomization",
                    "metadata": {"name": name, "namespace": ns},
                    "spec": {
                        "interval": "1h",
                        "prune": True,
                        "path": f"./{name}",
                        "targetNamespace": ns,
                        "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                        **extra,
                    },
                },
                MANAGER,
            )

        def done(obj: dict[str, Any]) -> bool:
            return (conditions.get(obj, "Ready") or {}).get("status") in ("True", "False")

        glob = await wait_for(api, KS, ns, "glob", conditions_ready, "glob applied", 120)
        await wait_for(api, KS, ns, "big", done, "big handled", 120)
    finally:
        poller.stop.set()
        await asyncio.to_thread(poller.join)
    assert conditions.is_true(glob, "Ready")
    assert poller.answered > 0
    assert poller.failures == []


def conditions_ready(obj: dict[str, Any]) -> bool:
    return conditions.is_true(obj, "Ready")


async def test_a_blocked_event_loop_does_not_lose_the_lease(
    kube: ApiClient, namespace: str, kubeconfig: str
) -> None:
    name = f"lease-{uuid.uuid4().hex[:6]}"

    def elector(api: ApiClient, identity: str) -> LeaderElector:
        return LeaderElector(
            api, namespace, name, identity, lease_duration=3.0, renew_deadline=2.0, retry_period=0.5
        )

    leader = elector(kube, "leader")
    stopped = threading.Event()
    elected = asyncio.Event()
    lost = asyncio.Event()

    async def work() -> None:
        elected.set()
        await asyncio.Event().wait()

    leading = asyncio.create_task(leader.run(work, lost.set))
    await asyncio.wait_for(elected.wait(), 30)

    def standby() -> None:
        async def campaign() -> None:
            client = await api_client(kubeconfig)
            async with client:
                other = elector(client, "standby")

                async def idle() -> None:
                    await asyncio.Event().wait()

                task = asyncio.create_task(other.run(idle, lambda: None))
                await asyncio.to_thread(stopped.wait)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

        asyncio.run(campaign())

    thread = threading.Thread(target=standby, daemon=True)
    thread.start()
    try:
        time.sleep(6)  # a reconcile hogging the loop for twice the lease duration  # noqa: ASYNC251
        await asyncio.sleep(1)
        lease = await kapi.get(kube, LEASES, namespace, name)
        assert lease["spec"]["holderIdentity"] == "leader"
        assert not lost.is_set()
        assert leader.is_leader
    finally:
        stopped.set()
        await asyncio.to_thread(thread.join)
        leading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await leading
