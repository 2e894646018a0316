"""The post-render server: one long-lived process does the post-rendering of every Helm action.

Helm starts a plugin process per install or upgrade; with weir's post-renderer as that process
(``python -m weir.helmengine.postrender``) each action paid ~0.1 s of CPU for Python's start-up
and its imports, more than half of weir's CPU for a fleet of HelmReleases (issue 21). Now the
plugin process is :mod:`weir.helmengine.prclient` under ``python -I -S`` (a few milliseconds),
which hands its arguments and stdin to this server over a Unix socket; the server runs the same
:func:`weir.helmengine.postrender.run` (so the output is the same) and answers.

- The server is a separate process (``python -m weir.helmengine.prserver SOCKET``), not a thread
  of the controller: parsing a large rendered manifest holds the GIL, which must not stall the
  event loop. Requests are served in threads of the server's own.
- The socket lives in a fresh ``0700`` directory, so only the controller's own user can reach it
  (which can run the post-renderer anyway). The server reads the spec file the request names,
  as the plugin process did.
- The server exits when its stdin (a pipe from the controller) closes, so it never outlives
  weir. A server that died is started again on the next action; a client that cannot reach it
  runs the post-renderer itself (:func:`weir.helmengine.prclient._fallback`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from weir.helmengine import prclient

__all__ = ["CLIENT", "PostRenderServer", "client_args"]

log = logging.getLogger(__name__)

CLIENT = Path(prclient.__file__).resolve()
SOCKET_NAME = "postrender.sock"
START_TIMEOUT = 30.0


def client_args(socket_path: Path, args: list[str]) -> list[str]:
    """The interpreter arguments that make the plugin process forward ``args`` to the server."""
    return ["-I", "-S", str(CLIENT), str(socket_path), *args]


class PostRenderServer:
    """The server process as the engine sees it: started on first use, restarted if it died,
    stopped by :meth:`close`. Thread-safe (the engine's actions run in threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None

    def socket_path(self) -> Path | None:
        """The server's socket, starting the server when needed; ``None`` when it cannot start
        (the caller then runs the post-renderer as its own process, as before)."""
        with self._lock:
            if self._proc is not None and self._proc.poll() is None and self._dir is not None:
                return self._dir / SOCKET_NAME
            self._stop_locked()
            try:
                return self._start_locked()
            except (OSError, TimeoutError) as e:
                log.warning("the Helm post-render server did not start: %s", e)
                self._stop_locked()
                return None

    def _start_locked(self) -> Path:
        self._dir = Path(tempfile.mkdtemp(prefix="weir-postrender-"))  # 0700
        path = self._dir / SOCKET_NAME
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "weir.helmengine.prserver", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            close_fds=True,
            start_new_session=True,
        )
        assert self._proc.stdout is not None
        # the server writes "ready" once it listens
        ready, _, _ = select.select([self._proc.stdout], [], [], START_TIMEOUT)
        line = self._proc.stdout.readline() if ready else b""
        if line.strip() != b"ready":
            raise TimeoutError(f"no 'ready' from the server within {START_TIMEOUT:.0f}s")
        return path

    def close(self) -> None:
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()  # the server exits on EOF
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
            if proc.stdout is not None:
                proc.stdout.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


# ----------------------------------------------------------------------------- server side
class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        from weir.helmengine.postrender import run  # noqa: PLC0415

        sock = self.request
        try:
            args = prclient._read_frame(sock).decode()
            manifests = prclient._read_frame(sock).decode()
        except (OSError, EOFError, UnicodeDecodeError):
            return
        argv = args.split("\0") if args else []
        try:
            code, out, err = run(argv, manifests)
        except Exception as e:
            code, out, err = 1, "", f"weir post-renderer: {type(e).__name__}: {e}\n"
        with contextlib.suppress(OSError):
            sock.sendall(
                prclient._frame(str(code).encode())
                + prclient._frame(out.encode())
                + prclient._frame(err.encode())
            )


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


def serve(path: str) -> int:
    """Listen on ``path`` until stdin closes."""
    os.umask(0o077)
    with _Server(path, _Handler) as server:
        threading.Thread(target=server.serve_forever, name="serve", daemon=True).start()
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        while sys.stdin.buffer.read(1 << 16):  # EOF when the controller goes
            pass
        server.shutdown()
    with contextlib.suppress(OSError):
        os.unlink(path)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: python -m weir.helmengine.prserver SOCKET\n")
        raise SystemExit(2)
    # importing the post-renderer (and PyYAML) once, before the first request
    import weir.helmengine.postrender  # noqa: F401

    raise SystemExit(serve(sys.argv[1]))
