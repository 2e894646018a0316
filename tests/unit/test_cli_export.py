"""`weir export`: what a clean manifest keeps and drops."""

from __future__ import annotations

import yaml

from weir.actions.export import clean, to_yaml

LIVE = {
    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
    "kind": "Kustomization",
    "metadata": {
        "name": "apps",
        "namespace": "flux-system",
        "uid": "0b9c",
        "resourceVersion": "1234",
        "generation": 3,
        "creationTimestamp": "2025-01-01T00:00:00Z",
        "finalizers": ["finalizers.fluxcd.io"],
        "managedFields": [{"manager": "kustomize-controller"}],
        "labels": {"team": "data"},
        "annotations": {
            "reconcile.fluxcd.io/requestedAt": "2025-01-01T00:00:00Z",
            "reconcile.fluxcd.io/forceAt": "2025-01-01T00:00:00Z",
            "kubectl.kubernetes.io/last-applied-configuration": "{}",
            "team.example.com/owner": "alice",
        },
    },
    "spec": {"interval": "10m", "path": "./apps", "prune": True},
    "status": {"observedGeneration": 3},
}


def test_clean_keeps_spec_and_identity() -> None:
    out = clean(LIVE)
    assert list(out) == ["apiVersion", "kind", "metadata", "spec"]
    assert out["metadata"] == {
        "name": "apps",
        "namespace": "flux-system",
        "labels": {"team": "data"},
        "annotations": {"team.example.com/owner": "alice"},
    }
    assert out["spec"] == LIVE["spec"]
    assert "status" in LIVE  # the input is not changed


def test_clean_drops_empty_annotations() -> None:
    obj = {**LIVE, "metadata": {"name": "a", "annotations": {"reconcile.fluxcd.io/x": "1"}}}
    assert clean(obj)["metadata"] == {"name": "a"}


def test_multi_document_yaml() -> None:
    text = to_yaml([clean(LIVE), clean({**LIVE, "metadata": {"name": "b"}})])
    assert text.startswith("---\napiVersion: kustomize.toolkit.fluxcd.io/v1\n")
    docs = list(yaml.safe_load_all(text))
    assert [d["metadata"]["name"] for d in docs] == ["apps", "b"]
    assert to_yaml([]) == ""
