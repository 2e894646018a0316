"""Artifacts of this process's own storage, read from disk instead of over HTTP.

In ``weir run`` the source controller and the consumers (Kustomizations, HelmReleases) share a
process. An artifact whose ``status.artifact.url`` starts with the storage's advertised address
is a file of the local storage: the consumers read it there (its digest is checked as for a
download). That matters with several replicas: they all advertise one stable address (a
Service, ``--storage-adv-addr``), so an artifact's URL stays the same across a leader failover,
and the new leader reads what its own source controller stored, whichever replica the address
routes to. A URL of another address (another process's storage, an external source-controller)
is downloaded as before.

:class:`LocalArtifacts` is one object per process (``ctx.shared_service``): the source
controller's storage registers its address and directory when its server has started.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit


class LocalArtifacts:
    """Advertised storage addresses of this process -> their directories."""

    def __init__(self) -> None:
        self._roots: dict[str, Path] = {}

    async def start(self) -> None:
        """Nothing to start (a manager service only so that one object is shared)."""

    async def stop(self) -> None:
        self._roots.clear()

    def register(self, base_url: str, root: Path) -> None:
        """Serve URLs under ``base_url`` (``http://host:port``) from ``root``."""
        self._roots[_base(base_url)] = root.absolute()

    def path(self, url: str) -> Path | None:
        """The local file of ``url`` when it is an existing file of a registered storage;
        None otherwise (download it). Paths with ``..``, hidden parts or symlinks leaving the
        directory are never answered."""
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            return None
        root = self._roots.get(_base(f"{parts.scheme}://{parts.netloc}"))
        if root is None:
            return None
        names = [unquote(p) for p in parts.path.split("/") if p]
        if not names or any(n in (".", "..") or n.startswith(".") or "/" in n for n in names):
            return None
        found = root.joinpath(*names)
        try:
            real = found.resolve(strict=True)
        except OSError:
            return None
        if not real.is_file() or root.resolve() not in real.parents:
            return None
        return real


def _base(url: str) -> str:
    parts = urlsplit(url.rstrip("/"))
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
