"""The work queue: dedup, the concurrency bound, backoff, delays with jitter, shutdown."""

from __future__ import annotations

import asyncio
import random

import pytest

from weir.runtime import trigger
from weir.runtime.backoff import Backoff, jittered
from weir.runtime.workqueue import QueueShutDown, WorkQueue


async def _drain_now(q: WorkQueue) -> list[str]:
    """Keys queued right now, marked done."""
    out = []
    while len(q):
        key = await q.get()
        q.done(key)
        out.append(key)
    return out


async def test_keys_are_deduplicated_in_order() -> None:
    q = WorkQueue()
    for key in ("a", "b", "a", "c", "b"):
        q.add(key)
    assert len(q) == 3
    assert await _drain_now(q) == ["a", "b", "c"]


async def test_key_added_while_processing_is_requeued_once_after_done() -> None:
    q = WorkQueue()
    q.add("a")
    key = await q.get()
    q.add("a")
    q.add("a")
    assert len(q) == 0, "a key in flight is not handed to a second worker"
    q.done(key)
    assert len(q) == 1
    assert await _drain_now(q) == ["a"]
    assert len(q) == 0


async def test_workers_never_exceed_the_bound_nor_share_a_key() -> None:
    q = WorkQueue()
    running: set[str] = set()
    peak = 0
    seen: list[str] = []
    all_seen = asyncio.Event()

    async def handler(key: str) -> None:
        nonlocal peak
        assert key not in running
        running.add(key)
        peak = max(peak, len(running))
        await asyncio.sleep(0.01)
        seen.append(key)
        running.discard(key)
        if len(seen) == 12:
            all_seen.set()

    for i in range(12):
        q.add(f"k{i}")
    task = asyncio.create_task(q.run(handler, workers=3))
    await asyncio.wait_for(all_seen.wait(), 5)
    q.shutdown()
    await asyncio.wait_for(task, 5)
    assert peak == 3
    assert sorted(seen) == sorted(f"k{i}" for i in range(12))


async def test_backoff_doubles_up_to_the_cap_and_forget_resets() -> None:
    b = Backoff(min_delay=0.005, max_delay=0.04)
    assert [b.next_delay("k") for _ in range(6)] == [0.005, 0.01, 0.02, 0.04, 0.04, 0.04]
    assert b.failures("k") == 6
    assert b.next_delay("other") == 0.005, "keys back off independently"
    b.forget("k")
    assert b.failures("k") == 0
    assert b.next_delay("k") == 0.005


def test_backoff_defaults_are_fluxs() -> None:
    b = Backoff()
    assert (b.min_delay, b.max_delay) == (0.75, 900.0)
    for _ in range(100):
        delay = b.next_delay("k")
    assert delay == 900.0


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="min_delay"):
        Backoff(min_delay=0)
    with pytest.raises(ValueError, match="min_delay"):
        Backoff(min_delay=2, max_delay=1)


def test_jitter_stays_within_the_percentage() -> None:
    rng = random.Random(7)
    values = [jittered(100.0, 5.0, rng) for _ in range(2000)]
    assert all(95.0 <= v <= 105.0 for v in values)
    assert min(values) < 96.0, "the whole range is used"
    assert max(values) > 104.0
    assert jittered(100.0, 0.0, rng) == 100.0
    assert jittered(0.0, 5.0, rng) == 0.0


async def test_add_rate_limited_waits_the_growing_backoff() -> None:
    q = WorkQueue(backoff=Backoff(min_delay=0.02, max_delay=1.0))
    loop = asyncio.get_running_loop()
    waits: list[float] = []
    for expected in (0.02, 0.04, 0.08):
        start = loop.time()
        assert q.add_rate_limited("k") == pytest.approx(expected)
        key = await asyncio.wait_for(q.get(), 2)
        q.done(key)
        waits.append(loop.time() - start)
    assert waits[0] >= 0.019
    assert waits[1] >= 0.039
    assert waits[2] >= 0.079
    assert q.num_requeues("k") == 3
    q.forget("k")
    assert q.num_requeues("k") == 0


async def test_add_after_applies_about_five_percent_jitter() -> None:
    q = WorkQueue(rng=random.Random(1))
    delays = [q.add_after(f"k{i}", 10.0) for i in range(200)]
    assert all(9.5 <= d <= 10.5 for d in delays)
    assert len(set(delays)) > 100
    assert q.add_after("exact", 10.0, jitter=False) == 10.0
    q.shutdown()


