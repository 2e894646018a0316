"""HelmRelease status as helm-controller writes it: condition types and reasons, the messages of
each action, ``status.history`` snapshots, and the Ready summary.

Conditions the reconciler owns (the runtime owns Ready / Reconciling / Stalled):

- ``Released``: True ``InstallSucceeded``/``UpgradeSucceeded``; False
  ``InstallFailed``/``UpgradeFailed``;
- ``TestSuccess``: True ``TestSucceeded``; False ``TestFailed`` (removed by a new release);
- ``Remediated``: True ``RollbackSucceeded``/``UninstallSucceeded``; False
  ``RollbackFailed``/``UninstallFailed`` (removed by the next successful release);
- ``Drifted``: True ``DriftDetected`` (mode ``warn``, or a failed correction); False
  ``NoDriftDetected`` or ``DriftCorrected``.

:func:`summary` derives what Ready says after a run: a remediation wins (Ready False with its
reason), then a failed release, then a failed test (unless test failures are ignored); else
Ready is True with the message of the last test, or of the release.

History (``status.history``): snapshots newest first, one per Helm release revision, kept down
to the previous successful one (deployed or superseded, without failed tests unless they are
ignored), at most 5.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from weir.helmengine.engine import HookRun, Release
from weir.runtime import conditions
from weir.types import Obj

RELEASED = "Released"
TEST_SUCCESS = "TestSuccess"
REMEDIATED = "Remediated"
DRIFTED = "Drifted"

INSTALL_SUCCEEDED = "InstallSucceeded"
INSTALL_FAILED = "InstallFailed"
UPGRADE_SUCCEEDED = "UpgradeSucceeded"
UPGRADE_FAILED = "UpgradeFailed"
TEST_SUCCEEDED = "TestSucceeded"
TEST_FAILED = "TestFailed"
ROLLBACK_SUCCEEDED = "RollbackSucceeded"
ROLLBACK_FAILED = "RollbackFailed"
UNINSTALL_SUCCEEDED = "UninstallSucceeded"
UNINSTALL_FAILED = "UninstallFailed"
DRIFT_DETECTED = "DriftDetected"
NO_DRIFT_DETECTED = "NoDriftDetected"
DRIFT_CORRECTED = "DriftCorrected"
RETRIES_EXCEEDED = "RetriesExceeded"

HISTORY_LIMIT = 5
SUCCESSFUL = ("deployed", "superseded")

# ------------------------------------------------------------------------------ messages


def chart_display(name: str, version: str) -> str:
    return f"{name}@{version}"


def release_display(namespace: str, name: str, revision: int | None = None) -> str:
    """``<ns>/<name>.v<revision>`` (Flux's form; without the revision before one exists)."""
    return f"{namespace}/{name}" + (f".v{revision}" if revision else "")


def succeeded(action: str, release: Release, chart: str) -> str:
    """``Helm install succeeded for release apps/podinfo.v1 with chart podinfo@6.5.3``."""
    return f"Helm {action} succeeded for release {release.key} with chart {chart}"


def failed(action: str, namespace: str, name: str, chart: str, error: object) -> str:
    return (
        f"Helm {action} failed for release {release_display(namespace, name)} with chart "
        f"{chart}: {error}"
    )


def tested(release: Release, chart: str) -> str:
    hooks = len(release.test_hooks)
    done = f"{hooks} test hook(s) completed successfully" if hooks else "no test hooks"
    return f"Helm test succeeded for release {release.key} with chart {chart}: {done}"


# ------------------------------------------------------------------------------- summary


def summary(obj: Obj, *, ignore_test_failures: bool) -> tuple[bool, str, str]:
    """(ready, reason, message) from the release conditions (see the module docstring)."""
    remediated = conditions.get(obj, REMEDIATED)
    if remediated is not None and remediated.get("status") == "True":
        return False, str(remediated["reason"]), str(remediated["message"])
    released = conditions.get(obj, RELEASED)
    if released is not None and released.get("status") == "False":
        return False, str(released["reason"]), str(released["message"])
    test = conditions.get(obj, TEST_SUCCESS)
    if test is not None and test.get("status") == "False" and not ignore_test_failures:
        return False, str(test["reason"]), str(test["message"])
    if test is not None and test.get("status") == "True":
        return True, str(test["reason"]), str(test["message"])
    if released is not None:
        return True, str(released["reason"]), str(released["message"])
    return True, "Succeeded", "Release reconciliation succeeded"


# ------------------------------------------------------------------------------- history

_FRACTION = re.compile(r"(\.\d{1,9})")


def timestamp(value: str | None) -> str | None:
    """A Helm time (Go's RFC 3339 with nanoseconds and an offset) as ``metav1.Time``
    (``2024-01-02T03:04:05Z``)."""
    if not value:
        return None
    from datetime import UTC, datetime  # noqa: PLC0415

    text = _FRACTION.sub("", str(value).strip()).replace("Z", "+00:00")
    text = re.sub(r" ([+-]\d{4}) \w+$", r"\1", text)  # Go's default "2006-01-02 15:04:05 -0700 MST"
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_hooks(hooks: Mapping[str, HookRun]) -> dict[str, dict[str, str]]:
    """``testHooks`` of a snapshot: ``{name: {phase, lastStarted, lastCompleted}}``."""
    out: dict[str, dict[str, str]] = {}
    for name, hook in sorted(hooks.items()):
        entry = {"phase": hook.phase}
        started, completed = timestamp(hook.started_at), timestamp(hook.completed_at)
        if started:
            entry["lastStarted"] = started
        if completed:
            entry["lastCompleted"] = completed
        out[name] = entry
    return out


def snapshot_digest(release: Release, config_digest: str) -> str:
    """``sha256:`` over what identifies a release revision (weir's own encoding: name,
    namespace, revision, chart, config digest and manifest)."""
    doc = {
        "name": release.name,
        "namespace": release.namespace,
        "version": release.revision,
        "chart": [release.chart_name, release.chart_version],
        "config": config_digest,
        "manifest": hashlib.sha256(release.manifest.encode()).hexdigest(),
    }
    encoded = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(encoded).hexdigest()


def snapshot(
    release: Release,
    *,
    config_digest: str,
    first_deployed: str | None = None,
    action: str | None = None,
    oci_digest: str | None = None,
) -> Obj:
    """A ``status.history`` entry for ``release``."""
    last = timestamp(release.deployed_at) or conditions.now_rfc3339()
    entry: Obj = {
        "name": release.name,
        "namespace": release.namespace,
        "version": release.revision,
        "status": release.status,
        "chartName": release.chart_name,
        "chartVersion": release.chart_version,
        "appVersion": release.app_version,
        "configDigest": config_digest,
        "firstDeployed": timestamp(release.first_deployed) or first_deployed or last,
        "lastDeployed": last,
        "digest": snapshot_digest(release, config_digest),
    }
    if action:
        entry["action"] = action
    if oci_digest:
        entry["ociDigest"] = oci_digest
    if release.status == "uninstalled":
        entry["deleted"] = last
    return {k: v for k, v in entry.items() if v not in (None, "")}


def find(history: Sequence[Obj], name: str, namespace: str, version: int) -> Obj | None:
    for entry in history:
        if (
            entry.get("name") == name
            and entry.get("namespace") == namespace
            and entry.get("version") == version
        ):
            return entry
    return None


def record(history: Sequence[Obj], entry: Obj) -> list[Obj]:
    """``entry`` first; an older entry of the same revision is replaced (test hooks kept)."""
    out: list[Obj] = []
    for old in history:
        same = (old.get("name"), old.get("namespace"), old.get("version")) == (
            entry.get("name"),
            entry.get("namespace"),
            entry.get("version"),
        )
        if same:
            if "testHooks" in old and "testHooks" not in entry:
                entry = {**entry, "testHooks": old["testHooks"]}
            continue
        out.append(old)
    return [entry, *out]


def refresh(history: Sequence[Obj], releases: Sequence[Release]) -> list[Obj]:
    """Entries with the statuses Helm's storage reports now (``deployed`` -> ``superseded``
    after an upgrade); entries whose revision left the storage are dropped."""
    by_key: dict[tuple[Any, Any, Any], Release] = {
        (r.name, r.namespace, r.revision): r for r in releases
    }
    out: list[Obj] = []
    for entry in history:
        rel = by_key.get((entry.get("name"), entry.get("namespace"), entry.get("version")))
        if rel is None:
            continue
        out.append({**entry, "status": rel.status} if rel.status != entry.get("status") else entry)
    return out


def _failed_tests(entry: Mapping[str, Any]) -> bool:
    hooks = entry.get("testHooks") or {}
    return any((h or {}).get("phase") == "Failed" for h in hooks.values())


def truncate(history: Sequence[Obj], *, ignore_test_failures: bool = False) -> list[Obj]:
    """Newest first, down to the previous successful entry, at most :data:`HISTORY_LIMIT`."""
    ordered = sorted(history, key=lambda e: int(e.get("version") or 0), reverse=True)
    for i, entry in enumerate(ordered[1:], start=1):
        if entry.get("status") in SUCCESSFUL and (ignore_test_failures or not _failed_tests(entry)):
            ordered = ordered[: i + 1]
            break
    return ordered[:HISTORY_LIMIT]


def digest_of(data: Any) -> str:
    """``sha256:`` of a JSON value (``observedCommonMetadataDigest`` and friends)."""
    encoded = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(encoded).hexdigest()
