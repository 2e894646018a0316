"""Build workers: the CPU-heavy steps of a Kustomization run in separate processes.

A hostile repository can make a build expensive: a kustomization that takes seconds to walk, a
50 MB manifest to parse, ``${v##*a*a*a*b}`` to substitute, a kustomize that eats memory.
None of that may run on the controller's event loop (health checks, the web UI, lease renewal
and every other reconcile live there). :class:`BuildPool` runs such steps -- walking and
copying the path's closure, kustomize itself (confined, see :mod:`weir.kustomize.sandbox`),
parsing its output, post-build substitution -- in a few long-lived worker processes
(``python -m weir.kustomize.pool``), at most ``size`` at a time:

- a job is a module-level function and its arguments, pickled over the worker's stdin; the
  reply (the result, or the :class:`~weir.errors.WeirError` it raised) comes back on stdout;
- the waiting and the unpickling happen in a thread of the pool's own, never on the loop;
- a job that outlives its deadline gets its worker killed (kustomize dies with it: it runs with
  ``PDEATHSIG``) and fails with a one-line :class:`~weir.kustomize.errors.BuildError`; a worker
  that dies is replaced on the next job;
- workers are single-threaded, which makes applying the sandbox between ``fork`` and ``exec``
  safe there (it is not in the multi-threaded controller).

One pool serves every event loop of the process (:func:`default_pool`); ``weir run`` sizes it
with ``--build-workers``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import pickle
import queue
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, TypeVar

from weir.errors import WeirError
from weir.kustomize.errors import BuildError

log = logging.getLogger(__name__)

T = TypeVar("T")
GRACE = 5.0
"""Seconds a job may run past its own deadline (jobs enforce their limits themselves; this is
the backstop)."""
_HEADER = 8


def default_size() -> int:
    """Workers by default: the number of CPUs, at least 2 and at most 8."""
    return min(max(os.cpu_count() or 2, 2), 8)


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class _Worker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "weir.kustomize.pool"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            close_fds=True,
            start_new_session=True,
        )
        self.jobs = 0

    def call(self, payload: bytes, deadline: float) -> bytes:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(len(payload).to_bytes(_HEADER, "big") + payload)
        self.proc.stdin.flush()
        self.jobs += 1
        stdout = self.proc.stdout
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([stdout], [], [], max(remaining, 0))
        if not ready:
            raise TimeoutError
        size = int.from_bytes(_read_exact(stdout, _HEADER), "big")
        return _read_exact(stdout, size)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class BuildPool:
    """``size`` worker processes, started on first use (see the module docstring)."""

    def __init__(self, size: int | None = None) -> None:
        self.size = max(1, size or default_size())
        self._threads = ThreadPoolExecutor(self.size, thread_name_prefix="weir-build")
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.jobs = 0

    async def call(self, fn: Callable[..., T], *args: Any, timeout: float) -> T:  # noqa: ASYNC109
        """``fn(*args)`` in a worker; raises what it raised (a :class:`WeirError`), or
        :class:`BuildError` when it ran past ``timeout`` (+ :data:`GRACE`) or its worker died."""
        loop = asyncio.get_running_loop()
        payload = pickle.dumps((fn, args))
        status, value = await loop.run_in_executor(self._threads, self._run, payload, timeout)
        if status == "ok":
            return value  # type: ignore[no-any-return]
        if status == "error":
            raise value
        raise BuildError(value)

    def _take(self) -> _Worker:
        try:
            worker = self._idle.get_nowait()
        except queue.Empty:
            worker = _Worker()
            with self._lock:
                self._workers.add(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._workers.discard(worker)

    def _run(self, payload: bytes, timeout: float) -> tuple[str, Any]:
        if self._closed:
            return "crash", "the build pool is closed"
        worker = self._take()
        self.jobs += 1
        try:
            reply = worker.call(payload, time.monotonic() + timeout + GRACE)
        except TimeoutError:
            self._discard(worker)
            return "crash", f"the build did not finish in {timeout:g}s and was stopped"
        except (EOFError, OSError, ValueError):
            code = worker.proc.poll()
            self._discard(worker)
            return "crash", f"the build worker died (exit code {code}); see the controller's log"
        try:
            result: tuple[str, Any] = pickle.loads(reply)
        except Exception as e:
            self._discard(worker)
            return "crash", f"the build worker answered garbage: {e}"
        if self._closed:
            self._discard(worker)
        else:
            self._idle.put(worker)
        return result

    def close(self) -> None:
        """Stop every worker (jobs in flight fail)."""
        self._closed = True
        with self._lock:
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.kill()
        self._threads.shutdown(wait=False, cancel_futures=True)


_default: BuildPool | None = None
_default_lock = threading.Lock()


def default_pool() -> BuildPool:
    """The process-wide pool (:func:`configure` sizes it before first use)."""
    global _default  # noqa: PLW0603 - one pool per process
    with _default_lock:
        if _default is None or _default._closed:
            _default = BuildPool()
        return _default


@atexit.register
def _close_default() -> None:
    if _default is not None:
        _default.close()


def configure(size: int | None) -> BuildPool:
    """Replace the process-wide pool by one of ``size`` workers (``--build-workers``)."""
    global _default  # noqa: PLW0603 - one pool per process
    with _default_lock:
        if _default is not None:
            _default.close()
        _default = BuildPool(size)
        return _default


# ------------------------------------------------------------------------------------ worker
def _reply(result: tuple[str, Any]) -> bytes:
    try:
        return pickle.dumps(result)
    except Exception:
        _status, value = result
        return pickle.dumps(("crash", f"{type(value).__name__}: {value}"))


def _serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    while True:
        try:
            size = int.from_bytes(_read_exact(requests, _HEADER), "big")
            payload = _read_exact(requests, size)
        except EOFError:
            return
        result: tuple[str, Any]
        try:
            fn, args = pickle.loads(payload)
            result = ("ok", fn(*args))
        except WeirError as e:
            result = ("error", e)
        except RecursionError:
            result = ("crash", "the input nests too deeply to be processed")
        except MemoryError:
            result = ("crash", "the build worker ran out of memory")
        except Exception as e:
            log.exception("build job failed")
            result = ("crash", f"internal error in the build worker: {type(e).__name__}: {e}")
        data = _reply(result)
        replies.write(len(data).to_bytes(_HEADER, "big") + data)
        replies.flush()


def main() -> None:
    """The worker: serve jobs from stdin until it closes. Anything printed by accident goes to
    stderr, never into the replies."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    logging.basicConfig(level=logging.WARNING)
    _serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
