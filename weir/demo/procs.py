"""Child processes of ``make up`` (``weir run``, ``weir ui``, ``weir mcp``): started in their
own session with output to a log file, probed until they serve, stopped with SIGTERM and, after
a grace period, SIGKILL. Each is recorded by pid and command line so that ``make down`` can stop
exactly these processes even when ``make up`` itself was killed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from weir.errors import WeirError


class ProcessError(WeirError):
    """A child process failed to start or to become ready."""


def cmdline_of(pid: int) -> list[str] | None:
    """The command line of a live, non-zombie process, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def runs(pid: int, argv: Sequence[str]) -> bool:
    """True if ``pid`` is alive and was started as ``argv``: its command line is ``argv``, or
    ends with it (a script's shebang puts the interpreter in front)."""
    live = cmdline_of(pid)
    want = list(argv)
    return live is not None and bool(want) and (live == want or live[-len(want) :] == want)


def stop_pid(pid: int, argv: Sequence[str], timeout: float = 15.0) -> bool:
    """SIGTERM ``pid`` if it still runs ``argv`` (see :func:`runs`), SIGKILL after ``timeout``;
    True if it had to be stopped. (Synchronous: for ``make down``, which has no event loop.)"""
    if not runs(pid, argv):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    killed = False
    while cmdline_of(pid) is not None:
        if not killed and time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            killed = True
        time.sleep(0.05)
    return True


def tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n  ".join(["", *text[-lines:]]) if text else ""


@dataclass
class ManagedProcess:
    """One child process and its log file."""

    name: str
    argv: list[str]
    log: Path
    proc: asyncio.subprocess.Process | None = None
    environ: dict[str, str] | None = None
    """The whole environment to start with (default: this process's)."""

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self, env: dict[str, str] | None = None) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches make up, which stops us in order
                env={**(self.environ if self.environ is not None else os.environ), **(env or {})},
            )

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.returncode is not None:
            raise ProcessError(
                f"{self.name} exited with code {self.proc.returncode} during start-up; "
                f"see {self.log}{tail(self.log)}"
            )

    async def wait_http(self, url: str, timeout: float = 60.0, ok: int = 200) -> None:  # noqa: ASYNC109
        """Wait until GET ``url`` answers ``ok`` (or the process dies)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0) as http:
            while True:
                self._check_alive()
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(url)).status_code == ok:
                        return
                if time.monotonic() > deadline:
                    raise ProcessError(
                        f"{self.name} did not answer {url} within {timeout:.0f}s; "
                        f"see {self.log}{tail(self.log)}"
                    )
                await asyncio.sleep(0.2)

    async def wait_port(self, host: str, port: int, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Wait until ``host:port`` accepts TCP connections (or the process dies)."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection(host, port)
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
                return
            if time.monotonic() > deadline:
                raise ProcessError(
                    f"{self.name} did not listen on {host}:{port} within {timeout:.0f}s; "
                    f"see {self.log}{tail(self.log)}"
                )
            await asyncio.sleep(0.2)

    async def stop(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """SIGTERM, then SIGKILL after ``timeout``; waits for the exit."""
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def resolve_addr(addr: str) -> tuple[str, int] | None:
    """``host:port`` -> (host, port) with a usable port: 0, or a busy one, becomes a free port.
    ``0`` or ``""`` (disabled) -> None."""
    text = addr.strip()
    if text in ("", "0"):
        return None
    host, _, port_text = text.rpartition(":")
    host = host or "127.0.0.1"
    port = int(port_text)
    if port == 0 or not port_is_free(host, port):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
    return host, port
