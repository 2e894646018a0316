"""The GitOps pipeline graph: one model for the web UI (``/api/v1/graph``) and the MCP server
(``get_dependency_graph``), so both show the same nodes and edges for the same scope.

Nodes are Flux sources, HelmCharts and appliers (Kustomization, HelmRelease), the operator's
ResourceSets (appliers) and ResourceSetInputProviders (sources of inputs), and the workloads
they manage, each with its status word (:mod:`weir.actions.health`). Edges (``from`` ->
``to``, "to needs from"):

- ``source``: a source to what consumes its artifact (GitRepository -> Kustomization,
  HelmRepository -> HelmChart -> HelmRelease, OCIRepository -> HelmRelease, each source of an
  ArtifactGenerator -> the generator -> its ExternalArtifacts -> their consumers, ...);
- ``inputs``: a ResourceSetInputProvider to the ResourceSets whose ``inputsFrom`` selects it
  (by name or label selector);
- ``dependsOn``: a dependency to its dependent (``spec.dependsOn``; a ResourceSet's entries
  name any kind, only those of the graph's kinds are drawn);
- ``manages``: a Kustomization/HelmRelease/ResourceSet to what it applied (its inventory, and
  the objects that carry its owner labels).

Every edge ends at a node: an object referenced but not known is a ``missing`` node. Scope
(:meth:`Graph.scoped`): everything; the objects of one namespace plus their direct neighbours;
or (``focus``) one object with everything upstream and downstream of it (an unknown focus is
:class:`~weir.actions.errors.ObjectNotFoundError`, a malformed one a
:class:`~weir.errors.UsageError`).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from weir.actions.errors import ObjectNotFoundError
from weir.actions.health import FAILED, flux_status, workload_status
from weir.actions.inventory import entries
from weir.actions.objects import condition, is_suspended, meta, revision, status
from weir.actions.trace import manager_of
from weir.api import KINDS
from weir.errors import UsageError
from weir.kube.labels import selector_matches
from weir.types import Obj

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
SOURCE_KINDS = frozenset(k.kind for k in KINDS.values() if "fluxcd-sources" in k.categories)
APPLIER_KINDS = frozenset(k.kind for k in KINDS.values() if "fluxcd-appliers" in k.categories)
INPUT_KINDS = frozenset({"ResourceSetInputProvider"})
"""Sources of inputs (drawn with the sources)."""
GENERATOR_KINDS = frozenset({"ResourceSet"})
"""Appliers of the operator (drawn with the appliers)."""
MISSING = "missing"


def key_of(kind: str, namespace: str, name: str) -> str:
    """The id of an object in graphs, the UI and its URLs: ``Kind/namespace/name``."""
    return f"{kind}/{namespace}/{name}"


def ref_key(ref: Any, default_namespace: str, default_kind: str = "") -> str | None:
    """``Kind/ns/name`` of a ``{kind, name, namespace}`` reference, or None."""
    if not isinstance(ref, Mapping) or not ref.get("name"):
        return None
    kind = str(ref.get("kind") or default_kind)
    if not kind:
        return None
    return key_of(kind, str(ref.get("namespace") or default_namespace), str(ref["name"]))


def id_of(obj: Mapping[str, Any]) -> str:
    m = meta(obj)
    return key_of(str(obj.get("kind", "")), str(m.get("namespace", "")), str(m.get("name", "")))


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def source_of(obj: Mapping[str, Any]) -> str | None:
    """``Kind/ns/name`` of the object a Flux object takes its artifact from: a
    Kustomization's or HelmChart's ``sourceRef``; an ExternalArtifact's ``sourceRef`` (its
    generator); a HelmRelease's ``chartRef``, its generated HelmChart (``status.helmChart``)
    or its chart's ``sourceRef``."""
    spec = _spec(obj)
    namespace = str(meta(obj).get("namespace", ""))
    kind = obj.get("kind")
    if kind in ("Kustomization", "HelmChart", "ExternalArtifact"):
        return ref_key(spec.get("sourceRef"), namespace)
    if kind == "HelmRelease":
        if spec.get("chartRef"):
            return ref_key(spec.get("chartRef"), namespace)
        chart = str(status(obj).get("helmChart") or "")
        chart_ns, _, chart_name = chart.rpartition("/")
        if chart_name:
            return key_of("HelmChart", chart_ns or namespace, chart_name)
        chart_spec = (spec.get("chart") or {}).get("spec") or {}
        return ref_key(chart_spec.get("sourceRef"), namespace)
    return None


