"""The GitOps pipeline graph: sources -> Kustomizations -> HelmReleases -> workloads, and the
``dependsOn`` DAG, as nodes and edges for the UI to lay out.

Edges (``from`` -> ``to``):

- ``source``: a source to what consumes its artifact (GitRepository -> Kustomization,
  HelmRepository -> HelmChart -> HelmRelease, OCIRepository -> HelmRelease, ...);
- ``manages``: a Kustomization/HelmRelease to what it applied (its inventory, and the workloads
  that carry its owner labels);
- ``dependsOn``: a dependency to its dependent.

Scope: everything, the objects of one namespace plus their direct neighbours, or (``focus``)
one object with everything upstream and downstream of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from weir.actions.inventory import entries
from weir.web import status as rows
from weir.web.cache import ViewCache
from weir.web.kinds import APPLIER_KINDS, FLUX_KINDS, SOURCE_KINDS, WORKLOADS

Node = dict[str, Any]
Edge = dict[str, str]
MAX_NODES = 600


def _layer(kind: str) -> str:
    if kind == "HelmChart":
        return "chart"
    if kind in SOURCE_KINDS:
        return "source"
    if kind in APPLIER_KINDS:
        return "applier"
    if kind in WORKLOADS:
        return "workload"
    return "other"


def _node(row: Mapping[str, Any] | None, key: str) -> Node:
    kind, namespace, name = key.split("/", 2)
    return {
        "id": key,
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "layer": _layer(kind),
        "status": row["status"] if row else "missing",
        "message": row["message"] if row else "not found",
        "revision": (row or {}).get("revision", ""),
        "view": "workload" if kind in WORKLOADS else "resource",
    }


class _Builder:
    def __init__(self, cache: ViewCache) -> None:
        self.cache = cache
        self.nodes: dict[str, Node] = {}
        self.edges: dict[tuple[str, str, str], Edge] = {}

    def add_node(self, key: str) -> None:
        if key not in self.nodes:
            kind, namespace, name = key.split("/", 2)
            self.nodes[key] = _node(self.cache.row(kind, namespace, name), key)

    def add_edge(self, src: str, dst: str, type_: str) -> None:
        self.add_node(src)
        self.add_node(dst)
        self.edges.setdefault((src, dst, type_), {"from": src, "to": dst, "type": type_})

    def build(self) -> None:
        graph_kinds = [k.kind for k in FLUX_KINDS if _layer(k.kind) != "other"]
        for kind in graph_kinds:
            for obj in self.cache.flux_objects(kind):
                meta = obj.get("metadata") or {}
                key = rows.key_of(kind, str(meta.get("namespace", "")), str(meta.get("name")))
                self.add_node(key)
                source = rows.source_of(obj)
                if source:
                    self.add_edge(source, key, "source")
                for dep in rows.depends_on(obj):
                    self.add_edge(dep, key, "dependsOn")
                if kind in APPLIER_KINDS:
                    for ref in entries(obj):
                        if _layer(ref.kind) != "other":
                            child = rows.key_of(ref.kind, ref.namespace, ref.name)
                            self.add_edge(key, child, "manages")
        for row in self.cache.workload_rows():
            if row.get("manager"):
                self.add_edge(row["manager"], row["key"], "manages")


def _reach(start: str, links: Mapping[str, Iterable[str]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in links.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def pipeline_graph(
    cache: ViewCache,
    *,
    namespace: str | None = None,
    focus: str | None = None,
    max_nodes: int = MAX_NODES,
) -> dict[str, Any]:
    """``{nodes, edges, truncated, total}``; see the module docstring."""
    builder = _Builder(cache)
    builder.build()
    nodes, edges = builder.nodes, list(builder.edges.values())
    keep: set[str]
    if focus:
        forward: dict[str, list[str]] = defaultdict(list)
        backward: dict[str, list[str]] = defaultdict(list)
        for e in edges:
            forward[e["from"]].append(e["to"])
            backward[e["to"]].append(e["from"])
        keep = _reach(focus, forward) | _reach(focus, backward) if focus in nodes else set()
    elif namespace:
        keep = {k for k, n in nodes.items() if n["namespace"] == namespace}
        for e in edges:
            if e["from"] in keep or e["to"] in keep:
                keep.update((e["from"], e["to"]))
    else:
        keep = set(nodes)
    ordered = sorted(keep, key=lambda k: (nodes[k]["layer"] != "source", k))
    truncated = len(ordered) > max_nodes
    chosen = set(ordered[:max_nodes])
    return {
        "nodes": [nodes[k] for k in sorted(chosen)],
        "edges": [e for e in edges if e["from"] in chosen and e["to"] in chosen],
        "truncated": truncated,
        "total": len(keep),
    }
