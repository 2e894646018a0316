"""The change log and the SSE framing behind live updates (weir.web.changes, weir.web.sse)."""

from __future__ import annotations

import asyncio
import json

from weir.web.changes import Change, ChangeLog
from weir.web.sse import frame, poll, stream


def test_ids_resume_and_reset() -> None:
    log = ChangeLog(capacity=3, epoch="e1")
    assert log.since(0) == []
    for i in range(5):
        log.append("MODIFIED", "flux", f"K/ns/{i}", {"i": i})
    assert log.head == 5
    assert [c.key for c in log.since(3) or []] == ["K/ns/3", "K/ns/4"]
    assert log.since(1) is None  # change 2 was dropped (capacity 3)
    assert log.since(2) is not None
    assert log.since(6) is None  # from the future: another process
    assert log.since(5) == []
    assert [c.id for c in log.since(2, limit=2) or []] == [3, 4]
    assert log.parse_id("e1-4") == 4
    assert log.parse_id("e2-4") is None
    assert log.parse_id("garbage") is None
    assert log.event_id(7) == "e1-7"


async def test_wait_wakes_on_append_and_close() -> None:
    log = ChangeLog(epoch="e")
    assert await log.wait(0, 0.01) is False
    waiter = asyncio.ensure_future(log.wait(0, 5))
    await asyncio.sleep(0)
    log.append("ADDED", "flux", "k", {})
    assert await waiter is True
    closing = asyncio.ensure_future(log.wait(1, 5))
    await asyncio.sleep(0)
    log.close()
    assert await closing is False


def parse(chunk: bytes) -> dict[str, str]:
    out = {}
    for line in chunk.decode().strip().splitlines():
        field, _, value = line.partition(": ")
        out[field] = value
    return out


async def test_stream_hello_changes_heartbeat_reset() -> None:
    log = ChangeLog(epoch="e")
    log.append("ADDED", "flux", "K/a/b", {"status": "ready"})
    gen = stream(log, None, heartbeat=0.05)
    assert (await anext(gen)).startswith(b"retry: ")
    hello = parse(await anext(gen))
    assert hello["event"] == "hello"
    assert hello["id"] == "e-1"
    log.append("MODIFIED", "flux", "K/a/b", {"status": "failed"})
    msg = parse(await anext(gen))
    assert msg["event"] == "changes"
    assert msg["id"] == "e-2"
    assert json.loads(msg["data"])["changes"][0]["data"] == {"status": "failed"}
    beat = parse(await anext(gen))
    assert beat["event"] == "heartbeat"
    assert json.loads(beat["data"])["head"] == "e-2"
    log.close()
    rest = [c async for c in gen]
    assert rest == []

    resumed = stream(log, "e-1", heartbeat=1)
    await anext(resumed)
    assert parse(await anext(resumed))["id"] == "e-2"  # straight to what was missed
    await resumed.aclose()
    foreign = stream(log, "other-1", heartbeat=1)
    await anext(foreign)
    assert parse(await anext(foreign))["event"] == "reset"
    await foreign.aclose()


async def test_poll() -> None:
    log = ChangeLog(epoch="e")
    assert await poll(log, None) == {"head": "e-0", "reset": True, "changes": []}
    log.append("ADDED", "workload", "Deployment/a/b", {})
    body = await poll(log, "e-0")
    assert body["reset"] is False
    assert body["head"] == "e-1"
    assert [c["key"] for c in body["changes"]] == ["Deployment/a/b"]
    assert (await poll(log, "e-1"))["changes"] == []


async def test_a_filter_hides_changes_but_moves_the_position() -> None:
    log = ChangeLog(epoch="e")
    log.append("ADDED", "flux", "Kustomization/ethereum/erigon", {})
    log.append("ADDED", "flux", "Kustomization/other/x", {})

    async def only_ethereum(batch: list[Change]) -> list[Change]:
        return [c for c in batch if c.key.split("/")[1] == "ethereum"]

    body = await poll(log, "e-0", visible=only_ethereum)
    assert [c["key"] for c in body["changes"]] == ["Kustomization/ethereum/erigon"]
    assert body["head"] == "e-2"
    live = stream(log, "e-0", heartbeat=0.05, visible=only_ethereum)
    await anext(live)  # retry
    first = parse(await anext(live))
    keys = [c["key"] for c in json.loads(first["data"])["changes"]]
    assert keys == ["Kustomization/ethereum/erigon"]
    assert first["id"] == "e-2"
    log.append("MODIFIED", "flux", "Kustomization/other/x", {})
    beat = parse(await anext(live))
    assert beat["event"] == "heartbeat"
    assert beat["id"] == "e-3"
    await live.aclose()


def test_frame() -> None:
    assert frame("x", {"a": 1}, "e-1") == b'id: e-1\nevent: x\ndata: {"a":1}\n\n'
    assert frame("x", [1]) == b"event: x\ndata: [1]\n\n"
