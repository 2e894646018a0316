"""The History tab's timeline (weir.web.history): revision, when, result, duration and what
changed, for Kustomization and HelmRelease ``status.history`` (issue 12.3: the tab showed only
scalar fields, so the Kustomization's ``metadata.revision`` was lost)."""

from __future__ import annotations

from weir.web.history import readable_duration, timeline

GOOD = "main@sha1:" + "a" * 40
BAD = "main@sha1:" + "b" * 40
REVERT = "main@sha1:" + "c" * 40


def ks_entry(digest: str, status: str, revision: str, count: int = 1) -> dict[str, object]:
    return {
        "digest": digest,
        "firstReconciled": "2026-01-01T10:00:00Z",
        "lastReconciled": "2026-01-01T10:05:00Z",
        "lastReconciledDuration": "1.2s",
        "lastReconciledStatus": status,
        "totalReconciliations": count,
        "metadata": {"revision": revision},
    }


def test_kustomization_rows_carry_the_revision_and_what_changed() -> None:
    history = [
        ks_entry("sha256:1", "ReconciliationSucceeded", REVERT, count=2),
        ks_entry("sha256:2", "ReconciliationFailed", BAD, count=3),
    ]
    rows = timeline("Kustomization", history)
    assert [r["revision"] for r in rows] == [REVERT, BAD]
    first = rows[0]
    assert first["when"] == "2026-01-01T10:05:00Z"
    assert first["since"] == "2026-01-01T10:00:00Z"
    assert first["result"] == "ReconciliationSucceeded"
    assert first["outcome"] == "ok"
    assert first["duration"] == "1.2s"
    assert [readable_duration(d) for d in ("234.515432ms", "10.002575485s", "65.4s", "")] == [
        "235ms",
        "10.0s",
        "1m5s",
        None,
    ]
    assert first["digest"] == "sha256:1"
    assert "manifests changed" in first["changes"]
    assert f"revision main@sha1:{'b' * 10} → main@sha1:{'c' * 10}" in first["changes"]
    assert "result ReconciliationFailed → ReconciliationSucceeded" in first["changes"]
    assert rows[1]["outcome"] == "failed"
    assert rows[1]["changes"] == ["the oldest entry kept (Flux keeps the last 5 distinct states)"]


def test_helmrelease_rows_name_version_chart_and_changes() -> None:
    snap = {
        "name": "erigon",
        "namespace": "ethereum",
        "chartName": "erigon",
        "firstDeployed": "2026-01-01T10:00:00Z",
        "status": "deployed",
        "digest": "sha256:" + "f" * 64,
    }
    history = [
        {
            **snap,
            "version": 2,
            "chartVersion": "1.1.0",
            "appVersion": "3.1",
            "configDigest": "x",
            "lastDeployed": "2026-01-01T11:00:00Z",
        },
        {
            **snap,
            "version": 1,
            "chartVersion": "1.0.0",
            "appVersion": "3.0",
            "configDigest": "y",
            "lastDeployed": "2026-01-01T10:00:00Z",
            "status": "superseded",
        },
    ]
    rows = timeline("HelmRelease", history)
    assert rows[0]["revision"] == "v2 · erigon 1.1.0"
    assert rows[0]["when"] == "2026-01-01T11:00:00Z"
    assert rows[0]["outcome"] == "ok"
    assert rows[0]["changes"] == [
        "chart version 1.0.0 → 1.1.0",
        "app version 3.0 → 3.1",
        "values changed",
    ]
    assert rows[1]["changes"] == ["first release kept in the history"]
    assert timeline("HelmRelease", [{**history[0], "status": "failed"}])[0]["outcome"] == "failed"


def test_other_kinds_have_no_timeline() -> None:
    assert timeline("GitRepository", [{"digest": "x"}]) == []
