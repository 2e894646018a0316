"""Which Kustomizations a source's new artifact touches: those run first.

A new artifact queues every Kustomization of its source at once (Flux does the same). Most of
them find their inputs unchanged and end quickly (:mod:`weir.kustomize.unchanged`), but each
still takes its turn in the work queue, so the one whose files did change may wait behind
hundreds of others. This module lets the controller move the touched ones ahead (work-queue
priority, :meth:`weir.runtime.workqueue.WorkQueue.promote`); it changes only the **order** of
runs, never whether a run happens, so a wrong guess costs latency, not correctness.

* After each successful run the reconciler remembers (:meth:`Touched.remember`) what its build
  reads in the artifact: the files and symlinks of the path's closure, and the directories
  whose listings the walk consulted (:class:`Reads`, from
  :func:`weir.kustomize.confine.closure`), with the artifact digest and the object's
  generation.
* The first run that extracts a source's new artifact calls :meth:`Touched.seen`: the digests
  of every file of the artifact (those the extraction recorded,
  :meth:`weir.artifact.cache.ArtifactCache.files`, else :func:`file_digests` in a build
  worker; kept for the sources' current artifacts and :data:`MAX_ARTIFACTS` others) are
  compared with those of the artifact each queued Kustomization last read (:func:`changes`:
  files added, removed or changed, and every directory above an added or removed one). A
  Kustomization is promoted when it read one of those files or listed one of those
  directories -- or when there is any doubt: no remembered run (new, failed last time, the
  controller restarted), a changed generation, or the old artifact's digests forgotten.
  The other runs of that artifact wait until this is done (they waited for its extraction
  anyway), so that the touched ones are next in the queue, not behind the runs that would
  otherwise be taken meanwhile.

Everything is per process, in memory. The build workers import this module (for
:func:`reads_job` and :func:`file_digests_job`): keep its imports light.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from weir.artifact.tarball import entry_digest, link_digest
from weir.kustomize.confine import Closure, closure
from weir.kustomize.generate import BuildSpec
from weir.kustomize.workspace import resolve_path
from weir.log import kv
from weir.types import Obj

log = logging.getLogger(__name__)

MAX_ARTIFACTS = 2
"""File-digest maps kept besides those of the sources' current artifacts."""
MAX_READS = 4096
"""Closures kept by (artifact digest, build settings)."""


@dataclass(frozen=True)
class Reads:
    """What one build of a path reads in an artifact."""

    digest: str | None
    """:attr:`weir.kustomize.confine.Closure.digest` (None with remote bases)."""
    files: frozenset[str]
    """Files and symlinks read, relative to the artifact root; also every prefix of
    ``spec.path`` (a symlink on the way changes what it names)."""
    dirs: frozenset[str]
    """Directories whose listing was consulted (``.`` is the root)."""

    def touched_by(self, files: set[str], dirs: set[str]) -> bool:
        return not self.files.isdisjoint(files) or not self.dirs.isdisjoint(dirs)


def reads_job(root: str, spec: BuildSpec, allow_remote: bool) -> Reads:
    """(In a build worker.) The :class:`Reads` of ``spec`` in the artifact at ``root``; raises
    what the build would raise for a bad path or reference."""
    real = Path(root).resolve(strict=True)
    directory = resolve_path(real, spec.path)
    found = closure(real, directory, components=spec.components, allow_remote=allow_remote)
    return reads_of(found, spec.path)


def reads_of(found: Closure, path: str | None) -> Reads:
    """The :class:`Reads` of a build of ``path`` whose closure is ``found`` (a build worker's
    :func:`weir.kustomize.build.build_job` returns it with the build: no second walk)."""
    files = set(found.files) | set(found.links) | set(found.links.values())
    parts = [p for p in PurePosixPath(path or ".").parts if p not in ("", ".", "/")]
    files.update(str(PurePosixPath(*parts[: i + 1])) for i in range(len(parts)))
    return Reads(found.digest, frozenset(files), frozenset(found.dirs))


def file_digests(root: Path) -> dict[str, bytes]:
    """``relative path -> digest`` of every regular file and symlink under ``root``, as an
    extraction records them (:attr:`weir.artifact.tarball.Tree.files`)."""
    out: dict[str, bytes] = {}
    for current, dirs, names in os.walk(root):
        base = Path(current)
        rel = base.relative_to(root)
        for name in (*names, *dirs):
            path = base / name
            key = str(rel / name) if rel.parts else name
            if path.is_symlink():
                out[key] = link_digest(os.readlink(path))
            elif name in names and path.is_file():
                executable = bool(path.stat().st_mode & 0o111)
                out[key] = entry_digest(path.read_bytes(), executable)
    return out


def file_digests_job(root: str) -> dict[str, bytes]:
    """(In a build worker.) :func:`file_digests`."""
    return file_digests(Path(root))


def changes(old: dict[str, bytes], new: dict[str, bytes]) -> tuple[set[str], set[str]]:
    """(files added, removed or changed; directories whose listing changed: every ancestor of
    an added or removed file, ``.`` for the root)."""
    files = {p for p in old.keys() | new.keys() if old.get(p) != new.get(p)}
    dirs: set[str] = set()
    for path in old.keys() ^ new.keys():
        for parent in PurePosixPath(path).parents:
            dirs.add(str(parent))
    return files, dirs


@dataclass(frozen=True)
class _Memory:
    artifact: str
    generation: object
    reads: Reads


Digests = Callable[[Path, str], Awaitable[dict[str, bytes]]]
"""The :func:`file_digests` of the artifact (digest) extracted at a directory."""


