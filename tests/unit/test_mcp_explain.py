"""explain_failure's reading of error messages: phase, files, line."""

from __future__ import annotations

import pytest

from weir.mcp.tools.explain import files_in, last_error


@pytest.mark.parametrize(
    ("message", "files"),
    [
        (
            "kustomize build failed: failed to decode Kubernetes YAML from apps/broken.yaml: "
            "yaml: line 1: did not find expected node content",
            ["apps/broken.yaml"],
        ),
        (
            "accumulating resources from 'base/kustomization.yml': missing",
            ["base/kustomization.yml"],
        ),
        ("invalid values.json and ./deploy/web.yaml", ["values.json", "deploy/web.yaml"]),
        ("Deployment/apps/web dry-run failed (Invalid): spec.replicas", []),
        ("see https://example.com/x.yaml", []),
    ],
)
def test_files_in_messages(message: str, files: list[str]) -> None:
    assert files_in(message) == files


def test_last_error_names_phase_files_and_line() -> None:
    error = last_error(
        {
            "type": "Ready",
            "status": "False",
            "reason": "BuildFailed",
            "message": "failed to decode Kubernetes YAML from broken/bad.yaml: yaml: line 1: x",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
    )
    assert error["phase"].startswith("building the manifests")
    assert error["files"] == ["broken/bad.yaml"]
    assert error["line"] == 1
    assert last_error({"reason": "Whatever", "message": "m"})["phase"] == "reconciling"


def test_files_in_hints_do_not_count_when_the_error_names_one() -> None:
    message = (
        "failed to decode Kubernetes YAML from broken/bad.yaml: bad; fix the file, or add a "
        "kustomization.yaml listing the manifests"
    )
    assert files_in(message) == ["broken/bad.yaml"]
    assert files_in("nothing named; see kustomization.yaml") == ["kustomization.yaml"]
