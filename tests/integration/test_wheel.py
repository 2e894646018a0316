"""The wheel ``weir-gitops`` as a user installs it: built from this tree (``uv build``),
installed into a fresh virtual environment with ``pip install`` semantics (offline: the
dependencies come from uv's cache, locked versions), and then the installed ``weir``: ``weir
crds`` prints the CRDs (the chart's), ``weir ui`` serves the pages of the bundled UI, ``weir
install`` finds the chart it renders, and ``weir run`` accepts the chart's flags."""

from __future__ import annotations

import os
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
    """A fresh virtual environment with the wheel (and its locked dependencies) installed."""
    if not (ROOT / "weir" / "web" / "static" / "index.html").is_file():
        _run(str(ROOT / "scripts" / "build-ui.sh"))  # `make ui`
    tmp = tmp_path_factory.mktemp("wheel")
    uv = _uv()
    _run(uv, "build", "--wheel", "--out-dir", str(tmp / "dist"), str(ROOT))
    (wheel,) = (tmp / "dist").glob("weir_gitops-*.whl")
    requirements = tmp / "requirements.txt"
    exported = _run(
        uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "--quiet"
    )
    requirements.write_text(exported)
    env_dir = tmp / "venv"
    _run(uv, "venv", "--quiet", "--python", sys.executable, str(env_dir))  # same Python
    python = env_dir / "bin" / "python"
    env = {**os.environ, "UV_OFFLINE": "1"}
    env.pop("VIRTUAL_ENV", None)
    _run(
        uv, "pip", "install", "--quiet", "--offline", "--python", str(python),
        "-r", str(requirements), str(wheel), env=env,
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
        asset = next(
            part.split('"')[0] for part in page.text.split('src="')[1:] if "/assets/" in part
        )
        assert httpx.get(base + asset, timeout=5).status_code == 200
        for route in ("/resources", "/workloads"):  # SPA routes serve the page too
            assert httpx.get(base + route, timeout=5).status_code == 200
        assert httpx.get(base + "/api/healthz", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
