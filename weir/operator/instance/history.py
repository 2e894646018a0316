"""``status.history``: the last reconciled configurations, as the Flux Operator keeps them.

One snapshot per (digest, status): a run with the same digest and outcome as the newest
snapshot updates it (``lastReconciled``, ``lastReconciledDuration``, ``totalReconciliations``);
anything else starts a new snapshot at the front. At most :data:`MAX_SIZE` are kept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from weir.runtime.durations import format_duration

Obj = dict[str, Any]
MAX_SIZE = 5


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(
    status: Obj,
    digest: str,
    outcome: str,
    duration: float,
    metadata: dict[str, str],
    *,
    at: str | None = None,
) -> None:
    """Add a run to ``status["history"]`` (in place)."""
    when = at or now()
    history: list[Obj] = list(status.get("history") or [])
    took = format_duration(duration)
    if (
        history
        and history[0].get("digest") == digest
        and (history[0].get("lastReconciledStatus") == outcome)
    ):
        first = dict(history[0])
        first.update(
            lastReconciled=when,
            lastReconciledDuration=took,
            totalReconciliations=int(first.get("totalReconciliations") or 0) + 1,
            metadata=metadata,
        )
        history[0] = first
    else:
        history.insert(
            0,
            {
                "digest": digest,
                "firstReconciled": when,
                "lastReconciled": when,
                "lastReconciledDuration": took,
                "lastReconciledStatus": outcome,
                "totalReconciliations": 1,
                "metadata": metadata,
            },
        )
    status["history"] = history[:MAX_SIZE]
