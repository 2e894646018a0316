"""``get_dependency_graph``: how sources, Kustomizations, HelmReleases and the workloads they
manage depend on each other, with their state and the root causes of what is not ready.

The graph is the web UI's (:mod:`weir.actions.graph`): the same nodes, edges (``source``,
``dependsOn``, ``manages``) and scope (a namespace is its objects plus their direct
neighbours; every edge ends at a node, a missing one when the object is not found).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from kubernetes_asyncio.client import ApiClient
from mcp_types import CallToolResult
from pydantic import Field

from weir.actions.errors import ObjectNotFoundError
from weir.actions.graph import (
    GENERATOR_KINDS,
    INPUT_KINDS,
    WORKLOAD_KINDS,
    Graph,
    Node,
    key_of,
    manager_key,
    problems,
)
from weir.actions.graph import workload_node as _workload_node
from weir.actions.objects import APPLIER_KINDS, SOURCE_KINDS, find_object, list_many
from weir.api import KINDS
from weir.errors import KubeError
from weir.kube.informer import list_all
from weir.kube.resources import ResourceRef
from weir.mcp import kinds
from weir.mcp.env import ToolEnv
from weir.mcp.output import clip, respond
from weir.mcp.tooling import READ, ToolSpec
from weir.mcp.tools.params import AllNamespaces, Namespace
from weir.types import Obj

MAX_FETCHED = 50
"""Objects outside the listed scope fetched one by one (cross-namespace references)."""
WORKLOAD_RESOURCES = {
    kind: ResourceRef("batch" if kind.endswith("Job") else "apps", "v1", plural, True, kind)
    for kind, plural in zip(
        WORKLOAD_KINDS,
        ("deployments", "statefulsets", "daemonsets", "jobs", "cronjobs"),
        strict=True,
    )
}

FocusKind = Annotated[
    str | None,
    Field(description="With `name`: the Flux kind of the object to centre on (default ks)."),
]
FocusName = Annotated[
    str | None, Field(description="Only the part of the graph connected to this object.")
]


def node_dict(node: Node) -> Obj:
    """A node as the tool shows it."""
    out: Obj = {"id": node.id}
    if node.missing:
        out["missing"] = True
        return out
    if node.ready:
        out["ready"] = node.ready
    out["status"] = node.status
    if node.reason:
        out["reason"] = node.reason
    if node.ready != "True" and node.message:
        out["message"] = clip(node.message, 300)
    if node.revision:
        out["revision"] = node.revision
    if node.suspended:
        out["suspended"] = True
    return out


async def _workloads(api: ApiClient, namespace: str | None) -> list[Obj]:
    async def one(resource: ResourceRef) -> list[Obj]:
        try:
            items, _ = await list_all(api, resource, namespace=namespace)
        except KubeError:
            return []  # not served, or not allowed: the graph shows the Flux objects
        return [{**o, "kind": resource.kind, "apiVersion": f"{resource.group}/v1"} for o in items]

    found = await asyncio.gather(*(one(r) for r in WORKLOAD_RESOURCES.values()))
    return [o for objs in found for o in objs]


async def collect(api: ApiClient, namespace: str | None) -> Graph:
    """The graph of the Flux sources, appliers and workloads in ``namespace`` (None:
    everywhere), with the Flux objects they reference elsewhere fetched one by one, and a
    missing node for anything referenced that does not exist."""
    graph = Graph()
    listed = await list_many(
        api,
        [
            *SOURCE_KINDS,
            *APPLIER_KINDS,
            *(KINDS[k] for k in sorted(INPUT_KINDS | GENERATOR_KINDS)),
        ],
        namespace,
    )
    graph.add_flux(o for objs in listed.values() for o in objs)
    for obj in await _workloads(api, namespace):
        graph.add_workload(_workload_node(obj), manager_key(obj))
    fetched = 0
    for _ in range(2):  # references of references, once more
        for ident in sorted(graph.referenced()):
            kind, ns, name = ident.split("/", 2)
            if fetched < MAX_FETCHED and kind in KINDS:
                fetched += 1
                found = await find_object(api, KINDS[kind], ns, name)
                if found is not None:
                    graph.add_flux([found])
    graph.complete()
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
            target = key_of(info.kind, env.namespace(namespace), name)
            if target not in graph.nodes or graph.nodes[target].missing:
                raise ObjectNotFoundError(
                    f"{target} is not among the Flux objects of {scope}: check kind, name "
                    "and namespace"
                )
            graph = graph.scoped(focus=target)
            scope = target
        else:
            graph = graph.scoped(namespace=ns)
        data: Obj = {
            "scope": scope,
            "nodes": [node_dict(n) for n in sorted(graph.nodes.values(), key=lambda n: n.id)],
            "edges": [str(e) for e in sorted(graph.edges)],
            "problems": problems(graph, lambda text: clip(text, 300))
            or "none: every node is ready or progressing",
        }
        return respond(data, env.settings.max_output)

    return [ToolSpec(get_dependency_graph, "Dependency graph", READ)]
