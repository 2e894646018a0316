"""The artifact HTTP server: serves the storage directory read-only, as source-controller does on
``--storage-addr`` (default ``:9090`` in Flux; weir binds loopback unless told otherwise).

- ``GET``/``HEAD /<kind>/<namespace>/<name>/<file>``: the file with ``Content-Length``,
  ``ETag`` (the sha256 hex of the file, quoted), ``Content-Digest`` (RFC 9530) and
  ``If-None-Match`` support.
- 404 for anything else: directories (no listing), missing files, hidden files (locks,
  temporary files), paths with ``..`` and symlinks.

Run it on its own with ``python -m weir.source.server --storage-path DIR``; the URL written into
``status.artifact.url`` uses ``--storage-adv-addr`` (default: the bind address, or the host name
when binding all interfaces).

:func:`fetch_artifact` (the consumer side) lives in :mod:`weir.artifact.fetch` and is re-exported
here.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import os
import signal
import socket
import stat
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from aiohttp import web

from weir.artifact.fetch import fetch_artifact

__all__ = [
    "DEFAULT_STORAGE_ADDR",
    "ArtifactServer",
    "advertised_addr",
    "fetch_artifact",
    "main",
    "make_app",
    "parse_addr",
]

DEFAULT_STORAGE_ADDR = "127.0.0.1:9090"
_CHUNK = 1 << 16


def parse_addr(addr: str) -> tuple[str, int]:
    """``"host:port"``, ``":port"`` or ``"[::1]:port"`` -> (host, port); empty host = all."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"address {addr!r} must be host:port (e.g. ':9090' or '127.0.0.1:9090')")
    return host.strip("[]"), int(port)


def advertised_addr(storage_addr: str, storage_adv_addr: str | None = None) -> str:
    """The address for artifact URLs, as Flux picks it: ``--storage-adv-addr`` if given, else
    the bind address, with the machine's host name when it binds all interfaces."""
    if storage_adv_addr:
        return storage_adv_addr
    host, port = parse_addr(storage_addr)
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _DigestCache:
    """sha256 per file, keyed by (inode, size, mtime) so that replaced files are re-hashed."""

    def __init__(self, limit: int = 4096) -> None:
        self._cache: dict[tuple[int, int, int, int], str] = {}
        self._limit = limit

    def get(self, fh: IO[bytes], st: os.stat_result) -> str:
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        h = hashlib.sha256()
        fh.seek(0)
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
        fh.seek(0)
        if len(self._cache) >= self._limit:
            self._cache.clear()
        self._cache[key] = h.hexdigest()
        return self._cache[key]


def _open_regular(root_real: str, root: Path, parts: list[str]) -> tuple[IO[bytes], os.stat_result]:
    path = root.joinpath(*parts)
    real = os.path.realpath(path)
    if not real.startswith(root_real + os.sep):
        raise FileNotFoundError(path)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    fh = os.fdopen(fd, "rb")
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        fh.close()
        raise FileNotFoundError(path)
    return fh, st


def make_app(root: str | os.PathLike[str]) -> web.Application:
    """The aiohttp application serving ``root``."""
    base = Path(root).absolute()
    base_real = os.path.realpath(base)
    digests = _DigestCache()

    async def serve(request: web.Request) -> web.StreamResponse:
        parts = request.match_info["tail"].split("/")
        if any(not p or p in (".", "..") or p.startswith(".") or "\x00" in p for p in parts):
            raise web.HTTPNotFound()
        try:
            fh, st = await asyncio.to_thread(_open_regular, base_real, base, parts)
        except OSError as exc:
            raise web.HTTPNotFound() from exc
        try:
            hexdigest = await asyncio.to_thread(digests.get, fh, st)
            etag = f'"{hexdigest}"'
            b64 = base64.b64encode(bytes.fromhex(hexdigest)).decode()
            headers = {
                "ETag": etag,
                "Content-Digest": f"sha-256=:{b64}:",
                "Content-Type": "application/gzip"
                if parts[-1].endswith((".tar.gz", ".tgz"))
                else "application/octet-stream",
                "Cache-Control": "no-cache",
            }
            inm = request.headers.get("If-None-Match", "")
            if etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*":
                return web.Response(status=304, headers=headers)
            resp = web.StreamResponse(headers=headers)
            resp.content_length = st.st_size
            await resp.prepare(request)
            if request.method != "HEAD":
                while chunk := await asyncio.to_thread(fh.read, _CHUNK):
                    await resp.write(chunk)
            await resp.write_eof()
            return resp
        finally:
            fh.close()

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)  # also answers HEAD
    return app


class ArtifactServer:
    """The artifact server on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, root: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 0):
        self.root = Path(root)
        self.host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def addr(self) -> str:
        return f"{self.host}:{self._port}"

    @property
    def url(self) -> str:
        return f"http://{self.addr}"

    async def start(self) -> None:
        self._runner = web.AppRunner(make_app(self.root), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host or None, self._port)
        await site.start()
        server = site._server  # the bound socket tells the real port when 0 was asked for
        if server is not None and self._port == 0:
            sockets = getattr(server, "sockets", None) or []
            self._port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ArtifactServer:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


async def _serve_forever(args: argparse.Namespace) -> None:
    host, port = parse_addr(args.storage_addr)
    server = ArtifactServer(args.storage_path, host, port)
    await server.start()
    print(
        f"serving {args.storage_path} on {server.addr}, artifacts advertised at "
        f"http://{advertised_addr(args.storage_addr, args.storage_adv_addr)}",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weir.source.server", description=__doc__)
    parser.add_argument("--storage-path", required=True, help="the artifact storage directory")
    parser.add_argument(
        "--storage-addr", default=DEFAULT_STORAGE_ADDR, help="address to bind (host:port)"
    )
    parser.add_argument(
        "--storage-adv-addr", default=None, help="address put in status.artifact.url"
    )
    args = parser.parse_args(argv)
    asyncio.run(_serve_forever(args))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
