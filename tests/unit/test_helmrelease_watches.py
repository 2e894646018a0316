"""What queues a HelmRelease: the indexes of the helm controller, the secondary-watch tracker,
the generated HelmChart, the ConfigMap/Secret digests, and the OCI revision."""

from __future__ import annotations

from typing import Any

from weir.api.helm import HelmReleaseSpec
from weir.helm.chartsource import ChartArtifact, _differs, helmchart_object
from weir.helm.controller import digest_only, index_by_chart, index_by_values_from
from weir.helm.reconciler import _revision
from weir.runtime.dependencies import index_by_dependency
from weir.runtime.watches import DependentsTracker, artifact_state, data_digest, ref_of
from weir.types import Obj


def hr(**spec: Any) -> Obj:
    return {"metadata": {"name": "web", "namespace": "apps"}, "spec": {"interval": "5m", **spec}}


def test_chart_index() -> None:
    template: Obj = {
        "spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository", "name": "r"}}
    }
    assert index_by_chart(hr(chart=template)) == ["HelmChart/apps/apps-web"]
    template["spec"]["sourceRef"]["namespace"] = "flux-system"
    assert index_by_chart(hr(chart=template)) == ["HelmChart/flux-system/apps-web"]
    assert index_by_chart(hr(chartRef={"kind": "OCIRepository", "name": "p"})) == [
        "OCIRepository/apps/p"
    ]
    assert index_by_chart(hr()) == []


def test_dependency_and_values_indexes() -> None:
    obj = hr(
        dependsOn=[{"name": "db"}, {"name": "cache", "namespace": "infra"}],
        valuesFrom=[
            {"kind": "ConfigMap", "name": "v"},
            {"kind": "Secret", "name": "s", "valuesKey": "x"},
            {"kind": "ConfigMap", "name": "v", "valuesKey": "other"},
        ],
    )
    assert index_by_dependency(obj) == ["apps/db", "infra/cache"]
    assert index_by_values_from(obj) == ["ConfigMap/apps/v", "Secret/apps/s"]


class Index:
    def __init__(self, entries: dict[str, list[Obj]]) -> None:
        self.entries = entries

    def by_index(self, index: str, value: str) -> list[Obj]:
        return self.entries.get(value, [])


def test_tracker_queues_dependents_only_on_change() -> None:
    dependents = Index({"HelmChart/apps/apps-web": [hr()]})
    tracker = DependentsTracker(dependents, "chart", artifact_state, ref_of("HelmChart"))
    chart: Obj = {
        "kind": "HelmChart",
        "metadata": {"name": "apps-web", "namespace": "apps"},
        "status": {"artifact": {"revision": "1.0.0", "digest": "sha256:a"}},
    }
    assert list(tracker("ADDED", chart)) == ["apps/web"]
    assert list(tracker("MODIFIED", chart)) == []  # same artifact: nothing to do
    chart["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    assert list(tracker("MODIFIED", chart)) == ["apps/web"]
    chart["status"]["artifact"] = {"revision": "1.1.0", "digest": "sha256:b"}
    assert list(tracker("MODIFIED", chart)) == ["apps/web"]
    # The same revision stored again (a new leader after a failover): at its own address, or
    # at the same (a Service) at a new time. Consumers that failed to fetch it run again.
    chart["status"]["artifact"] = {**chart["status"]["artifact"], "url": "http://b:9090/x"}
    assert list(tracker("MODIFIED", chart)) == ["apps/web"]
    chart["status"]["artifact"] = {**chart["status"]["artifact"], "lastUpdateTime": "t2"}
    assert list(tracker("MODIFIED", chart)) == ["apps/web"]
    assert list(tracker("MODIFIED", chart)) == []
    assert list(tracker("DELETED", chart)) == ["apps/web"]


def test_config_digests() -> None:
    cm: Obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "v",
            "namespace": "apps",
            "resourceVersion": "7",
            "labels": {"a": "b"},
        },
        "data": {"values.yaml": "a: 1\n"},
    }
    small = digest_only(cm)
    assert small["metadata"] == {"name": "v", "namespace": "apps", "resourceVersion": "7"}
    assert small["digest"] == data_digest(cm)
    changed = {**cm, "data": {"values.yaml": "a: 2\n"}}
    assert data_digest(changed) != data_digest(cm)
    relabelled = {**cm, "metadata": {**cm["metadata"], "labels": {}}}
    assert data_digest(relabelled) == data_digest(cm)  # metadata edits do not upgrade


def test_generated_helmchart() -> None:
    obj = hr(
        chart={
            "metadata": {"labels": {"team": "eth"}},
            "spec": {
                "chart": "erigon",
                "version": "0.3.x",
                "sourceRef": {"kind": "HelmRepository", "name": "eth", "namespace": "flux-system"},
                "valuesFiles": ["values.yaml", "values-prod.yaml"],
            },
        }
    )
    spec = HelmReleaseSpec.model_validate(obj["spec"])
    chart = helmchart_object(obj, spec)
    assert chart["metadata"] == {
        "name": "apps-web",
        "namespace": "flux-system",
        "labels": {
            "team": "eth",
            "helm.toolkit.fluxcd.io/name": "web",
            "helm.toolkit.fluxcd.io/namespace": "apps",
        },
    }
    assert chart["spec"] == {
        "chart": "erigon",
        "version": "0.3.x",
        "sourceRef": {"kind": "HelmRepository", "name": "eth"},
        "interval": "5m",
        "reconcileStrategy": "ChartVersion",
        "valuesFiles": ["values.yaml", "values-prod.yaml"],
    }
    live = {"spec": dict(chart["spec"]), "metadata": {**chart["metadata"], "uid": "u"}}
    assert not _differs(chart, live)
    live["spec"]["version"] = "0.2.x"
    assert _differs(chart, live)
    assert _differs(chart, None)


def test_oci_revision_tracks_the_digest() -> None:
    oci = ChartArtifact(
        "OCIRepository", "apps", "p", "http://x/a", "sha256:f", "6.5.3@sha256:0123456789abcdef", {}
    )
    assert oci.oci_digest == "sha256:0123456789abcdef"
    assert _revision("6.5.3", oci) == "6.5.3+0123456789ab"
    chart = ChartArtifact("HelmChart", "apps", "c", "http://x/c", "sha256:f", "6.5.3", {})
    assert chart.oci_digest is None
    assert _revision("6.5.3", chart) == "6.5.3"