async def test_add_after_delivers_after_the_delay() -> None:
    q = WorkQueue()
    loop = asyncio.get_running_loop()
    start = loop.time()
    q.add_after("k", 0.05, jitter=False)
    assert len(q) == 0
    assert q.scheduled("k") == pytest.approx(0.05, abs=0.01)
    key = await asyncio.wait_for(q.get(), 2)
    assert key == "k"
    assert loop.time() - start >= 0.049
    q.done(key)
    assert q.scheduled("k") is None


async def test_earliest_pending_delay_wins() -> None:
    q = WorkQueue()
    q.add_after("k", 5.0, jitter=False)
    q.add_after("k", 0.02, jitter=False)
    q.add_after("k", 3.0, jitter=False)
    assert q.scheduled("k") == pytest.approx(0.02, abs=0.01)
    assert await asyncio.wait_for(q.get(), 2) == "k"
    q.shutdown()


async def test_add_now_cancels_a_pending_delay() -> None:
    q = WorkQueue()
    q.add_after("k", 0.03, jitter=False)
    q.add("k")
    assert q.scheduled("k") is None
    key = await q.get()
    q.done(key)
    await asyncio.sleep(0.06)
    assert len(q) == 0, "the cancelled delay does not fire later"


async def test_add_after_on_a_queued_key_is_a_noop() -> None:
    q = WorkQueue()
    q.add("k")
    assert q.add_after("k", 1.0) == 0.0
    assert q.scheduled("k") is None


async def test_zero_delay_adds_now() -> None:
    q = WorkQueue()
    q.add_after("k", 0)
    assert len(q) == 1


async def test_cancel_drops_the_delay_and_the_backoff() -> None:
    q = WorkQueue(backoff=Backoff(min_delay=0.02))
    q.add_rate_limited("k")
    q.cancel("k")
    assert q.scheduled("k") is None
    assert q.num_requeues("k") == 0


async def test_shutdown_wakes_idle_workers_and_drops_work() -> None:
    q = WorkQueue()
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.add_after("later", 0.01)
    q.shutdown()
    with pytest.raises(QueueShutDown):
        await asyncio.wait_for(getter, 1)
    q.add("k")
    assert len(q) == 0, "adds after shutdown are dropped"
    with pytest.raises(QueueShutDown):
        await q.get()


async def test_wait_idle_waits_for_in_flight_keys() -> None:
    q = WorkQueue()
    release = asyncio.Event()
    started = asyncio.Event()

    async def handler(key: str) -> None:
        started.set()
        await release.wait()

    q.add("k")
    task = asyncio.create_task(q.run(handler, workers=2))
    await asyncio.wait_for(started.wait(), 1)
    q.shutdown()
    assert await q.wait_idle(0.02) is False
    release.set()
    assert await q.wait_idle(1) is True
    await asyncio.wait_for(task, 1)


async def test_a_failing_handler_is_retried_with_backoff() -> None:
    q = WorkQueue(backoff=Backoff(min_delay=0.01))
    calls = 0
    third = asyncio.Event()

    async def handler(key: str) -> None:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RuntimeError("boom")
        third.set()

    q.add("k")
    task = asyncio.create_task(q.run(handler))
    await asyncio.wait_for(third.wait(), 2)
    q.shutdown()
    await asyncio.wait_for(task, 1)
    assert q.num_requeues("k") == 2


async def test_observer_sees_depth_adds_and_retries() -> None:
    class Observer:
        def __init__(self) -> None:
            self.depth = -1
            self.adds = 0
            self.retries = 0

        def on_depth(self, depth: int) -> None:
            self.depth = depth

        def on_add(self) -> None:
            self.adds += 1

        def on_retry(self) -> None:
            self.retries += 1

    obs = Observer()
    q = WorkQueue(observer=obs, backoff=Backoff(min_delay=10))
    q.add("a")
    q.add("b")
    q.add("a")
    assert (obs.depth, obs.adds) == (2, 2)
    await q.get()
    assert obs.depth == 1
    q.add_rate_limited("c")
    assert obs.retries == 1
    q.shutdown()
    assert obs.depth == 0


async def test_a_cancelled_getter_passes_its_wakeup_on() -> None:
    q = WorkQueue()
    first = asyncio.create_task(q.get())
    second = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.add("k")  # wakes `first`
    first.cancel()
    assert await asyncio.wait_for(second, 1) == "k"


async def _peak_with(q: WorkQueue, keys: list[str], release: asyncio.Event) -> int:
    """Queue ``keys`` whose handlers block until ``release``; return how many run at once."""
    for key in keys:
        q.add(key)
    for _ in range(200):
        await asyncio.sleep(0.005)
    return q.in_flight


