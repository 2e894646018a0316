"""The reconcile handshake's pure parts: tokens, when a request counts as handled and how it
ended, and which sources `--with-source` reconciles first."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from weir.actions.reconcile import (
    ObjectKey,
    ReconcileOutcome,
    judge,
    new_token,
    progress_text,
    source_chain,
)
from weir.api import KINDS

TOKEN = "2025-01-02T03:04:05.123456789Z"


def obj(
    *conditions: tuple[str, str, str],
    handled: str | None = TOKEN,
    generation: int = 2,
    observed: int = 2,
    kind: str = "Kustomization",
    **status: Any,
) -> dict[str, Any]:
    st: dict[str, Any] = {
        "observedGeneration": observed,
        "conditions": [
            {"type": t, "status": s, "reason": "R", "message": m} for t, s, m in conditions
        ],
        **status,
    }
    if handled is not None:
        st["lastHandledReconcileAt"] = handled
    return {
        "apiVersion": KINDS[kind].api_version,
        "kind": kind,
        "metadata": {"name": "apps", "namespace": "flux", "generation": generation},
        "status": st,
    }


def test_new_token() -> None:
    token = new_token()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z", token)
    assert new_token() != new_token()
    fixed = datetime(2025, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)
    assert new_token(fixed) == "2025-01-02T03:04:05.12Z"
    assert new_token(fixed.replace(microsecond=0)) == "2025-01-02T03:04:05Z"


def test_not_handled_yet() -> None:
    assert judge(obj(("Ready", "True", "ok"), handled=None), TOKEN) is None
    assert judge(obj(("Ready", "True", "ok"), handled="older"), TOKEN) is None


def test_success() -> None:
    found = judge(
        obj(
            ("Ready", "True", "Applied revision: main@sha1:ab"), lastAppliedRevision="main@sha1:ab"
        ),
        TOKEN,
    )
    assert found == ReconcileOutcome(
        "Kustomization", "flux", "apps", True, "R", "Applied revision: main@sha1:ab", "main@sha1:ab"
    )
    assert found.describe() == "applied revision main@sha1:ab"


def test_source_success_says_fetched() -> None:
    found = judge(
        obj(
            ("Ready", "True", "stored"), kind="GitRepository", artifact={"revision": "main@sha1:c"}
        ),
        TOKEN,
    )
    assert found is not None
    assert found.describe() == "fetched revision main@sha1:c"


def test_failure_and_stalled() -> None:
    failed = judge(obj(("Ready", "False", "kustomize build failed")), TOKEN)
    assert failed is not None
    assert not failed.ready
    assert failed.describe() == "Kustomization reconciliation failed: kustomize build failed"
    stalled = judge(obj(("Ready", "True", "old"), ("Stalled", "True", "invalid CEL")), TOKEN)
    assert stalled is not None
    assert stalled.message == "invalid CEL"


def test_waits_while_in_progress() -> None:
    assert judge(obj(("Ready", "Unknown", "Building manifests")), TOKEN) is None
    assert judge(obj(), TOKEN) is None  # no Ready condition yet
    # handled, Ready=True, but the spec changed since: the next run decides
    assert judge(obj(("Ready", "True", "ok"), generation=3, observed=2), TOKEN) is None


def test_progress_text() -> None:
    waiting = obj(("Ready", "True", "ok"), handled=None)
    assert progress_text(waiting, TOKEN) == "waiting for Kustomization flux/apps to be reconciled"
    running = obj(("Reconciling", "True", "Running health checks"), ("Ready", "Unknown", "x"))
    assert progress_text(running, TOKEN) == "Kustomization flux/apps: Running health checks"


def _keys(chain: list[ObjectKey]) -> list[str]:
    return [str(k) for k in chain]


def test_source_chain_kustomization() -> None:
    ks: dict[str, Any] = {
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux"},
        "spec": {"sourceRef": {"kind": "OCIRepository", "name": "repo", "namespace": "src"}},
    }
    assert _keys(source_chain(KINDS["Kustomization"], ks)) == ["OCIRepository src/repo"]
    ks["spec"]["sourceRef"] = {"kind": "ExternalArtifact", "name": "x"}
    assert source_chain(KINDS["Kustomization"], ks) == []


def test_source_chain_helm_release() -> None:
    hr: dict[str, Any] = {
        "kind": "HelmRelease",
        "metadata": {"name": "podinfo", "namespace": "apps"},
        "spec": {
            "chart": {
                "spec": {
                    "chart": "podinfo",
                    "sourceRef": {"kind": "HelmRepository", "name": "charts", "namespace": "flux"},
                }
            }
        },
    }
    # the generated HelmChart is <hr-ns>-<hr-name> in the source's namespace
    assert _keys(source_chain(KINDS["HelmRelease"], hr)) == [
        "HelmRepository flux/charts",
        "HelmChart flux/apps-podinfo",
    ]
    hr["status"] = {"helmChart": "flux/custom"}
    assert _keys(source_chain(KINDS["HelmRelease"], hr))[-1] == "HelmChart flux/custom"
    hr["spec"] = {"chartRef": {"kind": "OCIRepository", "name": "podinfo"}}
    assert _keys(source_chain(KINDS["HelmRelease"], hr)) == ["OCIRepository apps/podinfo"]


@pytest.mark.parametrize("kind", ["GitRepository", "HelmRepository", "Bucket"])
def test_sources_have_no_source(kind: str) -> None:
    assert source_chain(KINDS[kind], {"metadata": {"namespace": "a"}, "spec": {}}) == []


def test_source_chain_helm_chart() -> None:
    chart = {
        "metadata": {"name": "c", "namespace": "a"},
        "spec": {"sourceRef": {"kind": "GitRepository", "name": "g"}},
    }
    assert _keys(source_chain(KINDS["HelmChart"], chart)) == ["GitRepository a/g"]
