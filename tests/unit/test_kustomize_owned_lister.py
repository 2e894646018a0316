"""The drift check's shared LIST, decided by trigger stamps (an in-memory fake LIST, so that
when each LIST starts and ends is under the test's control): a check uses a LIST that started
after its run's trigger, never one that started before it; one LIST serves every run queued
when it starts; what a check took is dropped."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from kubernetes_asyncio.client import ApiClient

from weir.kube.resources import CONFIG_MAPS, ResourceRef
from weir.kustomize.unchanged import OwnedLister, Versions
from weir.runtime.trigger import Trigger, stamp

NS = "apps"


class FakeList:
    """A fake LIST: each call waits for the test to release it and answers every owner with one
    object whose resourceVersion is the number of the call."""

    def __init__(self) -> None:
        self.calls: list[frozenset[str]] = []
        self.started: list[int] = []
        self.gates: list[asyncio.Event] = []
        self.called = asyncio.Event()

    async def __call__(
        self,
        api: ApiClient,
        resource: ResourceRef,
        ns: str | None,
        owner_ns: str,
        owners: frozenset[str],
    ) -> dict[str, Versions]:
        self.calls.append(owners)
        self.started.append(stamp())
        gate = asyncio.Event()
        self.gates.append(gate)
        self.called.set()
        number = len(self.calls)
        await gate.wait()
        return {owner: {f"{owner}-cm": str(number)} for owner in owners}

    async def wait_calls(self, count: int) -> None:
        """Until ``count`` LISTs have started (a guard against a hang, not a timing)."""
        async with asyncio.timeout(10):
            while len(self.calls) < count:
                self.called.clear()
                await self.called.wait()

    async def release(self, call: int) -> None:
        """Let the ``call``-th LIST answer (once it started)."""
        await self.wait_calls(call)
        self.gates[call - 1].set()


API = ApiClient.__new__(ApiClient)  # only its identity is used: the fake makes no request


def waiting(*names: str) -> Trigger:
    keys: Collection[str] = [f"{NS}/{n}" for n in names]
    return Trigger(stamp(), lambda: keys)


async def check(lister: OwnedLister, owner: str, trigger: Trigger) -> Versions:
    return await lister.owned(API, CONFIG_MAPS, NS, owner, NS, trigger=trigger)


async def test_a_list_that_started_before_the_trigger_is_never_used() -> None:
    fake = FakeList()
    lister = OwnedLister(fake)
    first = asyncio.create_task(check(lister, "a", waiting("a", "b")))
    await fake.wait_calls(1)  # LIST 1 has started, covering a and b (b is queued)
    late = waiting("a", "b", "c")  # b's trigger comes after LIST 1 started
    assert late.at > fake.started[0]
    await fake.release(1)
    assert await first == {"a-cm": "1"}
    assert lister.held() == 1  # LIST 1 is done and holds b ...
    second = asyncio.create_task(check(lister, "b", late))
    await fake.wait_calls(2)  # ... but not for a trigger newer than its start: LIST 2
    assert fake.calls[1] == frozenset({"a", "b", "c"})
    # LIST 2 is in flight and covers c, but c's trigger comes after it started
    third = asyncio.create_task(check(lister, "c", waiting("c")))
    await asyncio.sleep(0)
    await fake.release(2)
    assert await second == {"b-cm": "2"}
    await fake.release(3)
    assert await third == {"c-cm": "3"}
    assert lister.lists == 3


async def test_one_list_serves_every_run_queued_when_it_started() -> None:
    fake = FakeList()
    lister = OwnedLister(fake)
    triggers = {name: waiting("a", "b", "c", "x") for name in "abc"}  # all observed first
    first = asyncio.create_task(check(lister, "a", triggers["a"]))
    await fake.release(1)
    assert await first == {"a-cm": "1"}
    assert fake.calls == [frozenset({"a", "b", "c", "x"})]
    assert lister.held() == 3  # b, c and x: not taken yet
    assert await check(lister, "b", triggers["b"]) == {"b-cm": "1"}
    assert await check(lister, "c", triggers["c"]) == {"c-cm": "1"}
    assert lister.lists == 1
    assert lister.held() == 1  # x never checked: dropped by the next LIST
    again = asyncio.create_task(check(lister, "c", waiting("c")))
    await fake.release(2)
    assert await again == {"c-cm": "2"}
    assert lister.held() == 0


async def test_checks_join_the_next_list_while_one_is_in_flight() -> None:
    fake = FakeList()
    lister = OwnedLister(fake)
    first = asyncio.create_task(check(lister, "a", waiting()))
    await fake.wait_calls(1)
    joiners = [asyncio.create_task(check(lister, name, waiting())) for name in ("b", "c", "d")]
    await asyncio.sleep(0)
    assert len(fake.calls) == 1, "one LIST in flight per resource and namespace"
    await fake.release(1)
    await fake.release(2)
    assert await first == {"a-cm": "1"}
    assert [await j for j in joiners] == [{"b-cm": "2"}, {"c-cm": "2"}, {"d-cm": "2"}]
    assert fake.calls[1] == frozenset({"b", "c", "d"})
    assert lister.held() == 0


async def test_other_namespaces_waiting_are_not_listed() -> None:
    fake = FakeList()
    lister = OwnedLister(fake)
    keys = [f"{NS}/a", "elsewhere/b", "cluster-scoped"]
    task = asyncio.create_task(check(lister, "a", Trigger(stamp(), lambda: keys)))
    await fake.release(1)
    assert await task == {"a-cm": "1"}
    assert fake.calls == [frozenset({"a"})]
