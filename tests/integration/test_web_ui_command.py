"""``weir ui`` as a process: it prints its URL, serves the API under the base path, and exits 0
on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

import httpx
import pytest

pytestmark = pytest.mark.usefixtures("flux_crds")

LAUNCH = "import typer; from weir.cli.ui import command; typer.run(command)"


async def test_weir_ui_process(kubeconfig: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LAUNCH,
        "--kubeconfig",
        kubeconfig,
        "--addr",
        "127.0.0.1:0",
        "--base-path",
        "ops/weir",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert line.startswith("weir UI: http://127.0.0.1:"), line
        url = line.split(": ", 1)[1].strip()
        assert url.endswith("/ops/weir/")
        async with httpx.AsyncClient(timeout=10) as http:
            health = await http.get(url + "api/healthz")
            assert health.json() == {"ok": True, "synced": True, "mode": "standalone"}
            assert (await http.get(url + "api/v1/resources")).status_code == 200
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 20)
        _, err = await proc.communicate()
    assert code == 0, err.decode()[-2000:]
