"""The artifact storage: a directory tree that the artifact server publishes over HTTP.

Layout, as Flux's: ``<root>/<kind-lowercase>/<namespace>/<name>/<file>``, e.g.
``gitrepository/flux-system/podinfo/<digest-hex>.tar.gz``. Writes go to a temporary file in the
same directory and are renamed into place, so a reader sees a whole file or none. A per-object
lock (an asyncio lock plus an ``flock`` on ``<root>/.locks/...``, for several processes sharing the
directory) serialises archive and garbage collection of one object.

:meth:`Storage.archive` returns the ``status.artifact`` dict (camelCase, as the API stores it).
Consumers unpack downloaded artifacts with :func:`extract` (re-exported from
:mod:`weir.artifact.tarball`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from weir.artifact.tarball import extract, file_digest, verify_digest, write_tarball
from weir.source.errors import StorageError
from weir.source.ignore import IgnoreRules

__all__ = ["Artifact", "Storage", "extract"]

DEFAULT_RETENTION_RECORDS = 2
"""Flux's ``--artifact-retention-records``: artifacts kept per object, the current one included."""
DEFAULT_RETENTION_TTL = 60.0
"""Flux's ``--artifact-retention-ttl`` (seconds): older non-current artifacts are removed."""

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_TMP_PREFIX = ".tmp-"


class Artifact(TypedDict):
    """``status.artifact`` as the API stores it."""

    path: str
    url: str
    revision: str
    digest: str
    lastUpdateTime: str
    size: int
    metadata: NotRequired[dict[str, str]]


