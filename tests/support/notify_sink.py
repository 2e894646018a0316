"""A loopback HTTP sink for notification tests (asyncio, in the test's event loop): records
every request, answers from a programmable list (then ``200 {"ok": true}``), serves GETs a
fixed JSON body (commit status listings), optionally over TLS."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web


@dataclass
class Received:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Sink:
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: list[tuple[int, str]] = field(default_factory=list)
    get_answer: str = "[]"
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(Received(request.method, request.path, request.headers, body))
        self.arrived.set()
        if request.method == "GET":
            return web.Response(text=self.get_answer, content_type="application/json")
        status, text = self.answers.pop(0) if self.answers else (200, '{"ok": true}')
        return web.Response(status=status, text=text, content_type="application/json")

    async def wait(self, count: int, timeout: float = 10) -> None:
        """Until ``count`` requests have arrived."""
        async with asyncio.timeout(timeout):
            while len(self.requests) < count:
                self.arrived.clear()
                await self.arrived.wait()

    async def wait_for(
        self, predicate: Callable[[Received], bool], timeout: float = 30
    ) -> Received:
        """The first request matching ``predicate``; a TimeoutError lists what came."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    for request in self.requests:
                        if predicate(request):
                            return request
                    self.arrived.clear()
                    await self.arrived.wait()
        except TimeoutError:
            seen = [f"{r.method} {r.path}" for r in self.requests]
            raise TimeoutError(f"no matching request in {timeout}s; received: {seen}") from None


@contextlib.asynccontextmanager
async def serving(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[Sink]:
    """A :class:`Sink` on a free loopback port."""
    sink = Sink()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", sink.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.Server)
    port = server.sockets[0].getsockname()[1]
    sink.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
    try:
        yield sink
    finally:
        await runner.cleanup()
