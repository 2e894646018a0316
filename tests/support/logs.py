"""Reading weir's JSON logs (``--log-encoding=json``, the shipped default) in tests."""

from __future__ import annotations

import json

TRACEBACK = "Traceback (most recent call last)"


def log_problems(text: str, levels: tuple[str, ...] = ("error", "critical")) -> list[str]:
    """The lines of a JSON log at one of ``levels``, or carrying a traceback, or that are not
    JSON at all (something printed around the logging): what a clean run must not have."""
    problems = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            problems.append(f"not a JSON log line: {line[:300]}")
            continue
        if record.get("level") in levels or TRACEBACK in line:
            problems.append(line[:2000])
    return problems
