"""HelmRepository, HelmChart and OCIRepository reconcilers: the paths that need no server
(URL checks, waiting for sources, version selection from a stored index, the no-op check) and
the artifact file helper. Fetching from real servers is covered end to end in
tests/e2e/test_helm_delivery.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from weir.runtime import conditions
from weir.runtime.result import Outcome, ReconcileError, Stalled
from weir.source.helmchart import HelmChartReconciler
from weir.source.helmrepository import HelmRepositoryReconciler
from weir.source.ocirepository import OCIRepositoryReconciler
from weir.source.skeleton import store_file
from weir.source.storage import Storage
from weir.types import Obj

INDEX = b"""apiVersion: v1
entries:
  app:
  - {name: app, version: 1.2.0, urls: [app-1.2.0.tgz]}
  - {name: app, version: 1.0.0, urls: [app-1.0.0.tgz]}
"""


def obj(kind: str, name: str = "x", **spec: Any) -> Obj:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "apps", "generation": 1},
        "spec": {"interval": "1m", **spec},
        "status": {},
    }


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(tmp_path / "storage", "storage.invalid")


def no_engine() -> Any:
    raise AssertionError("no packaging in these tests")


async def test_store_file(storage: Storage) -> None:
    artifact = await store_file(
        storage,
        b"hello",
        kind="helmchart",
        namespace="apps",
        name="web",
        filename="app-1.0.0.tgz",
        revision="1.0.0",
        metadata={"a": "b"},
    )
    assert artifact["path"] == "helmchart/apps/web/app-1.0.0.tgz"
    assert artifact["url"] == "http://storage.invalid/helmchart/apps/web/app-1.0.0.tgz"
    assert artifact["digest"] == (
        "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    )
    assert (artifact["size"], artifact["revision"], artifact["metadata"]) == (
        5,
        "1.0.0",
        {"a": "b"},
    )
    assert storage.local_path(artifact).read_bytes() == b"hello"
    assert storage.verify(artifact)
    assert [p.name for p in storage.local_path(artifact).parent.iterdir()] == ["app-1.0.0.tgz"]


async def test_helm_repository_url_checks_and_oci_type(storage: Storage) -> None:
    rec = HelmRepositoryReconciler(None, storage)  # type: ignore[arg-type]
    with pytest.raises(Stalled, match="use http:// or https://"):
        await rec.reconcile(obj("HelmRepository", url="oci://registry.local/charts"))
    oci = obj("HelmRepository", url="oci://registry.local/charts", type="oci")
    oci["status"] = {"artifact": {"path": "old"}}
    result = await rec.reconcile(oci)
    assert result.outcome is Outcome.SUCCEEDED
    assert "type OCI" in result.message
    assert "artifact" not in oci["status"]
    assert oci["status"]["url"] == "oci://registry.local/charts"
    assert rec.interval(oci) is None  # static: never polled
    assert rec.interval(obj("HelmRepository", url="https://x")) == 60.0
    with pytest.raises(Stalled, match="needs oci://"):
        await rec.reconcile(obj("HelmRepository", url="https://x", type="oci"))


async def test_oci_repository_refusals(storage: Storage) -> None:
    rec = OCIRepositoryReconciler(None, storage)  # type: ignore[arg-type]
    with pytest.raises(Stalled) as bad:
        await rec.reconcile(obj("OCIRepository", url="https://registry.local/app"))
    assert bad.value.reason == "URLInvalid"
    with pytest.raises(Stalled, match="tag or digest"):
        await rec.reconcile(obj("OCIRepository", url="oci://registry.local/app:v1"))
    with pytest.raises(Stalled, match="verify"):
        await rec.reconcile(
            obj("OCIRepository", url="oci://registry.local/app", verify={"provider": "cosign"})
        )
    with pytest.raises(Stalled, match="provider 'aws'"):
        await rec.reconcile(obj("OCIRepository", url="oci://registry.local/app", provider="aws"))


def chart_reconciler(storage: Storage, sources: dict[str, Obj]) -> HelmChartReconciler:
    def lookup(kind: str) -> Any:
        return lambda ns, name: sources.get(f"{kind}/{ns}/{name}")

    return HelmChartReconciler(
        None,
        storage,
        {k: lookup(k) for k in ("HelmRepository", "GitRepository", "Bucket")},
        no_engine,
        requeue_dependency=7.0,
    )


def chart(version: str = "*", **spec: Any) -> Obj:
    return obj(
        "HelmChart",
        "apps-web",
        chart="app",
        version=version,
        sourceRef={"kind": "HelmRepository", "name": "repo"},
        **spec,
    )


async def test_helm_chart_waits_for_its_source(storage: Storage) -> None:
    sources: dict[str, Obj] = {}
    rec = chart_reconciler(storage, sources)
    with pytest.raises(ReconcileError) as missing:
        await rec.reconcile(chart())
    assert missing.value.retry_after == 7.0
    assert "HelmRepository 'apps/repo' not found" in missing.value.message
    sources["HelmRepository/apps/repo"] = obj("HelmRepository", "repo", url="https://charts")
    result = await rec.reconcile(chart())
    assert (result.outcome, result.reason, result.delay) == (
        Outcome.WAITING,
        "NoSourceArtifact",
        7.0,
    )
    bucket = chart()
    bucket["spec"]["sourceRef"]["kind"] = "OCIRepository"
    with pytest.raises(Stalled, match="unsupported source kind"):
        await rec.reconcile(bucket)
    with pytest.raises(Stalled, match="verify"):
        await rec.reconcile(chart(verify={"provider": "cosign"}))


async def test_helm_chart_version_selection_from_the_stored_index(storage: Storage) -> None:
    repo = obj("HelmRepository", "repo", url="https://charts.invalid")
    repo["status"]["artifact"] = dict(
        await store_file(
            storage,
            INDEX,
            kind="helmrepository",
            namespace="apps",
            name="repo",
            filename="index-abc.yaml",
            revision="sha256:abc",
        )
    )
    rec = chart_reconciler(storage, {"HelmRepository/apps/repo": repo})

    missing = chart("9.x")
    with pytest.raises(ReconcileError) as err:
        await rec.reconcile(missing)
    assert err.value.reason == "ChartPullFailed"
    assert "9.x" in err.value.message
    assert "1.2.0" in err.value.message
    assert conditions.is_true(missing, "FetchFailed")

    # The chart version already stored: no download, the artifact stays.
    current = chart("~1.2")
    current["status"] = {
        "observedChartName": "app",
        "artifact": dict(
            await store_file(
                storage,
                b"chart",
                kind="helmchart",
                namespace="apps",
                name="apps-web",
                filename="app-1.2.0.tgz",
                revision="1.2.0",
            )
        ),
    }
    result = await rec.reconcile(current)
    assert (result.outcome, result.reason) == (Outcome.SUCCEEDED, "ChartPullSucceeded")
    assert result.message == "pulled 'app' chart with version '1.2.0'"
    assert conditions.is_true(current, "ArtifactInStorage")

    # valuesFiles make the revision <version>+<generation>: a new artifact is needed.
    with_values = chart("~1.2", valuesFiles=["values-prod.yaml"])
    with_values["status"] = dict(current["status"])
    with_values["metadata"]["generation"] = 4
    assert not rec._unchanged(with_values, "1.2.0+4", "app", ["values-prod.yaml"])
