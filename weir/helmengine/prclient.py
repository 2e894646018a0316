"""The post-renderer process Helm starts for each action, made as small as a process can be.

Helm runs post-renderers only as plugin subprocesses. Starting Python with ``site`` and
importing weir and PyYAML costs ~0.1 s of CPU for each install or upgrade; this script runs
under ``python -I -S`` (no ``site``, no environment variables, the standard library only) and
hands its arguments and stdin to the long-lived post-render server
(:mod:`weir.helmengine.prserver`) over a Unix socket, then writes the server's answer on
stdout/stderr and exits with its code.

usage: ``python -I -S prclient.py SOCKET ARGS...`` where ``ARGS`` are
:func:`weir.helmengine.postrender.run`'s. When the server cannot be reached, the script runs
``python -m weir.helmengine.postrender ARGS...`` itself (with ``site``), so a post-render never
fails because of the server.

Wire format (both directions): an 8-byte big-endian length, then that many bytes; the request is
the NUL-joined arguments then the manifests; the answer the exit code (one decimal string),
stdout, then stderr. This file imports nothing of weir's.
"""

from __future__ import annotations

import socket
import sys

TIMEOUT = 600.0
"""Seconds to wait for the server's answer (the post-renderer's own kustomize runs stop at 60 s)."""


def _frame(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def _read_frame(sock: socket.socket) -> bytes:
    head = _recv_exact(sock, 8)
    return _recv_exact(sock, int.from_bytes(head, "big"))


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise EOFError("the post-render server closed the connection")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def ask(path: str, args: list[str], manifests: bytes) -> tuple[int, bytes, bytes]:
    """One request to the server at ``path``: (exit code, stdout, stderr)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.connect(path)
        sock.sendall(_frame("\0".join(args).encode()) + _frame(manifests))
        code = int(_read_frame(sock).decode())
        out = _read_frame(sock)
        err = _read_frame(sock)
    return code, out, err


def _fallback(args: list[str], manifests: bytes) -> int:
    import subprocess  # noqa: PLC0415 - only when the server is gone

    done = subprocess.run(
        [sys.executable, "-m", "weir.helmengine.postrender", *args],
        input=manifests,
        check=False,
    )
    return done.returncode


def main(argv: list[str]) -> int:
    if len(argv) < 1:
        sys.stderr.write("usage: prclient.py SOCKET ARGS...\n")
        return 2
    path, args = argv[0], argv[1:]
    manifests = sys.stdin.buffer.read()
    try:
        code, out, err = ask(path, args, manifests)
    except (OSError, EOFError, ValueError):
        return _fallback(args, manifests)
    sys.stdout.buffer.write(out)
    sys.stderr.buffer.write(err)
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
