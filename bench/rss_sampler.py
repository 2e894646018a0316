"""Peak summed RSS of a controller's process tree, with and without vfork'd children.

A child started with ``clone(CLONE_VM|CLONE_VFORK)`` (Go's ``os/exec``, which Helm uses to run
a post-renderer plugin) shares its parent's memory until it calls ``exec``; meanwhile
``/proc/<child>/stat`` reports the parent's whole RSS, so a sum of RSS over the tree counts the
parent twice. Such a child still has its parent's command line; this sampler reports the peak
both counting and leaving out those children (docs/performance.md, "HelmReleases with weir's
per-object wait").

    python bench/rss_sampler.py --match "weir run" --seconds 400 --out /tmp/rss.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")
Proc = tuple[int, int, str]  # parent pid, RSS bytes, command line


def processes() -> dict[int, Proc]:
    found: dict[int, Proc] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            raw = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        cmd = raw.replace(b"\0", b" ").decode(errors="replace")[:160]
        found[int(entry)] = (int(fields[1]), int(fields[21]) * PAGE, cmd)
    return found


def tree(procs: dict[int, Proc], roots: list[int]) -> set[int]:
    members = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _, _) in procs.items():
            if ppid in members and pid not in members:
                members.add(pid)
                grew = True
    return members


def sample(match: str, seconds: float, out: Path, interval: float = 0.25) -> dict[str, Any]:
    report: dict[str, Any] = {"samples": 0, "samples_with_vfork_child": 0}
    peak_all = peak_own = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        procs = processes()
        roots = [
            pid
            for pid, (ppid, _, cmd) in procs.items()
            if match in cmd and match not in procs.get(ppid, (0, 0, ""))[2]
        ]
        if roots:
            members = tree(procs, roots)
            shared = {p for p in members if p not in roots and procs[p][2] == procs[procs[p][0]][2]}
            total = sum(procs[p][1] for p in members)
            own = total - sum(procs[p][1] for p in shared)
            report["samples"] += 1
            report["samples_with_vfork_child"] += bool(shared)
            listing = [(p, round(procs[p][1] / 2**20, 1), procs[p][2][:80]) for p in members]
            if total > peak_all:
                peak_all = total
                report["peak_all_mib"] = round(total / 2**20, 1)
                report["peak_all"] = [time.strftime("%H:%M:%S"), listing]
            if own > peak_own:
                peak_own = own
                report["peak_without_vfork_children_mib"] = round(own / 2**20, 1)
                kept = [row for row in listing if row[0] not in shared]
                report["peak_without_vfork_children"] = [time.strftime("%H:%M:%S"), kept]
            out.write_text(json.dumps(report, indent=1))
        time.sleep(interval)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--match", default="weir run", help="text of the root's command line")
    parser.add_argument("--seconds", type=float, default=400.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    sample(args.match, args.seconds, args.out)


if __name__ == "__main__":
    main()
