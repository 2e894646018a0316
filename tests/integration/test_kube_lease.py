"""Leader election between two electors on a real Lease: one leads; a crashed leader is
replaced after the lease expires; a graceful stop hands over at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import eventually
from weir.kube import apply
from weir.kube.lease import LEASES, LeaderElector

TIMING = {"lease_duration": 2.0, "renew_deadline": 1.5, "retry_period": 0.25}


class Candidate:
    """An elector running in its own task, recording its leadership callbacks."""

    def __init__(self, kube: ApiClient, namespace: str, identity: str, release: bool) -> None:
        self.elector = LeaderElector(
            kube, namespace, "weir-leader", identity, release_on_cancel=release, **TIMING
        )
        self.started = 0
        self.stopped = 0
        self.task: asyncio.Task[None] | None = None

    async def _lead(self) -> None:
        self.started += 1
        await asyncio.Event().wait()  # the controllers would run here

    def _stop(self) -> None:
        self.stopped += 1

    def start(self) -> None:
        self.task = asyncio.create_task(self.elector.run(self._lead, self._stop))

    async def cancel(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task


@pytest.fixture
async def candidates(kube: ApiClient, namespace: str) -> AsyncIterator[list[Candidate]]:
    made = [
        Candidate(kube, namespace, "one", release=False),
        Candidate(kube, namespace, "two", release=True),
    ]
    yield made
    for c in made:
        if c.task is not None and not c.task.done():
            await c.cancel()


async def elect(candidates: list[Candidate]) -> tuple[Candidate, Candidate]:
    for c in candidates:
        c.start()
    await eventually(lambda: any(c.elector.is_leader for c in candidates), what="a leader")
    leader = next(c for c in candidates if c.elector.is_leader)
    return leader, next(c for c in candidates if c is not leader)


async def test_exactly_one_leads(
    kube: ApiClient, namespace: str, candidates: list[Candidate]
) -> None:
    leader, follower = await elect(candidates)
    renewals: set[str] = set()

    async def renewed_three_times() -> bool:
        """Across several renewals, the follower never leads (checked at every look)."""
        lease = await apply.get(kube, LEASES, namespace, "weir-leader")
        assert lease["spec"]["holderIdentity"] == leader.elector.identity
        assert not follower.elector.is_leader
        renewals.add(lease["spec"]["renewTime"])
        return len(renewals) >= 3

    await eventually(renewed_three_times, "three renewals of the lease")
    assert leader.elector.is_leader
    assert not follower.elector.is_leader
    assert (leader.started, follower.started) == (1, 0)
    lease = await apply.get(kube, LEASES, namespace, "weir-leader")
    assert lease["spec"]["holderIdentity"] == leader.elector.identity
    assert lease["spec"]["leaseDurationSeconds"] == 2
    assert follower.elector.observed_holder == leader.elector.identity


async def test_crashed_leader_is_replaced_after_expiry(
    kube: ApiClient, namespace: str, candidates: list[Candidate]
) -> None:
    one, two = candidates
    one.start()  # "one" does not release its lease on cancel: a crash
    await eventually(lambda: one.elector.is_leader, what="the first leader")
    two.start()
    await eventually(lambda: two.elector.observed_holder == "one", "two to see one's lease")
    assert not two.elector.is_leader
    t0 = time.monotonic()
    await one.cancel()
    assert one.stopped == 1
    budget = TIMING["lease_duration"] + TIMING["renew_deadline"]
    await eventually(lambda: two.elector.is_leader, timeout=budget, what="a takeover")
    takeover = time.monotonic() - t0
    assert takeover >= TIMING["lease_duration"] * 0.5  # it waited for the lease to expire
    lease = await apply.get(kube, LEASES, namespace, "weir-leader")
    assert lease["spec"]["holderIdentity"] == "two"
    assert lease["spec"]["leaseTransitions"] == 1


async def test_graceful_stop_hands_over_fast(
    kube: ApiClient, namespace: str, candidates: list[Candidate]
) -> None:
    one, two = candidates
    two.start()  # "two" releases its lease on cancel
    await eventually(lambda: two.elector.is_leader, what="the first leader")
    one.start()
    await eventually(lambda: one.elector.observed_holder == "two", "one to see two's lease")
    assert not one.elector.is_leader
    t0 = time.monotonic()
    await two.cancel()
    assert two.stopped == 1
    await eventually(lambda: one.elector.is_leader, timeout=1.5, what="a fast handover")
    handover = time.monotonic() - t0
    assert handover < TIMING["lease_duration"]
    lease = await apply.get(kube, LEASES, namespace, "weir-leader")
    assert lease["spec"]["holderIdentity"] == "one"


async def test_leader_steps_down_when_the_lease_is_taken(
    kube: ApiClient, namespace: str, candidates: list[Candidate]
) -> None:
    one = candidates[0]
    one.start()
    await eventually(lambda: one.elector.is_leader, what="the leader")
    lease = await apply.get(kube, LEASES, namespace, "weir-leader")
    lease["spec"]["holderIdentity"] = "usurper"
    await apply.replace(kube, LEASES, lease)
    assert one.task is not None
    await asyncio.wait_for(one.task, timeout=TIMING["renew_deadline"] + 1)  # run() returns
    assert not one.elector.is_leader
    assert one.stopped == 1
