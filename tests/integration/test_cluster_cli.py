"""`weir cluster up | status | kubeconfig | down` as a user runs them, in a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from weir.devcluster.process import is_running

VENV_BIN = Path(sys.executable).parent
WEIR = str(VENV_BIN / "weir")
KUBECTL = str(VENV_BIN / "kubectl")


def weir(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [WEIR, *args], capture_output=True, text=True, timeout=180, env=env, check=False
    )


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    d = tmp_path_factory.mktemp("cli") / ".weir"
    yield d
    weir("cluster", "down", "--state-dir", str(d))


def test_up_status_kubeconfig_down(state_dir: Path) -> None:
    sd = ["--state-dir", str(state_dir)]
    up = weir("cluster", "up", *sd)
    assert up.returncode == 0, up.stderr
    assert "started" in up.stdout

    again = weir("cluster", "up", *sd)
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stdout

    status = weir("cluster", "status", "-o", "json", *sd)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["running"] is True
    pids = {name: p["pid"] for name, p in data["processes"].items()}
    assert set(pids) == {"etcd", "kube-apiserver"}

    kubeconfig = weir("cluster", "kubeconfig", *sd).stdout.strip()
    readyz = subprocess.run(
        [KUBECTL, "--kubeconfig", kubeconfig, "get", "--raw", "/readyz"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert readyz.returncode == 0, readyz.stderr
    assert readyz.stdout.strip() == "ok"

    down = weir("cluster", "down", *sd)
    assert down.returncode == 0, down.stderr
    for name, pid in pids.items():
        assert not is_running(pid), f"{name} (pid {pid}) still runs after down"
    assert not state_dir.exists()

    gone = weir("cluster", "status", *sd)
    assert gone.returncode == 1
    assert "weir cluster up" in gone.stdout


def test_taken_port_is_one_clear_line(state_dir: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = weir("cluster", "up", "--apiserver-port", str(port), "--state-dir", str(state_dir))
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert f"port {port}" in lines[0]
    assert "--apiserver-port" in lines[0]


def test_missing_binary_is_one_clear_line(tmp_path: Path) -> None:
    env = dict(os.environ, WEIR_K8S_BINDIR=str(tmp_path / "empty"))
    r = weir("cluster", "up", "--state-dir", str(tmp_path / ".weir"), env=env)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "make binaries" in lines[0]
    assert not (tmp_path / ".weir").exists()


def test_kubeconfig_without_cluster_fails(tmp_path: Path) -> None:
    r = weir("cluster", "kubeconfig", "--state-dir", str(tmp_path / ".weir"))
    assert r.returncode == 1
    assert "weir cluster up" in r.stderr
