"""``make bench-flux`` (bench/flux_bench.py): the table, the retry of a run that failed before
its create phase, and the hard limit on a run. The harness here is a fake (a small script
named so), not the shared side-by-side harness."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench import flux_bench

FAKE_HARNESS = """
import argparse, json, pathlib, sys, time
ap = argparse.ArgumentParser()
for a in ("--system", "--bench", "--count", "--concurrent", "--timeout", "--out", "--label"):
    ap.add_argument(a)
args, _ = ap.parse_known_args()
state = pathlib.Path(__file__).with_name("attempts")
n = int(state.read_text()) + 1 if state.exists() else 1
state.write_text(str(n))
mode = pathlib.Path(__file__).with_name("mode").read_text()
if mode == "hang":
    time.sleep(60)
row = {"system": args.system, "bench": args.bench, "count": int(args.count)}
if mode == "early-error" and n == 1:
    row["error"] = "RuntimeError: 429 storage is (re)initializing"
else:
    row["create"] = {"wall_s": 10.0 * n, "cpu_s": 5.0, "peak_rss_mib": 100.0,
                     "api_requests_controllers": 3400}
with open(args.out, "a") as f:
    f.write(json.dumps(row) + "\\n")
sys.exit(1 if "error" in row else 0)
"""


def _args(**kw: object) -> argparse.Namespace:
    base: dict[str, object] = {
        "concurrent": 4,
        "timeout": 60.0,
        "run_timeout": 0.0,
        "label": "t",
        "skip_noop": True,
        "pyspy": "",
    }
    base.update(kw)
    return argparse.Namespace(**base)


def _harness(tmp_path: Path, mode: str) -> Path:
    h = tmp_path / "harness"
    h.mkdir()
    (h / "harness.py").write_text(FAKE_HARNESS)
    (h / "mode").write_text(mode)
    return h


def _rows(out: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in out.read_text().splitlines() if x.strip()]


def test_a_run_failing_before_create_is_run_once_more(tmp_path: Path) -> None:
    h = _harness(tmp_path, "early-error")
    out = tmp_path / "r.jsonl"
    rc = flux_bench.run_with_retry(h, "flux", "ks", 100, out, _args())
    assert rc == 0
    rows = _rows(out)
    assert len(rows) == 1  # only the run that counts
    assert "error" not in rows[0]
    assert (h / "attempts").read_text() == "2"


def test_a_good_run_is_run_once(tmp_path: Path) -> None:
    h = _harness(tmp_path, "ok")
    out = tmp_path / "r.jsonl"
    assert flux_bench.run_with_retry(h, "weir", "ks", 100, out, _args()) == 0
    assert (h / "attempts").read_text() == "1"
    assert len(_rows(out)) == 1


def test_a_run_past_its_limit_is_stopped(tmp_path: Path) -> None:
    h = _harness(tmp_path, "hang")
    out = tmp_path / "r.jsonl"
    rc = flux_bench.run_one(h, "weir", "ks", 100, out, _args(run_timeout=1.0))
    assert rc == 124
    assert not out.exists()


def test_summary_shows_the_ratio_and_the_goal() -> None:
    def row(system: str, wall: float) -> dict[str, object]:
        return {
            "system": system,
            "bench": "ks",
            "count": 100,
            "started": "2026-12-05T03:00:00",
            "loadavg_start": 2.0,
            "create": {"wall_s": wall, "cpu_s": 1.0, "peak_rss_mib": 100.0},
        }

    table = flux_bench.summary([row("flux", 50.0), row("weir", 10.0)])
    assert "| Kustomizations | 100 | create | wall s | 50.0 | 10.0 | 0.20x | <= 0.8x |" in table
