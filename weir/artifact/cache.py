"""A consumer-side cache of extracted artifacts, keyed by digest.

Many Kustomizations usually read one GitRepository: without a cache each run downloads,
verifies and unpacks the same tarball, then deletes it. :class:`ArtifactCache` keeps the last
few extracted trees (read-only by convention: the build pipeline never writes into its input)
and shares one download between concurrent runs of the same digest. An artifact of this
process's own storage (:mod:`weir.artifact.local`) is unpacked from disk, not downloaded.

A source's new artifact usually differs from its previous one in a few files. When the previous
artifact of the same source (the same URL but for the file name) is extracted here and no run
is reading it, its directory becomes the new artifact's and is updated in place
(:func:`~weir.artifact.tarball.extract_tree` with ``base``): the new tarball is verified and
every entry checked as in a full extraction, but only what changed is written. The tree of each
source's latest artifact (a digest of every file) is kept for that, and for
:mod:`weir.kustomize.touched` (:meth:`ArtifactCache.files`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from weir.artifact.fetch import downloaded
from weir.artifact.local import LocalArtifacts
from weir.artifact.tarball import Tree, extract_tree
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
        self._latest: dict[str, str] = {}
        """source (the artifact URL without its file name) -> digest of its latest artifact."""
        self._trees: dict[str, Tree] = {}
        """digest -> tree, for the latest artifacts of the sources only."""
        self.downloads = 0
        self.updates = 0
        """Extractions done as in-place updates of a previous artifact's tree."""

    def _http(self, timeout: float) -> httpx.AsyncClient:
        # One client for every download: creating one per call costs a TLS context (~50 ms of
        # CPU on the event loop) even for plain-HTTP artifact URLs.
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=timeout)
        return self._client

    def files(self, digest: str) -> dict[str, bytes] | None:
        """The file digests (:attr:`~weir.artifact.tarball.Tree.files`) of the artifact
        ``digest`` when it is the latest extracted artifact of its source."""
        tree = self._trees.get(digest)
        return tree.files if tree is not None else None

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
                    path = await self._extract(url, digest, timeout)
                    self._entries[digest] = path
                self._entries.move_to_end(digest)
            yield path
        finally:
            self._users[digest] -= 1
            if not self._users[digest]:
                del self._users[digest]
            await self._evict()

    async def _extract(self, url: str, digest: str, timeout: float) -> Path:  # noqa: ASYNC109
        path = self.root / digest.replace(":", "-")
        await asyncio.to_thread(shutil.rmtree, path, True)
        source = url.rsplit("/", 1)[0]
        own = self.local.path(url) if self.local is not None else None
        started = time.monotonic()
        base: Tree | None = None
        try:
            async with contextlib.AsyncExitStack() as stack:
                tarball = own
                if tarball is None:
                    tarball = await stack.enter_async_context(
                        downloaded(url, timeout=timeout, client=self._http(timeout))
                    )
                base = self._take_over(source, digest, path)
                tree = await asyncio.to_thread(extract_tree, tarball, path, digest, base=base)
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, path, True)
            raise
        self.downloads += 1
        self.updates += base is not None
        self._set_latest(source, digest, tree)
        log.info(
            "artifact extracted",
            extra=kv(
                digest=digest,
                local=own is not None,
                in_place=base is not None,
                entries=tree.entries,
                written=tree.written,
                seconds=round(time.monotonic() - started, 3),
            ),
        )
        return path

    def _take_over(self, source: str, digest: str, path: Path) -> Tree | None:
        """The tree of ``source``'s previous artifact, its directory moved to ``path``, when no
        run reads it (nor may start to: it leaves the cache here); None otherwise."""
        previous = self._latest.get(source)
        if previous is None or previous == digest or previous in self._users:
            return None
        if sum(1 for d in self._latest.values() if d == previous) > 1:
            return None  # another source's latest artifact too
        tree, old = self._trees.get(previous), self._entries.get(previous)
        if tree is None or old is None:
            return None
        del self._entries[previous]
        self._locks.pop(previous, None)
        self._trees.pop(previous, None)
        try:
            os.rename(old, path)
        except OSError:
            shutil.rmtree(old, ignore_errors=True)
            return None
        return tree

    def _set_latest(self, source: str, digest: str, tree: Tree) -> None:
        previous = self._latest.get(source)
        self._latest[source] = digest
        self._trees[digest] = tree
        if previous is not None and previous != digest and previous not in self._latest.values():
            self._trees.pop(previous, None)

    async def _evict(self) -> None:
        for digest in list(self._entries):
            if len(self._entries) <= self.max_entries:
                return
            if digest in self._users:
                continue
            path = self._entries.pop(digest)
            self._locks.pop(digest, None)
            self._trees.pop(digest, None)
            await asyncio.to_thread(shutil.rmtree, path, True)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        await asyncio.to_thread(shutil.rmtree, self.root, True)
        self._entries.clear()
        self._trees.clear()
        self._latest.clear()
