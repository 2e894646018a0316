"""The kind registry: names, lookup, parse_object."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from weir.api import KINDS, HelmRelease, Kustomization, UnknownKindError, kind_for, lookup
from weir.api import parse_object as parse
from weir.errors import ConfigError


def test_kinds() -> None:
    assert set(KINDS) == {
        "GitRepository",
        "OCIRepository",
        "HelmRepository",
        "HelmChart",
        "Bucket",
        "ExternalArtifact",
        "ArtifactGenerator",
        "Kustomization",
        "HelmRelease",
        "Provider",
        "Alert",
        "Receiver",
        "ResourceSet",
        "ResourceSetInputProvider",
        "FluxInstance",
        "FluxReport",
    }
    assert {k: i.api_version for k, i in KINDS.items()} == {
        "GitRepository": "source.toolkit.fluxcd.io/v1",
        "OCIRepository": "source.toolkit.fluxcd.io/v1",
        "HelmRepository": "source.toolkit.fluxcd.io/v1",
        "HelmChart": "source.toolkit.fluxcd.io/v1",
        "Bucket": "source.toolkit.fluxcd.io/v1",
        "ExternalArtifact": "source.toolkit.fluxcd.io/v1",
        "ArtifactGenerator": "source.extensions.fluxcd.io/v1beta1",
        "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
        "HelmRelease": "helm.toolkit.fluxcd.io/v2",
        "Provider": "notification.toolkit.fluxcd.io/v1beta3",
        "Alert": "notification.toolkit.fluxcd.io/v1beta3",
        "Receiver": "notification.toolkit.fluxcd.io/v1",
        "ResourceSet": "fluxcd.controlplane.io/v1",
        "ResourceSetInputProvider": "fluxcd.controlplane.io/v1",
        "FluxInstance": "fluxcd.controlplane.io/v1",
        "FluxReport": "fluxcd.controlplane.io/v1",
    }


def test_kind_info() -> None:
    ks = KINDS["Kustomization"]
    assert ks.model is Kustomization
    assert ks.plural == "kustomizations"
    assert ks.singular == "kustomization"
    assert ks.short_names == ("ks",)
    assert ks.categories == ("all", "fluxcd", "fluxcd-appliers")
    assert ks.namespaced
    assert ks.list_kind == "KustomizationList"
    assert ks.crd_name == "kustomizations.kustomize.toolkit.fluxcd.io"
    assert [c.name for c in ks.printer_columns] == ["Age", "Ready", "Status"]
    assert ks.has_status
    assert KINDS["Provider"].has_status  # weir's addition to v1beta3 (ADR 0008)
    assert KINDS["Alert"].has_status
    assert KINDS["Receiver"].has_status
    assert [c.name for c in KINDS["HelmChart"].printer_columns] == [
        "Chart",
        "Version",
        "Source Kind",
        "Source Name",
        "Age",
        "Ready",
        "Status",
    ]
    assert KINDS["GitRepository"].categories == ("all", "fluxcd", "fluxcd-sources")
    assert KINDS["Receiver"].categories == ("all", "fluxcd", "fluxcd-notifications")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("ks", "Kustomization"),
        ("hr", "HelmRelease"),
        ("gitrepo", "GitRepository"),
        ("ocirepo", "OCIRepository"),
        ("helmrepo", "HelmRepository"),
        ("hc", "HelmChart"),
        ("helmchart", "HelmChart"),
        ("helmcharts", "HelmChart"),
        ("Bucket", "Bucket"),
        ("KUSTOMIZATION", "Kustomization"),
        ("kustomizations", "Kustomization"),
        ("helmreleases.helm.toolkit.fluxcd.io", "HelmRelease"),
        ("ks.kustomize.toolkit.fluxcd.io", "Kustomization"),
        ("receiver", "Receiver"),
        (" alerts ", "Alert"),
    ],
)
def test_lookup(name: str, kind: str) -> None:
    assert lookup(name).kind == kind


def test_lookup_unknown() -> None:
    with pytest.raises(UnknownKindError, match="unknown kind 'deploy'") as exc:
        lookup("deploy")
    assert isinstance(exc.value, ConfigError)
    with pytest.raises(UnknownKindError):
        lookup("ks.helm.toolkit.fluxcd.io")


def test_kind_for_names_the_served_version() -> None:
    assert kind_for("helm.toolkit.fluxcd.io/v2", "HelmRelease").kind == "HelmRelease"
    with pytest.raises(UnknownKindError, match=r"use helm\.toolkit\.fluxcd\.io/v2"):
        kind_for("helm.toolkit.fluxcd.io/v2beta2", "HelmRelease")
    with pytest.raises(UnknownKindError, match="flux migrate"):
        kind_for("source.toolkit.fluxcd.io/v1beta2", "OCIRepository")
    with pytest.raises(UnknownKindError, match="not a kind weir serves"):
        kind_for("apps/v1", "Deployment")


def test_parse_object() -> None:
    obj = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "erigon", "namespace": "ethereum"},
        "spec": {"interval": "5m", "chartRef": {"kind": "OCIRepository", "name": "erigon"}},
    }
    model = parse(obj)
    assert isinstance(model, HelmRelease)
    assert model.spec.chart_ref is not None
    assert model.spec.chart_ref.kind == "OCIRepository"
    assert model.name == "erigon"
    assert model.namespace == "ethereum"


def test_parse_object_errors() -> None:
    with pytest.raises(UnknownKindError, match="no apiVersion and kind"):
        parse({"metadata": {"name": "x"}})
    with pytest.raises(UnknownKindError):
        parse({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    with pytest.raises(ValidationError):
        parse({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "spec": {}})
