"""The wheel ``weir-gitops`` as a user installs it: built from this tree (``uv build``),
installed into a fresh virtual environment with ``pip install`` semantics (offline: the
dependencies come from uv's cache, locked versions), and then the installed ``weir``: ``weir
crds`` prints the CRDs (the chart's), ``weir ui`` serves the pages of the bundled UI, ``weir
install`` finds the chart it renders, and ``weir run`` accepts the chart's flags."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from weir.devcluster import DevCluster
from weir.devcluster.process import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(900)


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    assert Path(found).is_file(), "uv is installed by `make setup`"
    return found


def _run(*argv: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=600, env=env, check=False
    )
    assert result.returncode == 0, f"{' '.join(argv)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the locked dependencies and the wheel installed."""
    if not (ROOT / "weir" / "web" / "static" / "index.html").is_file():
        _run(str(ROOT / "scripts" / "build-ui.sh"))  # `make ui`
    tmp = tmp_path_factory.mktemp("wheel")
    uv = _uv()
    _run(uv, "build", "--wheel", "--out-dir", str(tmp / "dist"), str(ROOT))
    (wheel,) = (tmp / "dist").glob("weir_gitops-*.whl")
    env_dir = tmp / "venv"
    env = {**os.environ, "UV_OFFLINE": "1", "UV_PROJECT_ENVIRONMENT": str(env_dir)}
    env.pop("VIRTUAL_ENV", None)
    # The locked dependencies (not the project), from uv's cache: no network.
    _run(
        uv, "sync", "--frozen", "--no-dev", "--no-install-project", "--quiet",
        "--python", sys.executable, env=env,
    )  # fmt: skip
    # ... and the wheel, as `pip install weir_gitops-*.whl` installs it.
    _run(
        uv, "pip", "install", "--quiet", "--offline", "--no-deps",
        "--python", str(env_dir / "bin" / "python"), str(wheel), env=env,
    )  # fmt: skip
    return env_dir


def test_the_wheel_carries_the_ui_bundle_the_crds_and_the_chart(venv: Path) -> None:
    (wheel,) = venv.parent.joinpath("dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "weir/web/static/index.html" in names
    assert any(n.startswith("weir/web/static/assets/") for n in names)
    assert "weir/charts/weir/Chart.yaml" in names
    assert "weir/charts/weir/crds/crds.yaml" in names
    assert "weir/charts/weir/values.schema.json" in names
    assert not any(n.startswith(("tests/", "ui/src/")) for n in names)


def test_weir_crds_from_the_wheel_prints_the_charts_crds(venv: Path) -> None:
    out = _run(str(venv / "bin" / "weir"), "crds", cwd=venv)
    committed = (ROOT / "charts" / "weir" / "crds" / "crds.yaml").read_text()
    assert out == committed
    assert "kind: FluxInstance" in out


def test_weir_install_from_the_wheel_finds_its_chart_and_run_takes_its_flags(
    venv: Path,
) -> None:
    weir = str(venv / "bin" / "weir")
    probe = (
        "from weir.cli.installer import chart_dir; import weir; "
        "print(chart_dir()); print(weir.__file__)"
    )
    chart, module = _run(str(venv / "bin" / "python"), "-c", probe, cwd=venv).split()
    assert chart.startswith(str(venv)), chart  # the chart inside the installed package
    assert module.startswith(str(venv)), module
    assert "--instance" in _run(weir, "install", "--help", cwd=venv)
    assert "--operator-mode" in _run(weir, "run", "--help", cwd=venv)


def test_weir_ui_from_the_wheel_serves_the_pages(venv: Path, control_plane: DevCluster) -> None:
    port = free_port()
    log = venv.parent / "ui.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(venv / "bin" / "weir"),
                "ui",
                f"--kubeconfig={control_plane.kubeconfig_path}",
                f"--addr=127.0.0.1:{port}",
            ],
            cwd=venv,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                page = httpx.get(base + "/", timeout=2)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        assert page.status_code == 200
        assert '<div id="app"' in page.text or "<script" in page.text
        asset = re.search(r"assets/[^\"']+\.js", page.text)
        assert asset is not None, page.text
        script = httpx.get(f"{base}/{asset.group(0)}", timeout=5)
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        for route in ("/resources", "/workloads"):  # SPA routes serve the page too
            assert httpx.get(base + route, timeout=5).status_code == 200
        assert httpx.get(base + "/api/healthz", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
