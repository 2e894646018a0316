"""weir side by side with the real Flux controllers (``make bench-flux``).

A thin entry over the side-by-side harness kept outside this repository (the shared
``flux-side-by-side`` tool: it builds source-, kustomize- and helm-controller from the Go module
proxy and runs one system at a time on a fresh local control plane with an audit log). This
module finds the harness, checks that the Flux binaries are built, runs Flux and weir
**alternately** for every size and kind asked for, and prints a Markdown table of the results
with the weir/Flux ratios, the machine, the versions and the load average (what
``docs/performance.md`` shows).

Where the harness is: ``$FLUX_SIDE_BY_SIDE``, else ``../shared/tools/flux-side-by-side`` next to
this checkout (or next to the main checkout of a git worktree). The Flux binaries:
``$FLUXBIN`` (default ``~/.cache/weir/flux/bin``); ``--build`` runs the harness's
``build_flux.sh`` first (about 20 minutes on two cores, once).

Run: ``make bench-flux FLUX_ARGS="--counts 100,500 --kinds ks,helm --runs 2"``, or
``.venv/bin/python -m bench.flux_bench --summary RESULTS.jsonl`` for the table of earlier runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("create", "noop")
MEASURES = (
    ("wall_s", "wall s"),
    ("cpu_s", "CPU s"),
    ("peak_rss_mib", "peak RSS MiB"),
    ("api_requests_controllers", "API requests"),
)
GOALS = {  # issue 21: weir/Flux at most
    ("create", "wall_s"): 0.8,
    ("create", "cpu_s"): 1.0,
    ("create", "peak_rss_mib"): 1.0,
    ("create", "api_requests_controllers"): 1.0,
    ("noop", "wall_s"): 0.2,
    ("noop", "cpu_s"): 0.2,
}


class BenchSetupError(RuntimeError):
    """The harness or the Flux binaries are missing; the message says what to do."""


def harness_dir() -> Path:
    """The shared harness directory (see the module docstring)."""
    env = os.environ.get("FLUX_SIDE_BY_SIDE")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "tools" / "flux-side-by-side")
    common = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--path-format=absolute", "--git-common-dir"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if common:  # a worktree: next to the main checkout
        candidates.append(Path(common).parent.parent / "shared" / "tools" / "flux-side-by-side")
    for c in candidates:
        if (c / "harness.py").is_file():
            return c
    raise BenchSetupError(
        "the side-by-side harness (harness.py) was not found in "
        + ", ".join(str(c) for c in candidates)
        + "; set FLUX_SIDE_BY_SIDE to the flux-side-by-side directory"
    )


def flux_bin() -> Path:
    return Path(os.environ.get("FLUXBIN", Path.home() / ".cache/weir/flux/bin"))


def check_flux(harness: Path, build: bool, kinds: list[str]) -> None:
    """The Flux binaries the kinds need (source-controller, and kustomize- or helm-controller)."""
    needed = ["source-controller"]
    needed += ["kustomize-controller"] if "ks" in kinds else []
    needed += ["helm-controller"] if "helm" in kinds else []
    missing = [b for b in needed if not (flux_bin() / b).is_file()]
    if missing and build:
        subprocess.run(["bash", str(harness / "build_flux.sh")], check=True)
        missing = [b for b in needed if not (flux_bin() / b).is_file()]
    if missing:
        raise BenchSetupError(
            f"Flux controllers missing in {flux_bin()}: {', '.join(missing)}; build them with "
            f"`bash {harness / 'build_flux.sh'}` (about 20 minutes, once) or pass --build"
        )


def run_one(
    harness: Path, system: str, kind: str, count: int, out: Path, args: argparse.Namespace
) -> int:
    argv = [
        sys.executable,
        str(harness / "harness.py"),
        f"--system={system}",
        f"--bench={kind}",
        f"--count={count}",
        f"--concurrent={args.concurrent}",
        f"--timeout={args.timeout}",
        f"--out={out}",
        f"--label={args.label}",
    ]
    if args.skip_noop:
        argv.append("--skip-noop")
    if args.pyspy and system == "weir":
        argv.append(f"--pyspy={args.pyspy}")
    print(
        f"=== {time.strftime('%H:%M:%S')} {system} {kind} {count} (load {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    # A hard limit on the whole run (control plane start, both phases, teardown): on expiry the
    # run's process group (harness, control plane, controllers) is stopped, so nothing hangs.
    limit = args.run_timeout or (2 * args.timeout + 300)
    proc = subprocess.Popen(
        argv, cwd=ROOT, env={**os.environ, "WEIR": str(ROOT)}, start_new_session=True
    )
    try:
        return proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        print(f"bench-flux: {system} {kind} {count} over {limit:.0f} s, stopping it", flush=True)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=20)
                break
            except subprocess.TimeoutExpired:
                continue
        return 124


def run_with_retry(
    harness: Path, system: str, kind: str, count: int, out: Path, args: argparse.Namespace
) -> int:
    """One run; a run that failed before its create phase (e.g. the fresh API server answering
    429 "storage is (re)initializing" while the CRDs register) is run again once. Only the row
    of the run that counts is appended to ``out``."""
    rc = 1
    for attempt in (1, 2):
        part = out.with_suffix(f".{system}-{kind}-{count}.part")
        part.unlink(missing_ok=True)
        rc = run_one(harness, system, kind, count, part, args)
        rows = [x for x in part.read_text().splitlines() if x.strip()] if part.exists() else []
        part.unlink(missing_ok=True)
        row = json.loads(rows[-1]) if rows else None
        early = row is None or ("error" in row and not row.get("create"))
        if early and attempt == 1:
            print(f"bench-flux: {system} {kind} {count} failed before create, once more")
            time.sleep(5)
            continue
        if row is not None:
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")
        break
    return rc


# ----------------------------------------------------------------------------- table
def _value(row: dict[str, Any], phase: str, key: str) -> float | None:
    v = (row.get(phase) or {}).get(key)
    return float(v) if isinstance(v, int | float) else None


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}"


def summary(rows: list[dict[str, Any]]) -> str:
    """The Markdown table: per kind and size, each measure's runs (Flux, weir) and the ratio
    of the means; a run that failed shows its error and progress instead."""
    groups: dict[tuple[str, int], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for r in rows:
        groups[(r["bench"], int(r["count"]))][r["system"]].append(r)
    lines = [
        "| kind | N | phase | measure | Flux runs | weir runs | weir/Flux | goal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    for (kind, count), by in sorted(groups.items()):
        label = "Kustomizations" if kind == "ks" else "HelmReleases"
        for phase in PHASES:
            for key, name in MEASURES:
                vals = {s: [_value(r, phase, key) for r in by.get(s, [])] for s in ("flux", "weir")}
                ok = {s: [v for v in vals[s] if v is not None] for s in vals}
                if not ok["flux"] and not ok["weir"]:
                    continue
                ratio = "-"
                if ok["flux"] and ok["weir"] and statistics.mean(ok["flux"]):
                    ratio = f"{statistics.mean(ok['weir']) / statistics.mean(ok['flux']):.2f}x"
                goal = GOALS.get((phase, key))
                cells = {s: ", ".join(_fmt(v) for v in ok[s]) or "-" for s in ok}
                lines.append(
                    f"| {label} | {count} | {phase} | {name} | {cells['flux']} | {cells['weir']} "
                    f"| {ratio} | {f'<= {goal}x' if goal else ''} |"
                )
        for s in ("flux", "weir"):
            for r in by.get(s, []):
                load = r.get("loadavg_start")
                err = r.get("error")
                note = (
                    f"{s} {kind} {count} started {r.get('started')} load {load:.1f}"
                    if isinstance(load, float)
                    else f"{s} {kind} {count} started {r.get('started')}"
                )
                if err:
                    note += f": ERROR {err[:200]} (progress {r.get('create_progress')})"
                notes.append(note)
    versions: dict[str, Any] = {}
    for r in rows:
        versions.update(r.get("versions") or {})
    head = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ".",
        "",
    ]
    return "\n".join([*head, *lines, "", "Runs:", *(f"- {n}" for n in notes)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench.flux_bench", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--counts", default="100", help="sizes, comma-separated (default 100)")
    ap.add_argument("--kinds", default="ks,helm", help="ks, helm or both (default both)")
    ap.add_argument("--runs", type=int, default=2, help="alternating pairs per size (default 2)")
    ap.add_argument("--concurrent", type=int, default=4, help="--concurrent of both systems")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per phase, seconds")
    ap.add_argument(
        "--run-timeout",
        type=float,
        default=0.0,
        help="hard limit on one whole run, seconds (default 2 x --timeout + 300)",
    )
    ap.add_argument("--skip-noop", action="store_true", help="stop each run after create")
    ap.add_argument("--systems", default="flux,weir", help="order within a pair")
    ap.add_argument("--out", default="", help="results JSONL (default: a new file under /tmp)")
    ap.add_argument("--label", default="", help="a label stored with each run")
    ap.add_argument("--pyspy", default="", help="py-spy binary: profile weir (not for timing)")
    ap.add_argument("--build", action="store_true", help="build the Flux controllers if missing")
    ap.add_argument("--summary", default="", help="only print the table of this results file")
    args = ap.parse_args(argv)
    if args.summary:
        rows = [json.loads(x) for x in Path(args.summary).read_text().splitlines() if x.strip()]
        print(summary(rows))
        return 0
    try:
        harness = harness_dir()
        check_flux(harness, args.build, args.kinds.split(","))
    except BenchSetupError as e:
        print(f"bench-flux: {e}", file=sys.stderr)
        return 2
    out = Path(args.out or f"/tmp/weir-bench-flux-{time.strftime('%Y%m%d-%H%M%S')}.jsonl")
    failed = 0
    for count in (int(c) for c in args.counts.split(",")):
        for kind in args.kinds.split(","):
            for _ in range(args.runs):
                for system in args.systems.split(","):
                    failed += run_with_retry(harness, system, kind, count, out, args) != 0
                    time.sleep(5)
    rows = [json.loads(x) for x in out.read_text().splitlines() if x.strip()]
    print(summary(rows))
    print(f"\nresults: {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
