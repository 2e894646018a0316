"""A consumer-side cache of extracted artifacts, keyed by digest.

Many Kustomizations usually read one GitRepository: without a cache each run downloads,
verifies and unpacks the same tarball, then deletes it. :class:`ArtifactCache` keeps the last
few extracted trees (read-only by convention: the build pipeline never writes into its input)
and shares one download between concurrent runs of the same digest. An artifact of this
process's own storage (:mod:`weir.artifact.local`) is unpacked from disk, not downloaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from weir.artifact.fetch import fetch_artifact
from weir.artifact.local import LocalArtifacts
from weir.artifact.tarball import extract
from weir.log import kv

log = logging.getLogger("weir.artifact")

DEFAULT_ENTRIES = 16


class ArtifactCache:
    """Extracted artifacts under ``root`` (a private temporary directory by default)."""

    def __init__(
        self,
        root: Path | None = None,
        max_entries: int = DEFAULT_ENTRIES,
        local: LocalArtifacts | None = None,
    ) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="weir-artifacts-"))
        self.local = local
        """This process's storage: its artifacts are read from disk."""
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Path] = OrderedDict()
        self._users: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._client: httpx.AsyncClient | None = None
        self.downloads = 0

    def _http(self, timeout: float) -> httpx.AsyncClient:
        # One client for every download: creating one per call costs a TLS context (~50 ms of
        # CPU on the event loop) even for plain-HTTP artifact URLs.
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=timeout)
        return self._client

    @contextlib.asynccontextmanager
    async def extracted(self, url: str, digest: str, timeout: float = 60.0) -> AsyncIterator[Path]:  # noqa: ASYNC109
        """The directory holding the artifact ``digest`` (downloaded from ``url`` if needed).
        Do not write into it; it stays valid until the block ends."""
        self._users[digest] = self._users.get(digest, 0) + 1
        try:
            lock = self._locks.setdefault(digest, asyncio.Lock())
            async with lock:
                path = self._entries.get(digest)
                if path is None or not path.is_dir():
                    path = self.root / digest.replace(":", "-")
                    await asyncio.to_thread(shutil.rmtree, path, True)
                    own = self.local.path(url) if self.local is not None else None
                    started = time.monotonic()
                    try:
                        if own is not None:
                            await asyncio.to_thread(extract, own, path, digest)
                        else:
                            await fetch_artifact(
                                url, digest, path, timeout=timeout, client=self._http(timeout)
                            )
                    except BaseException:
                        await asyncio.to_thread(shutil.rmtree, path, True)
                        raise
                    self.downloads += 1
                    log.info(
                        "artifact extracted",
                        extra=kv(
                            digest=digest,
                            local=own is not None,
                            seconds=round(time.monotonic() - started, 3),
                        ),
                    )
                    self._entries[digest] = path
                self._entries.move_to_end(digest)
            yield path
        finally:
            self._users[digest] -= 1
            if not self._users[digest]:
                del self._users[digest]
            await self._evict()

    async def _evict(self) -> None:
        for digest in list(self._entries):
            if len(self._entries) <= self.max_entries:
                return
            if digest in self._users:
                continue
            path = self._entries.pop(digest)
            self._locks.pop(digest, None)
            await asyncio.to_thread(shutil.rmtree, path, True)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        await asyncio.to_thread(shutil.rmtree, self.root, True)
        self._entries.clear()
