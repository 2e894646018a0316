"""The revision a HelmRelease's chart came from, which its Events carry as ``originRevision``
(so commit status providers can mark the commit a release failed on)."""

from __future__ import annotations

from typing import Any, cast

from kubernetes_asyncio.client import ApiClient

from weir.helm.chartsource import ChartArtifact, ChartSources

Obj = dict[str, Any]
GIT_REV = "main@sha1:0123456789abcdef0123456789abcdef01234567"


def source(kind: str, source_kind: str | None = None, **artifact: Any) -> Obj:
    spec = {"sourceRef": {"kind": source_kind, "name": "s"}} if source_kind else {}
    return {
        "kind": kind,
        "metadata": {"name": "c", "namespace": "apps", "generation": 1},
        "spec": spec,
        "status": {
            "observedGeneration": 1,
            "observedSourceArtifactRevision": GIT_REV,
            "conditions": [{"type": "Ready", "status": "True"}],
            "artifact": {
                "url": "http://x/c.tgz",
                "digest": "sha256:f",
                "revision": "1.0.0",
                **artifact,
            },
        },
    }


def origin(kind: str, obj: Obj) -> str | None:
    sources = ChartSources(cast(ApiClient, None), lambda ns, n: None, lambda ns, n: None)
    found = sources._ready_artifact(kind, obj)
    assert isinstance(found, ChartArtifact)
    return found.origin_revision


def test_git_and_bucket_charts_carry_the_source_revision() -> None:
    assert origin("HelmChart", source("HelmChart", "GitRepository")) == GIT_REV
    assert origin("HelmChart", source("HelmChart", "Bucket")) == GIT_REV


def test_helm_repository_charts_have_no_origin() -> None:
    assert origin("HelmChart", source("HelmChart", "HelmRepository")) is None


def test_oci_artifacts_carry_their_source_annotation() -> None:
    meta = {"org.opencontainers.image.revision": "v1@sha1:abc"}
    assert origin("OCIRepository", source("OCIRepository", metadata=meta)) == "v1@sha1:abc"
    assert origin("OCIRepository", source("OCIRepository")) is None
