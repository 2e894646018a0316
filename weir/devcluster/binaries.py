"""Where the Go-built Kubernetes binaries are cached, and a clear error when one is missing."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from weir.devcluster.versions import Versions, pinned_versions
from weir.errors import MissingBinaryError

CONTROL_PLANE = ("etcd", "kube-apiserver")
NODE_COMPONENTS = ("kube-controller-manager", "kube-scheduler", "kwok")
BUILD_HINT = (
    "run `make binaries` (scripts/build-k8s-binaries.sh) to build it from the Go module proxy"
)


def cache_dir() -> Path:
    """The root of weir's cache outside git: ``$WEIR_CACHE_DIR`` or ``~/.cache/weir``."""
    env = os.environ.get("WEIR_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "weir"


@dataclass(frozen=True)
class Binaries:
    """Paths of the binaries for one pinned Kubernetes version."""

    bindir: Path
    versions: Versions

    @classmethod
    def locate(cls, versions: Versions | None = None) -> Binaries:
        v = versions or pinned_versions()
        env = os.environ.get("WEIR_K8S_BINDIR")
        bindir = Path(env) if env else cache_dir() / "k8s" / v.kubernetes / "bin"
        return cls(bindir=bindir, versions=v)

    def path(self, name: str) -> Path:
        """The path of ``name``; raises :class:`MissingBinaryError` if it is not built."""
        p = self.bindir / name
        if not (p.is_file() and os.access(p, os.X_OK)):
            raise MissingBinaryError(
                f"{name} ({self.versions.kubernetes}) is not in {self.bindir}: {BUILD_HINT}"
            )
        return p

    def require(self, names: tuple[str, ...]) -> None:
        for name in names:
            self.path(name)
