"""Downloading an artifact as a consumer (Kustomization, HelmRelease) does: fetch
``status.artifact.url``, check ``status.artifact.digest``, unpack safely."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from weir.artifact.errors import ArtifactFetchError, ArtifactNotFoundError
from weir.artifact.tarball import DEFAULT_MAX_FILES, DEFAULT_MAX_SIZE, extract


async def fetch_artifact(
    url: str,
    digest: str,
    dest: str | os.PathLike[str],
    *,
    timeout: float = 60.0,  # noqa: ASYNC109 - an httpx timeout, not a wrapper around this call
    max_size: int = DEFAULT_MAX_SIZE,
    max_files: int = DEFAULT_MAX_FILES,
    client: httpx.AsyncClient | None = None,
) -> Path:
    """Download the tarball at ``url``, verify ``digest`` and extract it into ``dest`` (created
    if missing, must be empty). Returns ``dest``.

    Raises :class:`~weir.artifact.errors.ArtifactFetchError` for HTTP failures
    (:class:`~weir.artifact.errors.ArtifactNotFoundError` for a 404),
    :class:`~weir.artifact.errors.DigestMismatchError` and
    :class:`~weir.artifact.errors.UnsafeArchiveError` from the extraction.
    """
    async with downloaded(url, timeout=timeout, max_size=max_size, client=client) as tarball:
        await asyncio.to_thread(
            extract, tarball, dest, digest, max_size=max_size, max_files=max_files
        )
    return Path(dest)


@contextlib.asynccontextmanager
async def downloaded(
    url: str,
    *,
    timeout: float = 60.0,  # noqa: ASYNC109 - an httpx timeout, not a wrapper around this call
    max_size: int = DEFAULT_MAX_SIZE,
    client: httpx.AsyncClient | None = None,
) -> AsyncIterator[Path]:
    """The tarball at ``url`` in a private temporary file (removed when the block ends), not
    verified yet: the caller checks its digest (:func:`~weir.artifact.tarball.extract` does)."""
    tmpdir = await asyncio.to_thread(tempfile.mkdtemp, prefix="weir-artifact-")
    tarball = Path(tmpdir) / "artifact.tar.gz"
    owned = client is None
    http = client or httpx.AsyncClient(timeout=timeout)
    try:
        try:
            async with http.stream("GET", url) as resp:
                if resp.status_code == 404:
                    raise ArtifactNotFoundError(
                        f"failed to download artifact from {url}: HTTP 404; the artifact was "
                        "garbage-collected or not stored yet; wait for the source to be Ready"
                    )
                if resp.status_code != 200:
                    raise ArtifactFetchError(
                        f"failed to download artifact from {url}: HTTP {resp.status_code}; "
                        "check that the artifact server is running"
                    )
                size = 0
                with open(tarball, "wb") as out:  # noqa: ASYNC230 - private temp file
                    async for chunk in resp.aiter_bytes():
                        size += len(chunk)
                        if size > max_size:
                            raise ArtifactFetchError(
                                f"artifact at {url} is larger than {max_size} bytes; refusing it"
                            )
                        out.write(chunk)
        except httpx.HTTPError as exc:
            raise ArtifactFetchError(
                f"failed to download artifact from {url}: {exc}; check that the artifact "
                "server is reachable"
            ) from exc
        yield tarball
    finally:
        if owned:
            await http.aclose()
        await asyncio.to_thread(shutil.rmtree, tmpdir, True)
