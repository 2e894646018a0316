"""Two ``weir run`` processes share one Lease: one leads; when it is SIGKILLed the other takes
over within the lease duration plus the renew deadline; a graceful stop releases the Lease."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from kubernetes_asyncio.client import ApiClient

from weir.devcluster.process import free_port
from weir.kube import apply
from weir.kube.errors import NotFoundError
from weir.kube.lease import LEASES

LEASE = "weir-e2e-leader"
LEASE_DURATION, RENEW_DEADLINE, RETRY_PERIOD = 3.0, 2.0, 0.5
_LEADER_METRIC = re.compile(
    rf'^leader_election_master_status\{{name="{LEASE}"\}} (\S+)$', re.MULTILINE
)


@dataclass
class Replica:
    proc: subprocess.Popen[bytes]
    metrics: str
    health: str
    log: Path

    async def leading(self) -> bool | None:
        """True/False from the leader gauge; None while the endpoint is not up."""
        try:
            async with aiohttp.ClientSession() as s, s.get(f"http://{self.metrics}/metrics") as r:
                text = await r.text()
        except aiohttp.ClientError:
            return None
        found = _LEADER_METRIC.search(text)
        return found is not None and float(found.group(1)) == 1.0

    async def ready(self) -> bool:
        try:
            async with aiohttp.ClientSession() as s, s.get(f"http://{self.health}/readyz") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False


def _start(kubeconfig: str, namespace: str, log_dir: Path, index: int) -> Replica:
    metrics, health = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    log = log_dir / f"replica-{index}.log"
    argv = [
        sys.executable,
        "-m",
        "weir.cli.main",
        "run",
        "--kubeconfig",
        kubeconfig,
        "--controllers=",
        "--enable-leader-election",
        "--leader-election-namespace",
        namespace,
        "--leader-election-id",
        LEASE,
        "--leader-election-lease-duration",
        f"{LEASE_DURATION}s",
        "--leader-election-renew-deadline",
        f"{RENEW_DEADLINE}s",
        "--leader-election-retry-period",
        f"{RETRY_PERIOD}s",
        "--metrics-addr",
        metrics,
        "--health-addr",
        health,
        "--web-addr",
        "0",
        "--log-level",
        "debug",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ))
    return Replica(proc, metrics, health, log)


@pytest.fixture
def replicas(kubeconfig: str, namespace: str, tmp_path: Path) -> Iterator[list[Replica]]:
    started = [_start(kubeconfig, namespace, tmp_path, i) for i in range(2)]
    try:
        yield started
    finally:
        for r in started:
            if r.proc.poll() is None:
                r.proc.kill()
            r.proc.wait(10)


async def _holder(kube: ApiClient, namespace: str) -> str:
    try:
        lease = await apply.get(kube, LEASES, namespace, LEASE)
    except NotFoundError:
        return ""
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


async def _poll(probe: object, within: float, what: str, replicas: list[Replica]) -> float:
    """Poll the async ``probe`` every 0.1s; returns the time it took."""
    start = time.monotonic()
    while not await probe():  # type: ignore[operator]
        if time.monotonic() - start > within:
            logs = "\n".join(f"--- {r.log.name}\n{r.log.read_text()[-3000:]}" for r in replicas)
            pytest.fail(f"{what} not within {within}s\n{logs}")
        await asyncio.sleep(0.1)
    return time.monotonic() - start


async def test_failover_after_the_leader_is_killed(
    kube: ApiClient, namespace: str, replicas: list[Replica]
) -> None:
    async def one_leader() -> bool:
        states = [await r.leading() for r in replicas]
        return states.count(True) == 1 and states.count(False) == 1

    await _poll(one_leader, 60, "one leader and one standby", replicas)
    states = [await r.leading() for r in replicas]
    leader, standby = replicas if states[0] else replicas[::-1]
    first_holder = await _holder(kube, namespace)
    assert first_holder, "the leader holds the Lease"
    assert await leader.ready()
    assert await standby.ready(), "standbys are ready too"

    leader.proc.send_signal(signal.SIGKILL)
    leader.proc.wait(10)

    async def took_over() -> bool:
        holder = await _holder(kube, namespace)
        return bool(holder and holder != first_holder and await standby.leading())

    budget = LEASE_DURATION + RENEW_DEADLINE
    took = await _poll(took_over, budget + 5, "takeover", replicas)
    assert took <= budget, f"takeover took {took:.1f}s, more than {budget}s"

    # A graceful stop of the new leader releases the Lease and exits 0.
    standby.proc.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(standby.proc.wait, 30) == 0
    assert await _holder(kube, namespace) == "", standby.log.read_text()[-3000:]
