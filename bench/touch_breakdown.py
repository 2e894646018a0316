"""Where touch1's time goes, from a fleet run's weir log (``make bench-fleet`` with
``FLEET_ARGS="--log-level info --keep-logs DIR"``) and its result line.

``python -m bench.touch_breakdown RESULT.jsonl LOG [--name app0] [--line N]`` prints the steps
from the push (``touch1.started_at``) to the touched Kustomization's Ready, in seconds since
the push: the GitRepository's checkout and archive, its status write, the extraction of the new
artifact, the touched Kustomization's wait in the queue and its run.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any


def _ts(line: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(line["ts"]).replace("Z", "+00:00")).timestamp()


def breakdown(result: dict[str, Any], log: Path, name: str = "app0") -> list[tuple[str, float]]:
    """(step, seconds since the push at its end), in order."""
    t0 = float(result["touch1"]["started_at"])
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    after = [x for x in lines if _ts(x) >= t0]
    steps: list[tuple[str, float]] = []
    archived = next(x for x in after if x.get("msg") == "checked out and archived")
    end_archive = _ts(archived) - t0
    end_checkout = end_archive - float(archived["archive_seconds"])
    start = end_checkout - float(archived["checkout_seconds"])
    steps.append(("push -> GitRepository run fetching", round(start, 3)))
    steps.append(("checkout (fetch + work tree)", round(end_checkout, 3)))
    steps.append(("archive (tar.gz + digest)", round(end_archive, 3)))
    stored = next(x for x in after if x.get("msg") == "stored artifact")
    steps.append(
        ("checkout removed (before kept clones), garbage collection", round(_ts(stored) - t0, 3))
    )
    extracted = next((x for x in after if x.get("msg") == "artifact extracted"), None)
    if extracted is not None:
        begin = _ts(extracted) - t0 - float(extracted["seconds"])
        steps.append(("status write, Kustomization wakeup, first run starts", round(begin, 3)))
        mode = "in place" if extracted.get("in_place") else "full"
        if extracted.get("written") is not None:
            mode += f", {extracted['written']} written"
        steps.append((f"extraction ({mode})", round(_ts(extracted) - t0, 3)))
    run = next(
        x
        for x in after
        if x.get("msg") == "reconciliation finished"
        and x.get("kind") == "Kustomization"
        and x.get("name") == name
    )
    end = _ts(run) - t0
    begin = end - float(run.get("seconds", 0))
    steps.append((f"{name} waits in the queue (waited {run.get('waited')} s)", round(begin, 3)))
    steps.append((f"{name} run (build, apply, status write)", round(end, 3)))
    steps.append(("first_ready_s (the benchmark's poll)", float(result["touch1"]["first_ready_s"])))
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("result", type=Path, help="the JSON lines of --out")
    parser.add_argument("log", type=Path, help="the run's weir log (--keep-logs)")
    parser.add_argument("--line", type=int, default=0, help="which result line (0 = first)")
    parser.add_argument("--name", default="app0")
    args = parser.parse_args()
    result = json.loads(args.result.read_text().splitlines()[args.line])
    previous = 0.0
    for step, at in breakdown(result, args.log, args.name):
        print(f"{at:8.2f} s  (+{at - previous:6.2f})  {step}")
        previous = at


if __name__ == "__main__":
    main()
