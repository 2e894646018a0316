"""The pipeline graph (weir.actions.graph), one model for the web UI and MCP: edges from specs,
inventories and owner labels; root causes; scope; workloads."""

from __future__ import annotations

from typing import Any

import pytest

from weir.actions.errors import ObjectNotFoundError
from weir.actions.graph import Graph, Node, problems, workload_node
from weir.errors import UsageError
from weir.types import Obj


def obj(kind: str, name: str, ready: str | None = "True", ns: str = "fx", **spec: Any) -> Obj:
    groups = {
        "GitRepository": "source.toolkit.fluxcd.io/v1",
        "HelmRepository": "source.toolkit.fluxcd.io/v1",
        "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
        "HelmRelease": "helm.toolkit.fluxcd.io/v2",
        "Bucket": "source.toolkit.fluxcd.io/v1",
        "ArtifactGenerator": "source.extensions.fluxcd.io/v1beta1",
        "ExternalArtifact": "source.toolkit.fluxcd.io/v1",
    }
    out: Obj = {
        "apiVersion": groups[kind],
        "kind": kind,
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
        "status": {},
    }
    if ready is not None:
        out["status"]["conditions"] = [
            {"type": "Ready", "status": ready, "reason": "R", "message": f"{name} says {ready}"}
        ]
    return out


def fleet() -> list[Obj]:
    git = obj("GitRepository", "fleet", "False", url="https://x")
    infra = obj(
        "Kustomization", "infra", "False", sourceRef={"kind": "GitRepository", "name": "fleet"}
    )
    apps = obj(
        "Kustomization",
        "apps",
        "False",
        sourceRef={"kind": "GitRepository", "name": "fleet"},
        dependsOn=[{"name": "infra"}],
    )
    apps["status"]["inventory"] = {
        "entries": [
            {"id": "fx_erigon_helm.toolkit.fluxcd.io_HelmRelease", "v": "v2"},
            {"id": "fx_cfg__ConfigMap", "v": "v1"},
        ]
    }
    release = obj(
        "HelmRelease",
        "erigon",
        "Unknown",
        chart={
            "spec": {"chart": "erigon", "sourceRef": {"kind": "HelmRepository", "name": "charts"}}
        },
    )
    release["metadata"]["labels"] = {
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "fx",
    }
    other = obj(
        "Kustomization",
        "other",
        "True",
        ns="elsewhere",
        sourceRef={"kind": "GitRepository", "name": "own"},
    )
    return [git, infra, apps, release, other]


def test_edges_from_sources_dependencies_and_inventories() -> None:
    graph = Graph()
    graph.add_flux(fleet())
    edges = sorted(str(e) for e in graph.edges)
    assert edges == [
        "GitRepository/elsewhere/own -> Kustomization/elsewhere/other (source)",
        "GitRepository/fx/fleet -> Kustomization/fx/apps (source)",
        "GitRepository/fx/fleet -> Kustomization/fx/infra (source)",
        "HelmRepository/fx/charts -> HelmRelease/fx/erigon (source)",
        "Kustomization/fx/apps -> HelmRelease/fx/erigon (manages)",
        "Kustomization/fx/infra -> Kustomization/fx/apps (dependsOn)",
    ]
    assert graph.referenced() == {"GitRepository/elsewhere/own", "HelmRepository/fx/charts"}


def test_artifact_generator_edges() -> None:
    """Sources -> ArtifactGenerator -> ExternalArtifacts -> consumers (Flux 2.7 layout)."""
    generator = obj(
        "ArtifactGenerator",
        "flux-system",
        sources=[
            {"alias": "repo", "kind": "GitRepository", "name": "fleet"},
            {"alias": "cfg", "kind": "Bucket", "name": "cfg", "namespace": "other"},
        ],
        artifacts=[],
    )
    artifact = obj(
        "ExternalArtifact",
        "apps",
        sourceRef={"kind": "ArtifactGenerator", "name": "flux-system", "namespace": "fx"},
    )
    apps = obj("Kustomization", "apps", sourceRef={"kind": "ExternalArtifact", "name": "apps"})
    release = obj("HelmRelease", "web", chartRef={"kind": "ExternalArtifact", "name": "apps"})
    graph = Graph()
    graph.add_flux([generator, artifact, apps, release])
    assert sorted(str(e) for e in graph.edges) == [
        "ArtifactGenerator/fx/flux-system -> ExternalArtifact/fx/apps (source)",
        "Bucket/other/cfg -> ArtifactGenerator/fx/flux-system (source)",
        "ExternalArtifact/fx/apps -> HelmRelease/fx/web (source)",
        "ExternalArtifact/fx/apps -> Kustomization/fx/apps (source)",
        "GitRepository/fx/fleet -> ArtifactGenerator/fx/flux-system (source)",
    ]
    assert graph.nodes["ExternalArtifact/fx/apps"].layer == "source"
    assert graph.nodes["ArtifactGenerator/fx/flux-system"].layer == "source"


