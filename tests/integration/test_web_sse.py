"""Live updates against the real API server: Server-Sent Events with heartbeats, resuming with
Last-Event-ID, reset for unknown ids, and the polling fallback."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient

from weir.api import KINDS
from weir.kube import apply
from weir.testing import seeded_fleet as demo
from weir.web.service import WebUI
from weir.web.settings import WebSettings
from weir.web.standalone import running_ui

pytestmark = pytest.mark.usefixtures("flux_crds")
KS = KINDS["Kustomization"].resource


@dataclass
class Message:
    event: str
    id: str | None
    data: Any


@pytest.fixture(scope="module")
async def ui(kube: ApiClient, flux_crds: None) -> AsyncIterator[WebUI]:
    settings = WebSettings(addr="127.0.0.1:0", heartbeat=0.5)
    async with running_ui(kube, settings) as started:
        yield started


async def messages(resp: httpx.Response) -> AsyncIterator[Message]:
    event, event_id, data = "message", None, ""
    async for line in resp.aiter_lines():
        if not line:
            if data:
                yield Message(event, event_id, json.loads(data))
            event, event_id, data = "message", None, ""
        elif line.startswith("event: "):
            event = line[7:]
        elif line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            data += line[6:]


async def next_change_for(
    stream: AsyncIterator[Message], key: str, timeout: float = 5.0
) -> Message:
    deadline = time.monotonic() + timeout
    async for msg in stream:
        if msg.event == "changes" and any(c["key"] == key for c in msg.data["changes"]):
            return msg
        assert time.monotonic() < deadline, f"no change for {key} in {timeout}s"
    raise AssertionError("stream ended")


async def test_stream_hello_changes_and_heartbeat(
    kube: ApiClient, ui: WebUI, namespace: str
) -> None:
    async with (
        httpx.AsyncClient(base_url=ui.url, timeout=10) as http,
        http.stream("GET", "/api/v1/stream") as resp,
    ):
        assert resp.headers["content-type"].startswith("text/event-stream")
        stream = messages(resp)
        hello = await anext(stream)
        assert hello.event == "hello"
        assert hello.id == hello.data["head"]
        t0 = time.monotonic()
        await demo.create(kube, demo.kustomization(namespace, "live", "./live"))
        msg = await next_change_for(stream, f"Kustomization/{namespace}/live")
        assert time.monotonic() - t0 < 2.0
        change = next(c for c in msg.data["changes"] if c["key"].endswith("/live"))
        assert change["type"] == "ADDED"
        assert change["data"]["status"] == "unknown"
        assert msg.id == ui.changes.event_id(msg.data["changes"][-1]["id"])
        beat = None
        async for m in stream:
            if m.event == "heartbeat":
                beat = m
                break
        assert beat is not None
        assert beat.data["head"].startswith(ui.changes.epoch)


async def test_resume_with_last_event_id(kube: ApiClient, ui: WebUI, namespace: str) -> None:
    async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
        async with http.stream("GET", "/api/v1/stream") as resp:
            stream = messages(resp)
            await anext(stream)
            await demo.create(kube, demo.kustomization(namespace, "one", "./one"))
            seen = await next_change_for(stream, f"Kustomization/{namespace}/one")
        # Disconnected: a change happens meanwhile.
        await demo.create(kube, demo.kustomization(namespace, "two", "./two"))
        key = f"Kustomization/{namespace}/two"
        deadline = time.monotonic() + 10
        while ui.cache.row("Kustomization", namespace, "two") is None:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        headers = {"Last-Event-ID": str(seen.id)}
        async with http.stream("GET", "/api/v1/stream", headers=headers) as resp:
            stream = messages(resp)
            first = await anext(stream)
            assert first.event == "changes"  # no hello, no reset: straight to what was missed
            assert key in [c["key"] for c in first.data["changes"]]
        # The same through the query parameter (a page reopening the stream itself).
        async with http.stream("GET", "/api/v1/stream", params={"lastEventId": seen.id}) as resp:
            first = await anext(messages(resp))
            assert key in [c["key"] for c in first.data["changes"]]


async def test_unknown_or_foreign_ids_reset(ui: WebUI) -> None:
    async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
        for bad in ("other-12", f"{ui.changes.epoch}-999999999", "garbage"):
            async with http.stream("GET", "/api/v1/stream", headers={"Last-Event-ID": bad}) as resp:
                first = await anext(messages(resp))
                assert first.event == "reset", bad
                assert first.data["head"] == ui.changes.event_id(ui.changes.head)


async def test_polling_fallback(kube: ApiClient, ui: WebUI, namespace: str) -> None:
    async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
        start = (await http.get("/api/v1/changes", params={"since": "nope"})).json()
        assert start["reset"] is True
        since = start["head"]
        live = demo.kustomization(namespace, "polled", "./p")
        await demo.create(kube, live)
        await apply.patch(kube, KS, namespace, "polled", {"spec": {"suspend": True}})
        key = f"Kustomization/{namespace}/polled"
        statuses: list[str] = []
        deadline = time.monotonic() + 10
        while "suspended" not in statuses:
            assert time.monotonic() < deadline, statuses
            body = (await http.get("/api/v1/changes", params={"since": since})).json()
            assert body["reset"] is False
            statuses += [c["data"]["status"] for c in body["changes"] if c["key"] == key]
            since = body["head"]
            await asyncio.sleep(0.05)
        assert statuses[0] == "unknown"
