"""``get_dependency_graph``: how sources, Kustomizations and HelmReleases depend on each other,
with their state and the root causes of what is not ready.

Edges (``from -> to``, "to needs from"):

- ``source``: a source feeds a Kustomization, a HelmChart or a HelmRelease (``sourceRef``,
  ``chartRef``, ``chart.spec.sourceRef`` through the generated HelmChart);
- ``dependsOn``: ``to`` waits for ``from`` (``spec.dependsOn``);
- ``manages``: a Kustomization applied ``to`` (its inventory, or the owner labels of ``to``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from kubernetes_asyncio.client import ApiClient
from mcp_types import CallToolResult
from pydantic import Field

from weir.actions.errors import ObjectNotFoundError
from weir.actions.inventory import entries
from weir.actions.objects import (
    APPLIER_KINDS,
    SOURCE_KINDS,
    condition,
    find_object,
    is_suspended,
    kind_of,
    list_many,
    meta,
    revision,
)
from weir.actions.reconcile import source_chain
from weir.actions.trace import manager_of
from weir.api import KINDS
from weir.mcp import kinds
from weir.mcp.env import ToolEnv
from weir.mcp.output import clip, respond
from weir.mcp.tooling import READ, ToolSpec
from weir.mcp.tools.params import AllNamespaces, Namespace
from weir.types import Obj

MAX_FETCHED = 50
"""Objects outside the listed scope fetched one by one (cross-namespace references)."""

FocusKind = Annotated[
    str | None,
    Field(description="With `name`: the Flux kind of the object to centre on (default ks)."),
]
FocusName = Annotated[
    str | None, Field(description="Only the part of the graph connected to this object.")
]


def node_id(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}"


def id_of(obj: Mapping[str, Any]) -> str:
    m = meta(obj)
    return node_id(str(obj.get("kind", "")), str(m.get("namespace", "")), str(m.get("name", "")))


@dataclass
class Node:
    id: str
    ready: str = "Unknown"
    reason: str = ""
    message: str = ""
    revision: str = ""
    suspended: bool = False
    missing: bool = False

    @property
    def unhealthy(self) -> bool:
        return self.missing or self.ready == "False"

    def to_dict(self) -> Obj:
        out: Obj = {"id": self.id}
        if self.missing:
            out["missing"] = True
            return out
        out["ready"] = self.ready
        if self.reason:
            out["reason"] = self.reason
        if self.ready != "True" and self.message:
            out["message"] = clip(self.message, 300)
        if self.revision:
            out["revision"] = self.revision
        if self.suspended:
            out["suspended"] = True
        return out


@dataclass(frozen=True, order=True)
class Edge:
    src: str
    dst: str
    type: str

    def __str__(self) -> str:
        return f"{self.src} -> {self.dst} ({self.type})"


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: set[Edge] = field(default_factory=set)

    def upstream(self, node: str) -> list[str]:
        return sorted({e.src for e in self.edges if e.dst == node})

    def referenced(self) -> set[str]:
        """Ids named by edges but not (yet) known as nodes."""
        return {i for e in self.edges for i in (e.src, e.dst)} - set(self.nodes)


def node_of(obj: Mapping[str, Any]) -> Node:
    ready = condition(obj, "Ready") or {}
    return Node(
        id=id_of(obj),
        ready=str(ready.get("status", "Unknown")),
        reason=str(ready.get("reason", "")),
        message=str(ready.get("message", "")),
        revision=revision(obj),
        suspended=is_suspended(obj),
    )


def edges_of(obj: Mapping[str, Any]) -> set[Edge]:
    """The edges that ``obj``'s spec, status and labels declare."""
    info = kind_of(obj)
    if info is None:
        return set()
    me = id_of(obj)
    namespace = str(meta(obj).get("namespace", ""))
    out: set[Edge] = set()
    chain = [node_id(k.info.kind, k.namespace, k.name) for k in source_chain(info, obj)]
    for src, dst in zip(chain, [*chain[1:], me], strict=False):
        out.add(Edge(src, dst, "source"))
    spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    if info.kind in ("Kustomization", "HelmRelease"):
        for dep in spec.get("dependsOn") or []:
            if isinstance(dep, Mapping) and dep.get("name"):
                dep_id = node_id(info.kind, str(dep.get("namespace") or namespace), dep["name"])
                out.add(Edge(dep_id, me, "dependsOn"))
    if info.kind == "Kustomization":
        for ref in entries(obj):
            if ref.kind in KINDS and ref.group == KINDS[ref.kind].group:
                out.add(Edge(me, node_id(ref.kind, ref.namespace, ref.name), "manages"))
    owner = manager_of(obj)
    if owner is not None and owner[0].kind == "Kustomization":
        out.add(Edge(node_id(owner[0].kind, owner[1], owner[2]), me, "manages"))
    return out


