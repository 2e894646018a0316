"""Running the ``weir`` command as a user does, in a subprocess, without blocking the test's
event loop (so that a fake controller in the test can answer meanwhile)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WEIR = str(Path(sys.executable).parent / "weir")
TIMEOUT = 180.0


@dataclass
class Result:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __str__(self) -> str:
        return (
            f"weir {' '.join(self.args)} -> {self.code}\n"
            f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("KUBECONFIG", None)
    env["COLUMNS"] = "200"
    return env


async def weir(
    *args: str,
    kubeconfig: str | None = None,
    timeout: float = TIMEOUT,
    cwd: str | Path | None = None,
) -> Result:
    """Run ``weir ARGS [--kubeconfig K]`` to completion (in ``cwd`` when given)."""
    full = (*args, "--kubeconfig", kubeconfig) if kubeconfig else args
    proc = await asyncio.create_subprocess_exec(
        WEIR,
        *full,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(),
        cwd=cwd,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return Result(full, proc.returncode, out.decode(), err.decode())


class Watcher:
    """A long-running ``weir ... -w``: read its output line by line, then Ctrl-C it."""

    def __init__(self, *args: str, kubeconfig: str) -> None:
        self.args = (*args, "--kubeconfig", kubeconfig)
        self.lines: list[str] = []
        self._proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Watcher:
        self._proc = await asyncio.create_subprocess_exec(
            WEIR,
            *self.args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_env(),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            await self._proc.wait()

    async def wait_for(self, text: str, timeout: float = 60.0) -> str:
        """Read lines until one contains ``text``; returns it."""

        async def read() -> str:
            assert self._proc is not None
            assert self._proc.stdout is not None
            while True:
                raw = await self._proc.stdout.readline()
                if not raw:
                    err = b""
                    if self._proc.stderr is not None:
                        err = await self._proc.stderr.read()
                    raise AssertionError(
                        f"weir exited before printing {text!r}; got {self.lines}; "
                        f"stderr: {err.decode()}"
                    )
                got = raw.decode()
                self.lines.append(got)
                if text in got:
                    return got

        return await asyncio.wait_for(read(), timeout)

    async def interrupt(self, timeout: float = 30.0) -> int:
        """Ctrl-C; returns the exit code."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGINT)
        return await asyncio.wait_for(self._proc.wait(), timeout)