def sources_of(obj: Mapping[str, Any]) -> list[str]:
    """Every object a Flux object reads artifacts from: an ArtifactGenerator's
    ``spec.sources``, otherwise :func:`source_of`."""
    if obj.get("kind") != "ArtifactGenerator":
        found = source_of(obj)
        return [found] if found else []
    namespace = str(meta(obj).get("namespace", ""))
    refs = (ref_key(src, namespace) for src in _spec(obj).get("sources") or [])
    return sorted({r for r in refs if r})


def depends_on(obj: Mapping[str, Any]) -> list[str]:
    """``Kind/ns/name`` of each ``spec.dependsOn`` entry (same kind as the object; a
    ResourceSet's entries name their kind, and only those of the graph's kinds count)."""
    namespace = str(meta(obj).get("namespace", ""))
    kind = str(obj.get("kind", ""))
    found = [ref_key(dep, namespace, kind) for dep in _spec(obj).get("dependsOn") or []]
    if kind in GENERATOR_KINDS:
        found = [f for f in found if f and layer_of(f.split("/", 1)[0]) != "other"]
    return [f for f in found if f]


def inputs_from(obj: Mapping[str, Any]) -> list[str]:
    """``Kind/ns/name`` of the providers a ResourceSet's ``inputsFrom`` names."""
    namespace = str(meta(obj).get("namespace", ""))
    refs = _spec(obj).get("inputsFrom") or []
    found = [ref_key(r, namespace, "ResourceSetInputProvider") for r in refs if r.get("name")]
    return [f for f in found if f]


def manager_key(obj: Mapping[str, Any]) -> str | None:
    """``Kind/ns/name`` of the Kustomization or HelmRelease that applied the object."""
    found = manager_of(obj)
    if found is None:
        return None
    info, namespace, name = found
    return key_of(info.kind, namespace, name)


def layer_of(kind: str) -> str:
    """Where a kind sits in the pipeline: source, chart, applier, workload (or other)."""
    if kind == "HelmChart":
        return "chart"
    if kind in SOURCE_KINDS or kind in INPUT_KINDS:
        return "source"
    if kind in APPLIER_KINDS or kind in GENERATOR_KINDS:
        return "applier"
    if kind in WORKLOAD_KINDS:
        return "workload"
    return "other"


@dataclass
class Node:
    """One object of the graph."""

    id: str
    status: str = MISSING
    """The status word (:mod:`weir.actions.health`), or ``missing``."""
    ready: str = ""
    """A Flux object's Ready condition status (empty for workloads)."""
    reason: str = ""
    message: str = "not found"
    revision: str = ""
    suspended: bool = False

    @property
    def kind(self) -> str:
        return self.id.split("/", 2)[0]

    @property
    def namespace(self) -> str:
        return self.id.split("/", 2)[1]

    @property
    def name(self) -> str:
        return self.id.split("/", 2)[2]

    @property
    def layer(self) -> str:
        return layer_of(self.kind)

    @property
    def missing(self) -> bool:
        return self.status == MISSING

    @property
    def unhealthy(self) -> bool:
        """Missing, Ready=False, or a failed workload."""
        return self.missing or self.ready == "False" or (not self.ready and self.status == FAILED)


@dataclass(frozen=True, order=True)
class Edge:
    src: str
    dst: str
    type: str

    def __str__(self) -> str:
        return f"{self.src} -> {self.dst} ({self.type})"


def flux_node(obj: Mapping[str, Any]) -> Node:
    ready = condition(obj, "Ready") or {}
    return Node(
        id=id_of(obj),
        status=flux_status(obj),
        ready=str(ready.get("status", "Unknown")),
        reason=str(ready.get("reason", "")),
        message=str(ready.get("message", "")),
        revision=revision(obj),
        suspended=is_suspended(obj),
    )


def workload_node(obj: Mapping[str, Any]) -> Node:
    word, _, message = workload_status(obj)
    return Node(id=id_of(obj), status=word, message=message)


