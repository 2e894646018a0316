"""Real peers for tests (Gitea, versitygw, Alertmanager): where their cached builds live, and a
small supervisor for their processes.

The binaries are built from the Go module proxy by ``scripts/build-<peer>.sh`` (``make tools``,
which ``make test`` runs) and cached by version under ``$WEIR_CACHE_DIR`` (default
``~/.cache/weir``). The fixtures do not build them on the fly (Gitea takes minutes): a missing
binary is a :class:`PeerNotBuiltError` that says to run ``make tools``.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import IO

from weir.devcluster.versions import parse_env_file
from weir.errors import WeirError

ROOT = Path(__file__).resolve().parents[2]
VERSIONS_FILE = ROOT / "scripts" / "versions.env"


class PeerNotBuiltError(WeirError):
    """A real peer a test needs has not been built into the cache yet."""


class PeerStartError(WeirError):
    """A real peer was built but did not start; the message carries the end of its log."""


def cache_dir() -> Path:
    """``$WEIR_CACHE_DIR``, or ``~/.cache/weir``."""
    return Path(os.environ.get("WEIR_CACHE_DIR") or Path.home() / ".cache" / "weir")


@cache
def pinned_version(key: str) -> str:
    """A version pinned in ``scripts/versions.env`` (e.g. ``GITEA_VERSION``)."""
    if not VERSIONS_FILE.is_file():
        raise PeerNotBuiltError(
            f"{VERSIONS_FILE} is missing: the test peers only run from a weir source checkout"
        )
    value = parse_env_file(VERSIONS_FILE.read_text()).get(key, "")
    if not value:
        raise PeerNotBuiltError(f"{key} is not set in {VERSIONS_FILE}")
    return value


def peer_binary(peer: str, version_key: str, script: str) -> Path:
    """``$WEIR_CACHE_DIR/<peer>/<version>/bin/<peer>``, or :class:`PeerNotBuiltError`."""
    version = pinned_version(version_key)
    path = cache_dir() / peer / version / "bin" / peer
    if not os.access(path, os.X_OK):
        raise PeerNotBuiltError(
            f"{peer} {version} is not built (looked for {path}): run `make tools` "
            f"(or scripts/{script}) to build it from the Go module proxy into the cache"
        )
    return path


def tail(path: Path, limit: int = 3000) -> str:
    """The last ``limit`` characters of a log file ("" when there is none)."""
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


class PeerProcess:
    """One peer process: started with its output in a log file, probed until ready, stopped
    with SIGTERM (then SIGKILL)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self, ready: Callable[[], bool], timeout: float = 60.0) -> None:
        """Start the process and wait until ``ready()`` is true; raise :class:`PeerStartError`
        (with the log's end) if it exits or is not ready within ``timeout`` seconds."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self.stop()
                raise PeerStartError(
                    f"{self.name} exited with code {code} while starting; its log "
                    f"({self.log_path}) ends with:\n{tail(self.log_path)}"
                )
            if ready():
                return
            time.sleep(0.1)
        self.stop()
        raise PeerStartError(
            f"{self.name} was not ready within {timeout:.0f} s; its log ({self.log_path}) "
            f"ends with:\n{tail(self.log_path)}"
        )

    def stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