def add_objects(graph: Graph, objs: Iterable[Mapping[str, Any]]) -> None:
    for obj in objs:
        graph.nodes[id_of(obj)] = node_of(obj)
        graph.edges |= edges_of(obj)


def component(graph: Graph, start: str) -> Graph:
    """The part of the graph connected to ``start`` (edges followed both ways)."""
    neighbours: dict[str, set[str]] = {}
    for e in graph.edges:
        neighbours.setdefault(e.src, set()).add(e.dst)
        neighbours.setdefault(e.dst, set()).add(e.src)
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in neighbours.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return Graph(
        nodes={k: v for k, v in graph.nodes.items() if k in seen},
        edges={e for e in graph.edges if e.src in seen and e.dst in seen},
    )


def problems(graph: Graph) -> list[Obj]:
    """Each unhealthy node (not ready, or missing) with the unhealthy nodes upstream that
    explain it (``blockedBy``: those with no unhealthy node upstream of them), or marked as a
    root cause itself."""

    def unhealthy_ancestors(start: str) -> set[str]:
        found: set[str] = set()
        queue = deque(graph.upstream(start))
        seen = set(queue)
        while queue:
            current = queue.popleft()
            node = graph.nodes.get(current)
            if node is not None and node.unhealthy:
                found.add(current)
            for up in graph.upstream(current):
                if up not in seen:
                    seen.add(up)
                    queue.append(up)
        return found

    out: list[Obj] = []
    for node in sorted(graph.nodes.values(), key=lambda n: n.id):
        if not node.unhealthy:
            continue
        ancestors = unhealthy_ancestors(node.id)
        roots = sorted(a for a in ancestors if not unhealthy_ancestors(a) - {node.id})
        entry: Obj = {"node": node.id}
        if node.missing:
            entry["problem"] = "referenced but not found"
        else:
            entry["problem"] = clip(f"{node.reason}: {node.message}".strip(": "), 300)
        if roots:
            entry["blockedBy"] = roots
        else:
            entry["rootCause"] = True
        out.append(entry)
    return out


async def collect(api: ApiClient, namespace: str | None) -> Graph:
    """The graph of the Flux sources and appliers in ``namespace`` (None: everywhere), with
    objects they reference elsewhere fetched one by one."""
    graph = Graph()
    listed = await list_many(api, [*SOURCE_KINDS, *APPLIER_KINDS], namespace)
    add_objects(graph, (o for objs in listed.values() for o in objs))
    fetched = 0
    for _ in range(2):  # references of references, once more
        missing = sorted(graph.referenced())
        if not missing:
            break
        for ident in missing:
            kind, ns, name = ident.split("/", 2)
            obj = None
            if fetched < MAX_FETCHED and kind in KINDS:
                fetched += 1
                obj = await find_object(api, KINDS[kind], ns, name)
            if obj is None:
                graph.nodes[ident] = Node(ident, missing=True)
            else:
                add_objects(graph, [obj])
    return graph


def tools(env: ToolEnv) -> list[ToolSpec]:
    async def get_dependency_graph(
        *,
        namespace: Namespace = None,
        all_namespaces: AllNamespaces = False,
        kind: FocusKind = None,
        name: FocusName = None,
    ) -> CallToolResult:
        """The dependency graph of the Flux objects of a namespace (or of the part connected
        to one object): nodes with Ready state and revision, edges `from -> to (source |
        dependsOn | manages)`, and `problems`: each failing or missing node with the failing
        nodes upstream that block it (`blockedBy`) or marked as a `rootCause`."""
        api = await env.api()
        ns = None if all_namespaces else env.namespace(namespace)
        graph = await collect(api, ns)
        scope = ns or "(all namespaces)"
        if name:
            info = kinds.flux_kind(kind or "Kustomization")
            target = node_id(info.kind, env.namespace(namespace), name)
            if target not in graph.nodes:
                raise ObjectNotFoundError(
                    f"{target} is not among the Flux objects of {scope}: check kind, name "
                    "and namespace"
                )
            graph = component(graph, target)
            scope = target
        data: Obj = {
            "scope": scope,
            "nodes": [n.to_dict() for n in sorted(graph.nodes.values(), key=lambda n: n.id)],
            "edges": [str(e) for e in sorted(graph.edges)],
            "problems": problems(graph) or "none: every node is ready or progressing",
        }
        return respond(data, env.settings.max_output)

    return [ToolSpec(get_dependency_graph, "Dependency graph", READ)]