def test_problems_name_the_root_causes() -> None:
    graph = Graph()
    graph.add_flux(fleet())
    graph.complete()
    found = {p["node"]: p for p in problems(graph)}
    assert found["GitRepository/fx/fleet"]["rootCause"] is True
    assert found["Kustomization/fx/infra"]["blockedBy"] == ["GitRepository/fx/fleet"]
    # apps is blocked by infra and fleet; only fleet has nothing failing upstream
    assert found["Kustomization/fx/apps"]["blockedBy"] == ["GitRepository/fx/fleet"]
    assert found["HelmRepository/fx/charts"] == {
        "node": "HelmRepository/fx/charts",
        "problem": "referenced but not found",
        "rootCause": True,
    }
    assert "HelmRelease/fx/erigon" not in found  # Unknown: progressing, not failing


def test_focus_keeps_upstream_and_downstream() -> None:
    graph = Graph()
    graph.add_flux(fleet())
    graph.complete()
    part = graph.scoped(focus="Kustomization/fx/infra")
    assert "Kustomization/elsewhere/other" not in part.nodes
    assert "HelmRelease/fx/erigon" in part.nodes
    assert all(not str(e).startswith("GitRepository/elsewhere") for e in part.edges)


def test_unknown_or_malformed_focus_is_an_error() -> None:
    """Issue 12.7: an unknown focus answered an empty graph; now it is an error the UI shows."""
    graph = Graph()
    graph.add_flux(fleet())
    graph.complete()
    with pytest.raises(ObjectNotFoundError, match="Kustomization/fx/nope is not in the graph"):
        graph.scoped(focus="Kustomization/fx/nope")
    with pytest.raises(ObjectNotFoundError):
        graph.scoped(focus="HelmRepository/fx/charts")  # only referenced: missing
    with pytest.raises(UsageError, match="Kind/namespace/name"):
        graph.scoped(focus="bad")


def deployment(name: str, ns: str, manager: str) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": ns,
            "generation": 1,
            "labels": {
                "kustomize.toolkit.fluxcd.io/name": manager,
                "kustomize.toolkit.fluxcd.io/namespace": ns,
            },
        },
        "spec": {"replicas": 1},
        "status": {"observedGeneration": 1, "replicas": 1, "readyReplicas": 0},
    }


def test_namespace_scope_is_complete_and_has_workloads() -> None:
    """Issue 12.5: with a namespace, every edge ends at a node, objects two hops away in other
    namespaces are left out, and the workloads the appliers manage are there."""
    far = obj(
        "HelmRelease",
        "far",
        "True",
        ns="elsewhere",
        chartRef={"kind": "OCIRepository", "name": "o"},
    )
    near = obj(
        "Kustomization",
        "near",
        "True",
        ns="elsewhere",
        sourceRef={"kind": "GitRepository", "name": "own"},
    )
    near["status"]["inventory"] = {
        "entries": [{"id": "elsewhere_far_helm.toolkit.fluxcd.io_HelmRelease", "v": "v2"}]
    }
    graph = Graph()
    graph.add_flux([*fleet(), far, near])
    dep = deployment("web", "fx", "apps")
    graph.add_workload(workload_node(dep), "Kustomization/fx/apps")
    graph.complete()
    part = graph.scoped(namespace="fx")
    ids = set(part.nodes)
    assert all(e.src in ids and e.dst in ids for e in part.edges)
    assert "Deployment/fx/web" in ids
    assert part.nodes["Deployment/fx/web"].status == "progressing"
    assert not any(i.startswith("HelmRelease/elsewhere") for i in ids)
    assert "Kustomization/elsewhere/near" not in ids
    assert isinstance(part.nodes["HelmRepository/fx/charts"], Node)
    assert part.nodes["HelmRepository/fx/charts"].missing
