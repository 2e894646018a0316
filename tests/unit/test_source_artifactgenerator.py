"""ArtifactGenerator and ExternalArtifact pieces that need no server: the observed-sources
digest, spec validation, the reconcile annotation, the indexes, and the consumers'
ExternalArtifact feature gate."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from weir.api.helm import HelmReleaseSpec
from weir.helm.chartsource import ChartArtifact, ChartSources
from weir.kustomize.reconciler import KustomizationReconciler, Sources
from weir.kustomize.settings import KustomizeSettings
from weir.runtime.result import Stalled
from weir.source.artifactgenerator import (
    ArtifactGeneratorReconciler,
    ObservedSource,
    generator_of,
    index_by_sources,
    sources_digest,
)
from weir.source.storage import Storage
from weir.types import Obj


def generator(**spec: Any) -> Obj:
    return {
        "apiVersion": "source.extensions.fluxcd.io/v1beta1",
        "kind": "ArtifactGenerator",
        "metadata": {"name": "gen", "namespace": "apps", "generation": 1, "uid": "u1"},
        "spec": {
            "sources": [{"alias": "repo", "kind": "GitRepository", "name": "repo"}],
            "artifacts": [{"name": "a", "copy": [{"from": "@repo/x", "to": "@artifact/"}]}],
            **spec,
        },
        "status": {},
    }


def reconciler(tmp_path: Path, **kwargs: Any) -> ArtifactGeneratorReconciler:
    return ArtifactGeneratorReconciler(
        None,  # type: ignore[arg-type]  # no API call before validation
        Storage(tmp_path, "storage.invalid"),
        {"GitRepository": lambda ns, n: None},
        None,
        **kwargs,
    )


def test_sources_digest_is_source_watchers() -> None:
    sources = {
        "b": ObservedSource("Bucket", "ns", "b", "sha256:2", "sha256:r2", "http://x/b"),
        "a": ObservedSource("GitRepository", "ns", "a", "sha256:1", "main@sha1:c", "http://x/a"),
    }
    text = (
        "a=[digest=sha256:1,revision=main@sha1:c,url=http://x/a]"
        "|b=[digest=sha256:2,revision=sha256:r2,url=http://x/b]"
    )
    assert sources_digest(sources) == "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("spec", "reason", "message"),
    [
        (
            {
                "sources": [
                    {"alias": "repo", "kind": "GitRepository", "name": "a"},
                    {"alias": "repo", "kind": "Bucket", "name": "b"},
                ]
            },
            "ValidationFailed",
            "duplicate source alias 'repo' found",
        ),
        (
            {
                "artifacts": [
                    {"name": "a", "copy": [{"from": "@repo/x", "to": "@artifact/"}]},
                    {"name": "a", "copy": [{"from": "@repo/y", "to": "@artifact/"}]},
                ]
            },
            "ValidationFailed",
            "duplicate artifact name 'a' found",
        ),
        (
            {
                "artifacts": [
                    {
                        "name": "a",
                        "revision": "@nope",
                        "copy": [{"from": "@repo/x", "to": "@artifact/"}],
                    }
                ]
            },
            "ValidationFailed",
            "artifact a revision source alias 'nope' not found",
        ),
        (
            {"artifacts": [{"name": "a", "copy": [{"from": "repo/x", "to": "@artifact/"}]}]},
            "ValidationFailed",
            "invalid ArtifactGenerator: artifacts.0.copy.0.from",
        ),
    ],
)
async def test_invalid_specs_stall(
    tmp_path: Path, spec: dict[str, Any], reason: str, message: str
) -> None:
    with pytest.raises(Stalled, match=message) as stalled:
        await reconciler(tmp_path).reconcile(generator(**spec))
    assert stalled.value.reason == reason


async def test_cross_namespace_sources_can_be_refused(tmp_path: Path) -> None:
    obj = generator(
        sources=[{"alias": "repo", "kind": "GitRepository", "name": "r", "namespace": "other"}]
    )
    with pytest.raises(Stalled, match="cross-namespace reference to source GitRepository/other/r"):
        await reconciler(tmp_path, no_cross_namespace_refs=True).reconcile(obj)
    result = await reconciler(tmp_path).reconcile(obj)  # allowed by default: waits for it
    assert (result.reason, result.message) == (
        "SourceFetchFailed",
        "get sources failed: GitRepository 'other/r' not found",
    )


def test_reconcile_annotation_pauses(tmp_path: Path) -> None:
    rec = reconciler(tmp_path)
    annotated = generator()
    annotated["metadata"]["annotations"] = {"source.extensions.fluxcd.io/reconcile": "Disabled"}
    assert rec.is_suspended(annotated)
    annotated["metadata"]["annotations"]["source.extensions.fluxcd.io/reconcile"] = "enabled"
    assert not rec.is_suspended(annotated)
    assert not rec.is_suspended(generator(suspend=True))  # not a field of this kind


def test_indexes() -> None:
    obj = generator(
        sources=[
            {"alias": "a", "kind": "GitRepository", "name": "repo"},
            {"alias": "b", "kind": "Bucket", "name": "cfg", "namespace": "other"},
        ]
    )
    assert index_by_sources(obj) == ["Bucket/other/cfg", "GitRepository/apps/repo"]
    ea = {
        "metadata": {"name": "x", "namespace": "apps"},
        "spec": {"sourceRef": {"kind": "ArtifactGenerator", "name": "gen"}},
    }
    assert generator_of(ea) == ["apps/gen"]
    assert generator_of({"metadata": {}, "spec": {}}) == []


async def test_consumers_refuse_external_artifacts_without_the_feature_gate() -> None:
    ks = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "apps", "generation": 1},
        "spec": {
            "interval": "10m",
            "prune": True,
            "sourceRef": {"kind": "ExternalArtifact", "name": "apps"},
        },
        "status": {},
    }
    gated = KustomizationReconciler(
        None,  # type: ignore[arg-type]
        Sources({"ExternalArtifact": lambda ns, n: None}),
        lambda ns, n: None,
        KustomizeSettings(external_artifact=False),
    )
    with pytest.raises(Stalled, match="the ExternalArtifact feature gate is disabled") as refused:
        await gated.reconcile(ks)
    assert refused.value.reason == "AccessDenied"

    hr: Obj = {
        "metadata": {"name": "web", "namespace": "apps", "generation": 1},
        "spec": {"interval": "10m", "chartRef": {"kind": "ExternalArtifact", "name": "chart"}},
    }
    spec = HelmReleaseSpec.model_validate(hr["spec"])
    charts = ChartSources(None, lambda ns, n: None, lambda ns, n: None)  # type: ignore[arg-type]
    with pytest.raises(Stalled, match="the ExternalArtifact feature gate is disabled"):
        await charts.artifact(hr, spec)

    ea: Obj = {
        "metadata": {"name": "chart", "namespace": "apps", "generation": 1},
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "observedGeneration": 1, "reason": "Succeeded"}
            ],
            "artifact": {"url": "http://x/a.tgz", "digest": "sha256:1", "revision": "latest@x"},
        },
    }
    allowed = ChartSources(
        None,  # type: ignore[arg-type]
        lambda ns, n: None,
        lambda ns, n: None,
        external_artifacts=lambda ns, n: ea if n == "chart" else None,
    )
    found = await allowed.artifact(hr, spec)  # Ready although it has no observedGeneration
    assert isinstance(found, ChartArtifact)
    assert (found.kind, found.revision, found.oci_digest) == ("ExternalArtifact", "latest@x", None)
