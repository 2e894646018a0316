"""The fleet's charts, packaged into a Helm repository served on loopback."""

from __future__ import annotations

import shutil
from pathlib import Path

from weir.testing.chartrepo import ChartRepoServer


def chart_dirs(charts_root: Path) -> list[Path]:
    """Every chart directory (one with a Chart.yaml) directly below ``charts_root``."""
    if not charts_root.is_dir():
        return []
    return sorted(p for p in charts_root.iterdir() if (p / "Chart.yaml").is_file())


def serve_charts(charts_root: Path, repo_dir: Path) -> ChartRepoServer:
    """Package the charts below ``charts_root`` into a fresh repository in ``repo_dir`` and start
    serving it at ``http://127.0.0.1:<port>/charts``. The caller stops the server."""
    shutil.rmtree(repo_dir, ignore_errors=True)
    server = ChartRepoServer(repo_dir, prefix="/charts")
    for chart in chart_dirs(charts_root):
        server.add_chart(chart)
    return server.start()
