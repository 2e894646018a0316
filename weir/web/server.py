"""Serving the app with uvicorn inside the caller's event loop (``weir run`` shares its loop
with the controllers), on a socket bound here so that port 0 works and the real address is
known. uvicorn's own signal handling and logging set-up are switched off: the process owns
both."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from weir.errors import UsageError
from weir.log import kv
from weir.runtime.endpoints import abort_connections, listen, parse_address

log = logging.getLogger("weir.web")
START_TIMEOUT = 10.0


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(addr: str, flag: str = "--web-addr") -> socket.socket:
    """A listening TCP socket on ``addr`` (``host:port``, ``:port``; port 0: any free port)."""
    address = parse_address(addr, flag)
    if address is None:
        raise UsageError(f"{flag}={addr}: the web UI is disabled")
    return listen(address, flag)


class WebServer:
    """One uvicorn server for ``app`` on ``addr``."""

    def __init__(self, app: ASGIApp, addr: str, *, graceful_timeout: float = 3.0) -> None:
        self.app = app
        self.addr = addr
        self.graceful_timeout = graceful_timeout
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None
        self._bound: tuple[str, int] | None = None

    @property
    def host_port(self) -> tuple[str, int]:
        """The address bound (kept after :meth:`stop`)."""
        assert self._bound is not None, "not started"
        return self._bound

    @property
    def url(self) -> str:
        host, port = self.host_port
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"

    async def start(self) -> None:
        self._sock = bind(self.addr)
        host, port = self._sock.getsockname()[:2]
        self._bound = (str(host), int(port))
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=int(self.graceful_timeout) or 1,
            server_header=False,
        )
        self._server = _EmbeddedServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]), name="weir-web")
        try:
            await self._started()
        except BaseException:
            await self.stop()
            raise
        log.info("web UI serving", extra=kv(url=self.url))

    async def _started(self) -> None:
        server, task = self._server, self._task
        assert server is not None, "start() first"
        assert task is not None, "start() first"
        async with asyncio.timeout(START_TIMEOUT):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("the web server stopped during start-up")
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        server, task = self._server, self._task
        if server is None or task is None:
            return
        server.should_exit = True
        try:
            async with asyncio.timeout(self.graceful_timeout + 2):
                await task
        except TimeoutError:
            server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            abort_connections(server.server_state.connections)
            await asyncio.sleep(0)  # let the closed transports release their sockets
            if self._sock is not None:
                self._sock.close()
            self._server = self._task = None