def flux_edges(obj: Mapping[str, Any]) -> set[Edge]:
    """The edges a Flux object's spec, status and labels declare."""
    me = id_of(obj)
    out: set[Edge] = set()
    out |= {Edge(source, me, "source") for source in sources_of(obj)}
    out |= {Edge(dep, me, "dependsOn") for dep in depends_on(obj)}
    out |= {Edge(provider, me, "inputs") for provider in inputs_from(obj)}
    if obj.get("kind") in APPLIER_KINDS or obj.get("kind") in GENERATOR_KINDS:
        for ref in entries(obj):
            if layer_of(ref.kind) != "other":
                out.add(Edge(me, key_of(ref.kind, ref.namespace, ref.name), "manages"))
    manager = manager_key(obj)
    if manager:
        out.add(Edge(manager, me, "manages"))
    return out


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: set[Edge] = field(default_factory=set)
    providers: dict[str, dict[str, str]] = field(default_factory=dict)
    """Provider id -> its labels (for ``inputsFrom`` selectors)."""
    selectors: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    """(ResourceSet id, one of its ``inputsFrom`` selectors)."""

    def add_flux(self, objs: Iterable[Mapping[str, Any]]) -> None:
        """Flux objects of the graph's kinds (others are skipped) and their edges."""
        for obj in objs:
            kind = str(obj.get("kind", ""))
            if layer_of(kind) == "other":
                continue
            node = flux_node(obj)
            self.nodes[node.id] = node
            self.edges |= flux_edges(obj)
            if kind in INPUT_KINDS:
                self.providers[node.id] = dict(meta(obj).get("labels") or {})
            if kind in GENERATOR_KINDS:
                for ref in _spec(obj).get("inputsFrom") or []:
                    if isinstance(ref.get("selector"), Mapping):
                        self.selectors.append((node.id, ref["selector"]))
        for rset, selector in self.selectors:
            namespace = rset.split("/", 2)[1]
            for provider, labels in self.providers.items():
                if provider.split("/", 2)[1] == namespace and selector_matches(selector, labels):
                    self.edges.add(Edge(provider, rset, "inputs"))

    def add_workload(self, node: Node, manager: str | None) -> None:
        self.nodes[node.id] = node
        if manager:
            self.edges.add(Edge(manager, node.id, "manages"))

    def referenced(self) -> set[str]:
        """Ids named by edges but not (yet) known as nodes."""
        return {i for e in self.edges for i in (e.src, e.dst)} - set(self.nodes)

    def complete(self) -> None:
        """A ``missing`` node for every id an edge names that is not a node."""
        for ident in self.referenced():
            self.nodes[ident] = Node(ident)

    def upstream(self, node: str) -> list[str]:
        return sorted({e.src for e in self.edges if e.dst == node})

    def scoped(self, namespace: str | None = None, focus: str | None = None) -> Graph:
        """The part of the graph in scope (see the module docstring)."""
        if focus:
            keep = self._around(focus)
        elif namespace:
            keep = {k for k, n in self.nodes.items() if n.namespace == namespace}
            for e in self.edges:
                if self.nodes[e.src].namespace == namespace or (
                    self.nodes[e.dst].namespace == namespace
                ):
                    keep.update((e.src, e.dst))
        else:
            keep = set(self.nodes)
        return Graph(
            {k: v for k, v in self.nodes.items() if k in keep},
            {e for e in self.edges if e.src in keep and e.dst in keep},
        )

    def _around(self, focus: str) -> set[str]:
        if focus.count("/") < 2 or not all(focus.split("/", 2)):
            raise UsageError(f"focus {focus!r}: use Kind/namespace/name")
        if focus not in self.nodes or self.nodes[focus].missing:
            raise ObjectNotFoundError(
                f"{focus} is not in the graph: check the kind, namespace and name"
            )
        forward: dict[str, list[str]] = defaultdict(list)
        backward: dict[str, list[str]] = defaultdict(list)
        for e in self.edges:
            forward[e.src].append(e.dst)
            backward[e.dst].append(e.src)
        return _reach(focus, forward) | _reach(focus, backward)


def _reach(start: str, links: Mapping[str, Iterable[str]]) -> set[str]:
    seen = {start}
    todo = deque([start])
    while todo:
        for nxt in links.get(todo.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def problems(graph: Graph, clip: Any = None) -> list[Obj]:
    """Each unhealthy node with the unhealthy nodes upstream that explain it (``blockedBy``:
    those with no unhealthy node upstream of them), or marked as a root cause itself."""

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
            text = f"{node.reason}: {node.message}".strip(": ")
            entry["problem"] = clip(text) if clip is not None else text
        if roots:
            entry["blockedBy"] = roots
        else:
            entry["rootCause"] = True
        out.append(entry)
    return out