async def test_set_workers_grows_and_shrinks_a_running_queue() -> None:
    q = WorkQueue()
    release = asyncio.Event()

    async def handler(key: str) -> None:
        await release.wait()

    runner = asyncio.create_task(q.run(handler, 2))
    assert await _peak_with(q, [f"a{i}" for i in range(6)], release) == 2
    q.set_workers(5)
    assert q.workers == 5
    assert await _peak_with(q, [], release) == 5, "new workers take queued keys at once"
    q.set_workers(1)
    release.set()
    for _ in range(200):
        await asyncio.sleep(0.005)
    assert q.in_flight == 0
    release.clear()
    assert await _peak_with(q, [f"b{i}" for i in range(4)], release) == 1
    release.set()
    q.shutdown()
    await asyncio.wait_for(runner, 2)


async def test_shrinking_lets_idle_workers_go_and_growing_again_reuses_busy_ones() -> None:
    q = WorkQueue()
    release = asyncio.Event()

    async def handler(key: str) -> None:
        await release.wait()

    runner = asyncio.create_task(q.run(handler, 4))
    q.add("busy")
    await asyncio.sleep(0.02)
    q.set_workers(1)  # three idle workers leave now; the busy one stays
    q.set_workers(3)  # two new ones
    assert await _peak_with(q, ["x", "y", "z"], release) == 3
    release.set()
    q.shutdown()
    await asyncio.wait_for(runner, 2)


async def test_set_workers_refuses_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WorkQueue().set_workers(0)


async def test_a_run_answers_the_latest_add_before_it_was_taken() -> None:
    q = WorkQueue()
    q.add("a")
    before = trigger.stamp()
    q.add("a")  # deduplicated, but a newer trigger: the run must answer this one
    after = trigger.stamp()
    q.add("b")
    assert q.triggered("a") is None  # not running
    assert await q.get() == "a"
    stamp_a = q.triggered("a")
    assert stamp_a is not None
    assert before < stamp_a < after
    assert sorted(q.pending()) == ["a", "b"]
    q.add("a")  # while it runs: the next run answers this add
    again = trigger.stamp()
    q.done("a")
    assert q.triggered("a") is None
    assert await q.get() == "b"
    assert await q.get() == "a"
    stamp_again = q.triggered("a")
    assert stamp_again is not None
    assert stamp_a < stamp_again < again
    q.done("a")
    q.done("b")
    assert q.pending() == []


async def test_a_delayed_add_is_stamped_when_it_fires() -> None:
    q = WorkQueue(jitter_percent=0)
    q.add_after("a", 0.01)
    scheduled = trigger.stamp()
    assert await q.get() == "a"
    stamp = q.triggered("a")
    assert stamp is not None
    assert stamp > scheduled
    q.done("a")


async def test_priority_keys_are_taken_first_in_fifo_order_and_stay_deduplicated() -> None:
    q = WorkQueue()
    for key in ("a", "b", "c"):
        q.add(key)
    q.add("x", priority=True)
    q.add("b", priority=True)  # queued already: moved ahead, not queued twice
    q.add("x", priority=True)
    q.add("c")  # a plain add leaves a queued key where it is
    assert len(q) == 4
    assert q.pending() == ["x", "b", "a", "c"]
    assert await _drain_now(q) == ["x", "b", "a", "c"]


async def test_promote_moves_a_queued_key_and_never_adds_a_run() -> None:
    q = WorkQueue()
    for key in ("a", "b", "c"):
        q.add(key)
    assert q.promote("c")
    assert not q.promote("c"), "already ahead"
    assert not q.promote("z"), "not queued: promoting adds no run"
    assert len(q) == 3
    assert await _drain_now(q) == ["c", "a", "b"]
    assert not q.promote("a"), "ran already"
    assert len(q) == 0


async def test_a_key_promoted_while_processing_runs_next_with_priority() -> None:
    q = WorkQueue()
    q.add("a")
    running = await q.get()
    assert not q.promote("a"), "processing and not queued again: nothing to move"
    q.add("b")
    q.add("a")  # queued again while it runs
    assert q.promote("a")
    q.done(running)
    assert await _drain_now(q) == ["a", "b"]


async def test_priority_add_while_processing_requeues_ahead() -> None:
    q = WorkQueue()
    q.add("a")
    running = await q.get()
    q.add("b")
    q.add("a", priority=True)
    q.done(running)
    assert await _drain_now(q) == ["a", "b"]


async def test_shutdown_drops_priority_keys_too() -> None:
    q = WorkQueue()
    q.add("a", priority=True)
    q.add("b")
    q.shutdown()
    assert len(q) == 0
    assert not q.promote("b")
    with pytest.raises(QueueShutDown):
        await q.get()
