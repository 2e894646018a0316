"""An object's ``status.history`` as a timeline the UI reads top to bottom (newest first):
for each entry the revision, when, the result, how long it took and what changed since the
entry below it.

- Kustomization entries (Flux's ``meta.History``): one per distinct (build digest, outcome),
  moved to the front when that state is reconciled again, so a revert that brings back earlier
  manifests updates the earlier entry (its ``firstReconciled`` stays) instead of adding one.
  The revision is ``metadata.revision`` (the one last reconciled with that digest).
- HelmRelease entries (Helm release snapshots): one per Helm release version.

The raw entries stay in the detail's ``history`` (and the Status/YAML tabs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from weir.errors import WeirError
from weir.runtime.durations import parse_duration
from weir.types import Obj

SUCCEEDED = {"ReconciliationSucceeded", "deployed", "superseded"}
FAILED_HELM = {"failed", "pending-install", "pending-upgrade", "pending-rollback"}


def timeline(kind: str, history: Sequence[Any]) -> list[Obj]:
    """The entries of ``history`` (newest first) as timeline rows: ``revision``, ``when``,
    ``since`` (first time), ``result``, ``outcome`` (``ok``, ``failed`` or ``other``),
    ``duration``, ``count``, ``digest`` and ``changes`` (sentences)."""
    entries = [e for e in history if isinstance(e, Mapping)]
    if kind == "Kustomization":
        return _kustomization(entries)
    if kind == "HelmRelease":
        return _helmrelease(entries)
    return []


def _kustomization(entries: list[Mapping[str, Any]]) -> list[Obj]:
    out = []
    for i, entry in enumerate(entries):
        meta = entry.get("metadata") or {}
        revision = meta.get("revision")
        status = str(entry.get("lastReconciledStatus") or "")
        older = entries[i + 1] if i + 1 < len(entries) else None
        out.append(
            {
                "revision": revision,
                "originRevision": meta.get("originRevision"),
                "when": entry.get("lastReconciled"),
                "since": entry.get("firstReconciled"),
                "result": status,
                "outcome": _outcome(status),
                "duration": readable_duration(entry.get("lastReconciledDuration")),
                "count": entry.get("totalReconciliations"),
                "digest": entry.get("digest"),
                "changes": _kustomization_changes(entry, older),
            }
        )
    return out


def _kustomization_changes(entry: Mapping[str, Any], older: Mapping[str, Any] | None) -> list[str]:
    if older is None:
        return ["the oldest entry kept (Flux keeps the last 5 distinct states)"]
    revision = (entry.get("metadata") or {}).get("revision")
    before = (older.get("metadata") or {}).get("revision")
    changes = []
    if entry.get("digest") == older.get("digest"):
        changes.append("same manifests as the entry below")
    else:
        changes.append("manifests changed")
    if revision and before and revision != before:
        changes.append(f"revision {_short(before)} → {_short(revision)}")
    status, older_status = entry.get("lastReconciledStatus"), older.get("lastReconciledStatus")
    if status != older_status:
        changes.append(f"result {older_status} → {status}")
    count = entry.get("totalReconciliations")
    if isinstance(count, int) and count > 1:
        changes.append(f"reconciled {count} times with this result since it first appeared")
    return changes


def _helmrelease(entries: list[Mapping[str, Any]]) -> list[Obj]:
    out = []
    for i, snap in enumerate(entries):
        older = entries[i + 1] if i + 1 < len(entries) else None
        status = str(snap.get("status") or "")
        chart = f"{snap.get('chartName') or '?'} {snap.get('chartVersion') or '?'}"
        out.append(
            {
                "revision": f"v{snap.get('version')} · {chart}",
                "originRevision": None,
                "when": snap.get("lastDeployed"),
                "since": snap.get("firstDeployed"),
                "result": status + (f" ({snap['action']})" if snap.get("action") else ""),
                "outcome": _outcome(status),
                "duration": None,
                "count": None,
                "digest": snap.get("digest"),
                "appVersion": snap.get("appVersion"),
                "changes": _helm_changes(snap, older),
            }
        )
    return out


def _helm_changes(snap: Mapping[str, Any], older: Mapping[str, Any] | None) -> list[str]:
    if older is None:
        return ["first release kept in the history"]
    changes = []
    if snap.get("chartName") != older.get("chartName"):
        changes.append(f"chart {older.get('chartName')} → {snap.get('chartName')}")
    if snap.get("chartVersion") != older.get("chartVersion"):
        changes.append(f"chart version {older.get('chartVersion')} → {snap.get('chartVersion')}")
    if snap.get("appVersion") != older.get("appVersion"):
        changes.append(f"app version {older.get('appVersion')} → {snap.get('appVersion')}")
    if snap.get("configDigest") != older.get("configDigest"):
        changes.append("values changed")
    return changes or ["same chart and values (an upgrade, a rollback or a retry)"]


def readable_duration(text: Any) -> str | None:
    """Go's duration text (``234.515432ms``, ``10.002575485s``, ``1m5.2s``) as a person reads
    it: ``235ms``, ``10.0s``, ``1m5s``; anything else as it is."""
    if not isinstance(text, str) or not text:
        return None
    try:
        seconds = parse_duration(text)
    except WeirError:
        return text
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s"


def _outcome(status: str) -> str:
    if status in SUCCEEDED:
        return "ok"
    if status in FAILED_HELM or status.endswith("Failed"):
        return "failed"
    return "other"


def _short(revision: str) -> str:
    """``main@sha1:0123456789abcdef...`` -> ``main@sha1:0123456789``."""
    head, sep, digest = revision.rpartition(":")
    return f"{head}{sep}{digest[:10]}" if sep and len(digest) > 10 else revision
