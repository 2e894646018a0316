"""The HTTP endpoints of ``weir run``: ``/metrics`` (Prometheus) and ``/healthz`` + ``/readyz``.

Each listens on its own address (``--metrics-addr``, ``--health-addr``); the same address for
both serves all three paths from one listener, and ``0`` switches an endpoint off.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from weir.errors import UsageError
from weir.log import kv

log = logging.getLogger("weir.endpoints")

ReadyCheck = Callable[[], tuple[bool, dict[str, Any]]]


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_address(text: str, flag: str) -> Address | None:
    """``host:port``, ``:port`` (all interfaces) or ``[v6]:port``; ``0`` or empty: disabled.

    Port 0 picks a free port (each endpoint its own)."""
    value = text.strip()
    if value in ("", "0"):
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise UsageError(
            f"{flag}={text}: use host:port, for example 127.0.0.1:8080, or 0 to disable"
        )
    host = host.strip("[]") or "0.0.0.0"
    return Address(host, int(port))


class Endpoints:
    """Serves metrics and health checks until :meth:`stop`."""

    def __init__(
        self,
        metrics_addr: Address | None,
        health_addr: Address | None,
        *,
        exposition: Callable[[], bytes],
        ready: ReadyCheck,
    ) -> None:
        self._exposition = exposition
        self._ready = ready
        self._plan: list[tuple[Address, list[str]]] = []
        for addr, part in ((metrics_addr, "metrics"), (health_addr, "health")):
            if addr is None:
                continue
            shared = next((p for a, p in self._plan if a == addr and addr.port != 0), None)
            if shared is not None:
                shared.append(part)
            else:
                self._plan.append((addr, [part]))
        self._runners: list[web.AppRunner] = []
        self.bound: dict[str, Address] = {}
        """Where each endpoint listens (with the real port when 0 was asked for)."""

    async def start(self) -> None:
        for addr, parts in self._plan:
            app = web.Application()
            if "metrics" in parts:
                app.router.add_get("/metrics", self._metrics)
            if "health" in parts:
                app.router.add_get("/healthz", self._healthz)
                app.router.add_get("/readyz", self._readyz)
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            self._runners.append(runner)
            site = web.TCPSite(runner, addr.host, addr.port)
            try:
                await site.start()
            except OSError as e:
                await self.stop()
                raise UsageError(
                    f"cannot listen on {addr} for {' and '.join(parts)}: {e.strerror}; "
                    "pick another address or stop what uses it"
                ) from e
            bound = _bound_address(runner, addr)
            for part in parts:
                self.bound[part] = bound
            log.info("serving", extra=kv(endpoints=parts, address=str(bound)))

    async def stop(self) -> None:
        runners, self._runners = self._runners, []
        for runner in runners:
            await runner.cleanup()

    async def _metrics(self, _: web.Request) -> web.Response:
        body = self._exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, _: web.Request) -> web.Response:
        ok, details = self._ready()
        return web.json_response(
            {"status": "ok" if ok else "not ready", **details}, status=200 if ok else 503
        )


def _bound_address(runner: web.AppRunner, asked: Address) -> Address:
    for sock in runner.addresses:
        if isinstance(sock, tuple) and len(sock) >= 2:
            return Address(str(sock[0]), int(sock[1]))
    return asked


def listen(address: Address, flag: str) -> socket.socket:
    """A listening, non-blocking TCP socket on ``address`` (port 0: any free port), for the
    servers of a process (the web UI, the MCP server). ``flag`` names the option in errors.

    ``proto=IPPROTO_TCP``: asyncio sets TCP_NODELAY on accepted connections only for sockets
    that say so; without it small responses wait ~40 ms for a delayed ACK (Nagle).
    """
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((address.host, address.port))
    except OSError as e:
        sock.close()
        raise UsageError(
            f"{flag}={address}: cannot listen there ({e.strerror}); choose another address"
        ) from e
    sock.listen(128)
    sock.setblocking(False)
    return sock


def abort_connections(connections: Iterable[object]) -> None:
    """Close what a stopped HTTP server left open: uvicorn cancels the handlers of a response
    still streaming (an SSE stream, a log follow) when its graceful shutdown times out, but
    leaves their transports, whose sockets then leak until garbage collection."""
    for connection in list(connections):
        transport = getattr(connection, "transport", None)
        if isinstance(transport, asyncio.BaseTransport) and not transport.is_closing():
            transport.close()
