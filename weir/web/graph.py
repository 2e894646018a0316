"""The pipeline graph the UI lays out, from the view cache: the shared model of
:mod:`weir.actions.graph` (the MCP server's ``get_dependency_graph`` uses the same), in the
shape ``/api/v1/graph`` answers.

Scope: everything, the objects of one namespace plus their direct neighbours, or (``focus``)
one object with everything upstream and downstream of it; an unknown focus is a 404.
"""

from __future__ import annotations

from typing import Any

from weir.actions.graph import Graph, Node
from weir.web.cache import ViewCache
from weir.web.kinds import FLUX_KINDS, WORKLOADS

MAX_NODES = 600


def _wire(node: Node) -> dict[str, Any]:
    return {
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


def cache_graph(cache: ViewCache) -> Graph:
    """The whole graph of what the cache holds."""
    graph = Graph()
    for info in FLUX_KINDS:
        graph.add_flux(cache.flux_objects(info.kind))
    for row in cache.workload_rows():
        node = Node(row["key"], status=row["status"], message=row["message"])
        graph.add_workload(node, row.get("manager"))
    graph.complete()
    return graph


def pipeline_graph(
    cache: ViewCache,
    *,
    namespace: str | None = None,
    focus: str | None = None,
    max_nodes: int = MAX_NODES,
) -> dict[str, Any]:
    """``{nodes, edges, truncated, total}``; see the module docstring."""
    graph = cache_graph(cache).scoped(namespace, focus)
    nodes = graph.nodes
    ordered = sorted(nodes, key=lambda k: (nodes[k].layer != "source", k))
    chosen = set(ordered[:max_nodes])
    return {
        "nodes": [_wire(nodes[k]) for k in sorted(chosen)],
        "edges": [
            {"from": e.src, "to": e.dst, "type": e.type}
            for e in sorted(graph.edges)
            if e.src in chosen and e.dst in chosen
        ],
        "truncated": len(ordered) > max_nodes,
        "total": len(nodes),
    }
