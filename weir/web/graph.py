"""The pipeline graph the UI lays out, from the view cache: the shared model of
:mod:`weir.actions.graph` (the MCP server's ``get_dependency_graph`` uses the same), in the
shape ``/api/v1/graph`` answers.

Scope: everything, the objects of one namespace plus their direct neighbours, or (``focus``)
one object with everything upstream and downstream of it; an unknown focus is a 404. Objects
the caller may not see (``visible``) are left out before scoping, with their edges.

Groups (``group``), for fleets too large to read node by node: every node names its group, the
UI draws a box per group that folds into one node. ``namespace`` groups by namespace;
``kustomization`` by the root applier that manages the node (the top of its chain of
Kustomizations/HelmReleases; a source by what consumes it when that is one root, else its
namespace).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from weir.actions.graph import APPLIER_KINDS, Graph, Node
from weir.web.cache import ViewCache
from weir.web.kinds import FLUX_KINDS, WORKLOADS

MAX_NODES = 600


def _wire(node: Node, group: str | None = None) -> dict[str, Any]:
    return {
        "group": group,
        "id": node.id,
        "kind": node.kind,
        "namespace": node.namespace,
        "name": node.name,
        "layer": node.layer,
        "status": node.status,
        "message": node.message,
        "revision": node.revision,
        "view": "workload" if node.kind in WORKLOADS else "resource",
    }


def cache_graph(cache: ViewCache, visible: Callable[[str], bool] | None = None) -> Graph:
    """The whole graph of what the cache holds (of what ``visible`` keeps, by key)."""
    graph = Graph()
    for info in FLUX_KINDS:
        objs = cache.flux_objects(info.kind)
        if visible is not None:
            objs = [o for o in objs if visible(_key(o))]
        graph.add_flux(objs)
    for row in cache.workload_rows():
        if visible is not None and not visible(row["key"]):
            continue
        node = Node(row["key"], status=row["status"], message=row["message"])
        graph.add_workload(node, row.get("manager"))
    if visible is not None:  # references to what the caller cannot see: not "missing", absent
        graph.edges = {e for e in graph.edges if visible(e.src) and visible(e.dst)}
    graph.complete()
    return graph


def _key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind')}/{meta.get('namespace', '')}/{meta.get('name', '')}"


def groups_of(graph: Graph, by: str | None) -> dict[str, str]:
    """The group of every node (see the module docstring); empty without ``by``."""
    if by == "namespace":
        return {k: f"Namespace/{n.namespace}" for k, n in graph.nodes.items()}
    if by != "kustomization":
        return {}
    managed_by: dict[str, str] = {}
    consumers: dict[str, set[str]] = {}
    for e in graph.edges:
        if e.type == "manages" and e.dst not in managed_by:
            managed_by[e.dst] = e.src
        elif e.type == "source":
            consumers.setdefault(e.src, set()).add(e.dst)

    def root(key: str) -> str:
        seen = {key}
        while key in managed_by and managed_by[key] not in seen:
            key = managed_by[key]
            seen.add(key)
        return key

    out: dict[str, str] = {}
    for k, node in graph.nodes.items():
        top = root(k)
        if top != k or node.kind in APPLIER_KINDS:
            out[k] = top
    for k, node in graph.nodes.items():
        if k in out:
            continue
        tops = {out.get(c, root(c)) for c in consumers.get(k, ())}
        out[k] = tops.pop() if len(tops) == 1 else f"Namespace/{node.namespace}"
    return out


def pipeline_graph(
    cache: ViewCache,
    *,
    namespace: str | None = None,
    focus: str | None = None,
    max_nodes: int = MAX_NODES,
    visible: Callable[[str], bool] | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    """``{nodes, edges, truncated, total, group}``; see the module docstring."""
    graph = cache_graph(cache, visible).scoped(namespace, focus)
    nodes = graph.nodes
    ordered = sorted(nodes, key=lambda k: (nodes[k].layer != "source", k))
    chosen = set(ordered[:max_nodes])
    groups = groups_of(graph, group)
    return {
        "group": group,
        "nodes": [_wire(nodes[k], groups.get(k)) for k in sorted(chosen)],
        "edges": [
            {"from": e.src, "to": e.dst, "type": e.type}
            for e in sorted(graph.edges)
            if e.src in chosen and e.dst in chosen
        ],
        "truncated": len(ordered) > max_nodes,
        "total": len(nodes),
    }