def now_rfc3339() -> str:
    """Current time as Kubernetes writes ``metav1.Time`` (seconds, ``Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Storage:
    """Artifacts on disk under ``root``, published at ``http://<adv_addr>/<path>``."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        adv_addr: str,
        *,
        retention_records: int = DEFAULT_RETENTION_RECORDS,
        retention_ttl: float = DEFAULT_RETENTION_TTL,
    ) -> None:
        self.root = Path(root).absolute()
        self.root.mkdir(parents=True, exist_ok=True)
        self.base_url = adv_addr.rstrip("/") if "://" in adv_addr else f"http://{adv_addr}"
        if retention_records < 1:
            raise StorageError("retention_records must be at least 1 (the current artifact)")
        self.retention_records = retention_records
        self.retention_ttl = retention_ttl
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}

    # ------------------------------------------------------------------------------ paths
    @staticmethod
    def object_dir(kind: str, namespace: str, name: str) -> str:
        """``<kind-lowercase>/<namespace>/<name>`` (relative to the root)."""
        for label, value in (("namespace", namespace), ("name", name)):
            if not _NAME.match(value):
                raise StorageError(f"invalid {label} {value!r} for an artifact path")
        if not kind.isalnum():
            raise StorageError(f"invalid kind {kind!r} for an artifact path")
        return f"{kind.lower()}/{namespace}/{name}"

    def artifact_path(self, kind: str, namespace: str, name: str, filename: str) -> str:
        """Relative path of an artifact file."""
        if not _FILE.match(filename):
            raise StorageError(f"invalid artifact file name {filename!r}")
        return f"{self.object_dir(kind, namespace, name)}/{filename}"

    def local_path(self, artifact: Mapping[str, Any] | str) -> Path:
        """Absolute path of an artifact (given as ``status.artifact`` or its ``path``)."""
        rel = artifact if isinstance(artifact, str) else str(artifact["path"])
        parts = [p for p in rel.split("/") if p]
        if not parts or any(p in (".", "..") or p.startswith(".") for p in parts):
            raise StorageError(f"artifact path {rel!r} is not inside the storage")
        return self.root.joinpath(*parts)

    def url_for(self, path: str) -> str:
        return f"{self.base_url}/{path}"

    def set_artifact_url(self, artifact: dict[str, Any]) -> None:
        """Point ``artifact["url"]`` at this storage's advertised address (Flux does this on
        every reconciliation so that a changed ``--storage-adv-addr`` takes effect)."""
        artifact["url"] = self.url_for(str(artifact["path"]))

    # ------------------------------------------------------------------------------ locks
    @contextlib.asynccontextmanager
    async def lock(self, kind: str, namespace: str, name: str) -> AsyncIterator[None]:
        """Exclusive access to one object's artifacts (in this process and across processes)."""
        key = (kind.lower(), namespace, name)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            lockdir = self.root / ".locks"
            lockdir.mkdir(exist_ok=True)
            fd = os.open(lockdir / "_".join(key), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        await asyncio.sleep(0.05)
                yield
            finally:
                os.close(fd)  # closing releases the flock

    # ---------------------------------------------------------------------------- archive
    async def archive(
        self,
        src_dir: str | os.PathLike[str],
        *,
        kind: str,
        namespace: str,
        name: str,
        revision: str,
        ignore: IgnoreRules | None = None,
        filename: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Artifact:
        """Pack ``src_dir`` (minus what ``ignore`` excludes) into a new artifact.

        The file is ``<digest-hex>.tar.gz`` unless ``filename`` is given (Flux names Git
        artifacts ``<commit>.tar.gz``). Returns the ``status.artifact`` dict.
        """
        src = Path(src_dir)
        if not await asyncio.to_thread(src.is_dir):
            raise StorageError(f"cannot archive {src}: not a directory")
        obj_dir = self.object_dir(kind, namespace, name)
        async with self.lock(kind, namespace, name):
            try:
                path, digest, size = await asyncio.to_thread(
                    self._archive_sync, src, obj_dir, ignore, filename
                )
            except OSError as exc:
                raise StorageError(
                    f"failed to archive {src} into the artifact storage: {exc}"
                ) from exc
        artifact: Artifact = {
            "path": path,
            "url": self.url_for(path),
            "revision": revision,
            "digest": digest,
            "lastUpdateTime": now_rfc3339(),
            "size": size,
        }
        if metadata:
            artifact["metadata"] = dict(metadata)
        return artifact

    def _archive_sync(
        self, src: Path, obj_dir: str, ignore: IgnoreRules | None, filename: str | None
    ) -> tuple[str, str, int]:
        if filename is not None and not _FILE.match(filename):
            raise StorageError(f"invalid artifact file name {filename!r}")
        target_dir = self.root / obj_dir
        target_dir.mkdir(parents=True, exist_ok=True)
        exclude = ignore.ignored if ignore is not None else None
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=".tar.gz", dir=target_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                info = write_tarball(src, out, exclude)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            final = filename or f"{info.digest.split(':', 1)[1]}.tar.gz"
            path = f"{obj_dir}/{final}"
            dest = self.root / path
            os.replace(tmp, dest)
            # A fresh mtime even when an identical file existed: GC ages by mtime.
            os.utime(dest)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return path, info.digest, info.size

    # ---------------------------------------------------------------------- inspection
    def exists(self, artifact: Mapping[str, Any]) -> bool:
        try:
            return self.local_path(artifact).is_file()
        except StorageError:
            return False

    def verify(self, artifact: Mapping[str, Any]) -> bool:
        """Whether the file on disk still hashes to ``artifact["digest"]``."""
        try:
            verify_digest(self.local_path(artifact), str(artifact["digest"]))
        except Exception:
            return False
        return True

    def digest(self, artifact: Mapping[str, Any]) -> str:
        return file_digest(self.local_path(artifact))

    def remove(self, artifact: Mapping[str, Any]) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.local_path(artifact).unlink()

    async def remove_all(self, kind: str, namespace: str, name: str) -> bool:
        """Delete every artifact of an object (on deletion of the object)."""
        directory = self.root / self.object_dir(kind, namespace, name)
        async with self.lock(kind, namespace, name):
            existed = await asyncio.to_thread(directory.exists)
            await asyncio.to_thread(shutil.rmtree, directory, True)
        return existed

    # ------------------------------------------------------------------------------- GC
    async def garbage_collect(
        self, kind: str, namespace: str, name: str, current: Mapping[str, Any] | None
    ) -> list[str]:
        """Remove old artifacts of an object, as Flux does: every non-current file older than
        the TTL, then the oldest ones until at most ``retention_records`` files remain (the
        current artifact is never removed). Returns the removed paths, relative to the root."""
        directory = self.root / self.object_dir(kind, namespace, name)
        current_path = self.local_path(current) if current else None
        async with self.lock(kind, namespace, name):
            return await asyncio.to_thread(self._gc_sync, directory, current_path)

    def _gc_sync(self, directory: Path, current: Path | None) -> list[str]:
        if not directory.is_dir():
            return []
        now = time.time()
        files: list[tuple[float, Path]] = []
        for entry in os.scandir(directory):
            if not entry.is_file(follow_symlinks=False):
                continue
            st = entry.stat(follow_symlinks=False)
            if entry.name.startswith(_TMP_PREFIX):
                if now - st.st_mtime > max(self.retention_ttl, 3600):
                    files.append((st.st_mtime, Path(entry.path)))  # stale temp file
                continue
            files.append((st.st_mtime, Path(entry.path)))
        files.sort()
        garbage = [p for mtime, p in files if p != current and now - mtime > self.retention_ttl]
        kept = [p for _, p in files if p not in garbage]  # oldest first
        excess = len(kept) - self.retention_records
        for p in kept:
            if excess <= 0:
                break
            if p != current:
                garbage.append(p)
                excess -= 1
        removed: list[str] = []
        for p in garbage:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed.append(p.relative_to(self.root).as_posix())
        return removed
