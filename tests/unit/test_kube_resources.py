"""ResourceRef paths and discovery parsing."""

from __future__ import annotations

import pytest

from weir.kube.resources import ResourceRef, parse_resource_list, split_api_version

CM = ResourceRef("", "v1", "configmaps", True, "ConfigMap")
KS = ResourceRef("kustomize.toolkit.fluxcd.io", "v1", "kustomizations", True)
NS = ResourceRef("", "v1", "namespaces", False)


def test_paths() -> None:
    assert CM.path() == "/api/v1/configmaps"
    assert CM.path("a") == "/api/v1/namespaces/a/configmaps"
    assert CM.path("a", "b") == "/api/v1/namespaces/a/configmaps/b"
    assert KS.path("a", "b", "status") == (
        "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/a/kustomizations/b/status"
    )
    assert NS.path("ignored", "x") == "/api/v1/namespaces/x"
    with pytest.raises(ValueError, match="empty name"):
        CM.path("a", "")


def test_api_version_and_equality() -> None:
    assert CM.api_version == "v1"
    assert KS.api_version == "kustomize.toolkit.fluxcd.io/v1"
    assert ResourceRef("", "v1", "configmaps", True) == CM  # kind is informative only


def test_split_api_version() -> None:
    assert split_api_version("apps/v1") == ("apps", "v1")
    assert split_api_version("v1") == ("", "v1")


def test_parse_resource_list_skips_subresources() -> None:
    body = {
        "kind": "APIResourceList",
        "groupVersion": "apps/v1",
        "resources": [
            {"name": "deployments", "kind": "Deployment", "namespaced": True},
            {"name": "deployments/status", "kind": "Deployment", "namespaced": True},
            {"name": "deployments/scale", "kind": "Scale", "namespaced": True},
        ],
    }
    kinds = parse_resource_list("apps", "v1", body)
    assert kinds == {"Deployment": ResourceRef("apps", "v1", "deployments", True)}
    assert kinds["Deployment"].kind == "Deployment"
