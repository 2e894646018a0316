"""A small aiohttp server bound to one ``host:port`` (port 0: a free one), as a manager service."""

from __future__ import annotations

import logging

from aiohttp import web

from weir.errors import UsageError
from weir.log import kv

log = logging.getLogger("weir.notification")


def parse_addr(addr: str, flag: str) -> tuple[str, int]:
    """``"host:port"``, ``":port"`` (all interfaces) or ``"[::1]:port"``."""
    host, sep, port = addr.strip().rpartition(":")
    if not sep or not port.isdigit():
        raise UsageError(f"{flag}={addr}: use host:port (e.g. 127.0.0.1:9292 or :9292), or 0")
    return host.strip("[]") or "0.0.0.0", int(port)


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None when it is larger than ``limit`` bytes. (One
    ``content.read(n)`` returns what has arrived so far, which may be only part of a body sent
    in several TCP segments: a signature computed on that would not match.)"""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(1 << 16):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class HttpServer:
    """Serves ``app`` on ``addr`` between :meth:`start` and :meth:`stop`."""

    def __init__(self, app: web.Application, addr: str, name: str) -> None:
        self.app = app
        self.name = name
        self.host, self.port = parse_addr(addr, f"--{name}-addr")
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets and self.port == 0:
            self.port = int(sockets[0].getsockname()[1])
        log.info("server listening", extra=kv(server=self.name, addr=f"{self.host}:{self.port}"))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
