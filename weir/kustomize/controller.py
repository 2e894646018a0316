"""The Kustomization controller ``weir run`` starts (``--controllers=kustomize``).

It watches Kustomizations and, through the shared informers, the sources they reference: a new
artifact revision queues every Kustomization of that source at once (Flux reacts to source
events the same way), and a Kustomization becoming Ready queues those that depend on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from weir.api.kinds import lookup
from weir.kube.indexers import index_by_source_ref
from weir.kustomize.reconciler import KustomizationReconciler, Sources
from weir.runtime.controller import Controller, object_key
from weir.runtime.factories import ControllerContext, build_controller
from weir.types import Obj

COMPONENT = "kustomize-controller"
SOURCE_INDEX = "source"
DEPENDS_INDEX = "dependsOn"
SOURCE_KINDS = ("GitRepository", "OCIRepository", "Bucket")


def index_by_dependency(obj: Obj) -> list[str]:
    """``<namespace>/<name>`` of every Kustomization in ``spec.dependsOn``."""
    ns = obj["metadata"].get("namespace", "")
    deps = (obj.get("spec") or {}).get("dependsOn") or []
    return [f"{d.get('namespace') or ns}/{d.get('name')}" for d in deps if d.get("name")]


_MISSING = object()


class _RevisionTracker:
    """Turns events of one kind into the keys of dependents, only when ``field`` changed."""

    def __init__(self, dependents: Any, index: str, kind: str, field: str) -> None:
        self.dependents = dependents
        self.index = index
        self.kind = kind
        self.field = field
        self.seen: dict[str, object] = {}

    def value(self, obj: Obj) -> object:
        status = obj.get("status") or {}
        if self.field == "artifact":
            return (status.get("artifact") or {}).get("revision")
        ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
        return (status.get("lastAppliedRevision"), ready[0].get("status") if ready else None)

    def __call__(self, event_type: str, obj: Obj) -> Iterable[str]:
        key = object_key(obj)
        if event_type == "DELETED":
            self.seen.pop(key, None)
            return ()
        value = self.value(obj)
        previous = self.seen.get(key, _MISSING)
        self.seen[key] = value
        if previous == value:
            return ()
        ns = obj["metadata"].get("namespace", "")
        name = obj["metadata"]["name"]
        ref = f"{self.kind}/{ns}/{name}" if self.field == "artifact" else f"{ns}/{name}"
        return [object_key(o) for o in self.dependents.by_index(self.index, ref)]


def controllers(ctx: ControllerContext) -> Sequence[Controller]:
    ks = lookup("Kustomization")
    informer = ctx.informers.get(
        ks.resource,
        {SOURCE_INDEX: index_by_source_ref, DEPENDS_INDEX: index_by_dependency},
    )
    source_informers = {kind: ctx.informers.get(lookup(kind).resource) for kind in SOURCE_KINDS}
    reconciler = KustomizationReconciler(
        ctx.api,
        Sources({kind: inf.get for kind, inf in source_informers.items()}),
        informer.get,
        ctx.run.kustomize,
    )
    controller = build_controller(ctx, ks.kind, ks.resource, reconciler, component=COMPONENT)
    for kind, inf in source_informers.items():
        controller.watch(inf, _RevisionTracker(informer, SOURCE_INDEX, kind, "artifact"))
    controller.watch(informer, _RevisionTracker(informer, DEPENDS_INDEX, ks.kind, "ready"))
    return [controller]
