"""The dependency graph: edges from specs, inventories and owner labels; root causes."""

from __future__ import annotations

from typing import Any

from weir.mcp.tools.graph import Graph, Node, add_objects, component, problems
from weir.types import Obj


def obj(kind: str, name: str, ready: str | None = "True", ns: str = "fx", **spec: Any) -> Obj:
    groups = {
        "GitRepository": "source.toolkit.fluxcd.io/v1",
        "HelmRepository": "source.toolkit.fluxcd.io/v1",
        "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
        "HelmRelease": "helm.toolkit.fluxcd.io/v2",
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
    add_objects(graph, fleet())
    edges = sorted(str(e) for e in graph.edges)
    assert edges == [
        "GitRepository/elsewhere/own -> Kustomization/elsewhere/other (source)",
        "GitRepository/fx/fleet -> Kustomization/fx/apps (source)",
        "GitRepository/fx/fleet -> Kustomization/fx/infra (source)",
        "HelmChart/fx/fx-erigon -> HelmRelease/fx/erigon (source)",
        "HelmRepository/fx/charts -> HelmChart/fx/fx-erigon (source)",
        "Kustomization/fx/apps -> HelmRelease/fx/erigon (manages)",
        "Kustomization/fx/infra -> Kustomization/fx/apps (dependsOn)",
    ]
    assert graph.referenced() == {
        "GitRepository/elsewhere/own",
        "HelmChart/fx/fx-erigon",
        "HelmRepository/fx/charts",
    }


def test_problems_name_the_root_causes() -> None:
    graph = Graph()
    add_objects(graph, fleet())
    for ident in graph.referenced():
        graph.nodes[ident] = Node(ident, missing=True)
    found = {p["node"]: p for p in problems(graph)}
    assert found["GitRepository/fx/fleet"]["rootCause"] is True
    assert found["Kustomization/fx/infra"]["blockedBy"] == ["GitRepository/fx/fleet"]
    # apps is blocked by infra and fleet; only fleet has nothing failing upstream
    assert found["Kustomization/fx/apps"]["blockedBy"] == ["GitRepository/fx/fleet"]
    assert found["HelmChart/fx/fx-erigon"]["blockedBy"] == ["HelmRepository/fx/charts"]
    assert found["HelmRepository/fx/charts"] == {
        "node": "HelmRepository/fx/charts",
        "problem": "referenced but not found",
        "rootCause": True,
    }
    assert "HelmRelease/fx/erigon" not in found  # Unknown: progressing, not failing


def test_component_keeps_what_is_connected() -> None:
    graph = Graph()
    add_objects(graph, fleet())
    part = component(graph, "Kustomization/fx/infra")
    assert "Kustomization/elsewhere/other" not in part.nodes
    assert "HelmRelease/fx/erigon" in part.nodes
    assert all(not str(e).startswith("GitRepository/elsewhere") for e in part.edges)
