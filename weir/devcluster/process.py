"""Start, watch and stop the control plane's processes by pid; probe ports and HTTP endpoints."""

from __future__ import annotations

import contextlib
import errno
import http.client
import os
import signal
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from weir.errors import ClusterError, PortInUseError


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_port_free(port: int, flag: str) -> None:
    """Raise :class:`PortInUseError` if ``port`` on 127.0.0.1 is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
            raise PortInUseError(
                f"port {port} on 127.0.0.1 is already in use: stop what holds it "
                f"(`ss -ltnp 'sport = :{port}'`) or pick another with {flag}"
            ) from e


def spawn(name: str, argv: Sequence[str], log_dir: Path) -> int:
    """Start ``argv`` detached in its own session, logging to ``log_dir/<name>.log``.

    ``posix_spawn`` rather than ``subprocess.Popen``: the process is meant to outlive the
    ``Popen`` object (``weir cluster up`` exits while the cluster runs), and it is tracked by pid.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log_fd = os.open(log_dir / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    try:
        return os.posix_spawn(
            argv[0],
            list(argv),
            dict(os.environ),
            file_actions=[
                (os.POSIX_SPAWN_DUP2, null_fd, 0),
                (os.POSIX_SPAWN_DUP2, log_fd, 1),
                (os.POSIX_SPAWN_DUP2, log_fd, 2),
            ],
            setsid=True,
        )
    finally:
        os.close(log_fd)
        os.close(null_fd)


def _reap(pid: int) -> None:
    # Our own children (in tests and `cluster up` before exit) would linger as zombies.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def is_running(pid: int, binary: str | None = None) -> bool:
    """True if ``pid`` is alive and, when ``binary`` is given, runs that binary."""
    _reap(pid)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # Field 3 (after the parenthesised comm) is the state; Z is a zombie.
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return False
    if binary is None:
        return True
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except OSError:
        return False
    return cmdline == binary


def stop(pid: int, binary: str | None, timeout: float = 15.0) -> None:
    """SIGTERM ``pid`` (only if it still runs ``binary``), then SIGKILL after ``timeout``."""
    if not is_running(pid, binary):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while is_running(pid):
        time.sleep(0.05)


def https_get(
    port: int, path: str, ca: Path, cert: tuple[Path, Path] | None = None, timeout: float = 2.0
) -> tuple[int, str]:
    """GET ``https://127.0.0.1:<port><path>``; returns (status, body)."""
    ctx = ssl.create_default_context(cafile=str(ca)) if ca else ssl.create_default_context()
    if cert:
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def insecure_get(port: int, path: str, scheme: str = "https", timeout: float = 2.0) -> int:
    """GET without verifying the server (components with self-signed serving certs)."""
    conn: http.client.HTTPConnection
    if scheme == "https":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def wait_until(
    what: str,
    check: Callable[[], bool],
    timeout: float,
    alive: Callable[[], bool] | None = None,
    log: Path | None = None,
) -> None:
    """Poll ``check`` until it is true; fail early if ``alive`` says the process died."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        with contextlib.suppress(OSError, http.client.HTTPException):
            if check():
                return
        if alive is not None and not alive():
            raise ClusterError(f"{what} exited during start-up; see {log}{_tail(log)}")
        if time.monotonic() > deadline:
            raise ClusterError(f"{what} was not ready after {timeout:.0f}s; see {log}{_tail(log)}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def _tail(log: Path | None, lines: int = 5) -> str:
    if log is None or not log.is_file():
        return ""
    text = log.read_text(errors="replace").strip().splitlines()[-lines:]
    return "\n  " + "\n  ".join(text) if text else ""