async def _in_thread(root: Path, artifact: str) -> dict[str, bytes]:
    del artifact
    return await asyncio.to_thread(file_digests, root)


class Touched:
    """The per-process memory of :mod:`weir.kustomize.touched`. The controller sets
    :attr:`promote` (the work queue's) and :attr:`dependents` (source ref -> its
    Kustomizations)."""

    def __init__(self, digests: Digests | None = None) -> None:
        self.digests: Digests = digests or _in_thread
        self._handling: dict[str, tuple[str, asyncio.Future[None]]] = {}
        """source ref -> (artifact, done) while :meth:`seen` handles it."""
        self.promote: Callable[[str], bool] = lambda key: False
        self.dependents: Callable[[str], Iterable[Obj]] = lambda ref: ()
        self._memory: dict[str, _Memory] = {}
        self._reads: OrderedDict[tuple[str, str], Reads] = OrderedDict()
        self._maps: OrderedDict[str, dict[str, bytes]] = OrderedDict()
        self._current: dict[str, str] = {}
        """source ref -> the last artifact digest :meth:`seen` handled."""
        self.promoted = 0
        """Keys moved ahead (for tests and benchmarks)."""

    # -- what each Kustomization reads --------------------------------------------------------

    def reads(self, artifact: str, spec: str) -> Reads | None:
        """The :class:`Reads` of build settings ``spec`` in ``artifact``, if known."""
        found = self._reads.get((artifact, spec))
        if found is not None:
            self._reads.move_to_end((artifact, spec))
        return found

    def put_reads(self, artifact: str, spec: str, reads: Reads) -> None:
        self._reads[(artifact, spec)] = reads
        self._reads.move_to_end((artifact, spec))
        while len(self._reads) > MAX_READS:
            self._reads.popitem(last=False)

    def remember(self, key: str, artifact: str, generation: object, reads: Reads) -> None:
        """After a successful run of ``key`` on ``artifact``."""
        self._memory[key] = _Memory(artifact, generation, reads)

    def forget(self, key: str) -> None:
        """At the start of a run (a run that fails leaves nothing remembered)."""
        self._memory.pop(key, None)

    # -- a new artifact -----------------------------------------------------------------------

    async def seen(self, source: str, artifact: str, root: Path) -> None:
        """A run extracted ``artifact`` of ``source`` (``Kind/namespace/name``) at ``root``;
        the first time for this pair, promote the queued Kustomizations it touches; the
        other runs of the pair wait until that is done."""
        keys = await self.touching(source, artifact, root)
        promoted = sum(self.promote(key) for key in keys or ())
        self.promoted += promoted
        if keys:
            log.info(
                "new artifact: touched Kustomizations moved ahead",
                extra=kv(source=source, artifact=artifact, promoted=promoted),
            )

    async def touching(self, source: str, artifact: str, root: Path) -> list[str] | None:
        """The first call for ``artifact`` of ``source`` (extracted at ``root``): the keys of
        the source's Kustomizations it touches, in the index's order (None when that cannot be
        told: the first artifact of the source this process sees, or its files unreadable).
        Later calls for the same pair wait until the first is done and return an empty list."""
        handling = self._handling.get(source)
        if handling is not None and handling[0] == artifact:
            await asyncio.shield(handling[1])
            return []
        previous = self._current.get(source)
        if previous == artifact:
            return []
        self._current[source] = artifact
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._handling[source] = (artifact, done)
        try:
            return await self._handle(source, artifact, previous, root)
        finally:
            done.set_result(None)
            if self._handling.get(source) == (artifact, done):
                del self._handling[source]

    async def _handle(
        self, source: str, artifact: str, previous: str | None, root: Path
    ) -> list[str] | None:
        started = time.monotonic()
        new = self._maps.get(artifact)
        if new is None:
            try:
                new = await self.digests(root, artifact)
            except Exception as e:  # only the order of runs depends on it
                log.warning("cannot read the artifact's files", extra=kv(error=str(e)))
                return None
            self._keep(artifact, new)
        if previous is None:
            return None  # the first artifact this process sees: every Kustomization runs anyway
        diffs: dict[str, tuple[set[str], set[str]]] = {}
        touched: list[str] = []
        for obj in self.dependents(source):
            meta = obj.get("metadata") or {}
            key = f"{meta.get('namespace')}/{meta.get('name')}"  # the work queue's key
            if self._touches(key, meta.get("generation"), artifact, new, diffs):
                touched.append(key)
        log.info(
            "new artifact: Kustomizations touched",
            extra=kv(
                source=source,
                artifact=artifact,
                touched=len(touched),
                seconds=round(time.monotonic() - started, 3),
            ),
        )
        return touched

    def _touches(
        self,
        key: str,
        generation: object,
        artifact: str,
        new: dict[str, bytes],
        diffs: dict[str, tuple[set[str], set[str]]],
    ) -> bool:
        memory = self._memory.get(key)
        if memory is None or memory.generation != generation:
            return True
        if memory.artifact == artifact:
            return False
        diff = diffs.get(memory.artifact)
        if diff is None:
            old = self._maps.get(memory.artifact)
            if old is None:
                return True
            diff = diffs[memory.artifact] = changes(old, new)
        return memory.reads.touched_by(*diff)

    def _keep(self, artifact: str, digests: dict[str, bytes]) -> None:
        """Keep the map of ``artifact``: the current artifact of every source, and the
        :data:`MAX_ARTIFACTS` most recent others."""
        self._maps[artifact] = digests
        current = set(self._current.values())
        old = [a for a in self._maps if a not in current]
        for dropped in old[: max(len(old) - MAX_ARTIFACTS, 0)]:
            del self._maps[dropped]
