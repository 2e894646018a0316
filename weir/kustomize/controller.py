"""The Kustomization controller ``weir run`` starts (``--controllers=kustomize``).

It watches Kustomizations and, through the shared informers, the sources they reference: a new
artifact revision queues every Kustomization of that source at once (Flux reacts to source
events the same way), and a Kustomization becoming Ready queues those that depend on it. Both
watches are the runtime's one :class:`~weir.runtime.watches.DependentsTracker`; the source watch
reacts to the artifact only (:func:`~weir.runtime.watches.artifact_only`: a source showing
``Reconciling`` before it stores a new artifact does not queue its Kustomizations a first time
for the old one, as Flux's kustomize-controller reacts to a new revision only). Of the
Kustomizations a new artifact queues, those whose files it changed are queued first: the
artifact is extracted and compared before any of them is queued
(:meth:`~weir.kustomize.reconciler.KustomizationReconciler.queue_after_artifact`), so that the
workers take the touched ones first (:mod:`weir.kustomize.touched`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from weir.api.kinds import lookup
from weir.artifact.local import LocalArtifacts
from weir.kube.indexers import index_by_source_ref, source_key
from weir.kustomize.reconciler import KustomizationReconciler, Sources
from weir.kustomize.settings import KustomizeSettings
from weir.runtime.controller import Controller
from weir.runtime.dependencies import DEPENDS_INDEX, index_by_dependency
from weir.runtime.factories import ControllerContext, build_controller
from weir.runtime.watches import DependentsTracker, artifact_only, own_ref, ready_state, ref_of
from weir.types import Obj

COMPONENT = "kustomize-controller"
SOURCE_INDEX = "source"
SOURCE_KINDS = ("GitRepository", "OCIRepository", "Bucket", "ExternalArtifact")


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
        ctx.feature(KustomizeSettings),
    )
    reconciler.artifacts.local = ctx.shared_service(LocalArtifacts, LocalArtifacts)
    controller = build_controller(ctx, ks.kind, ks.resource, reconciler, component=COMPONENT)
    reconciler.touched.promote = controller.queue.promote
    reconciler.touched.dependents = lambda ref: informer.by_index(SOURCE_INDEX, ref)
    for kind, inf in source_informers.items():
        inf.add_handler(
            _source_handler(
                reconciler,
                controller,
                DependentsTracker(informer, SOURCE_INDEX, artifact_only, ref_of(kind)),
                kind,
            )
        )
    controller.watch(informer, DependentsTracker(informer, DEPENDS_INDEX, ready_state, own_ref))
    return [controller]


def _source_handler(
    reconciler: KustomizationReconciler,
    controller: Controller,
    tracker: DependentsTracker,
    kind: str,
) -> Callable[[str, Obj], None]:
    """The source watch: a new artifact queues the source's Kustomizations, the ones it
    touches first (:meth:`KustomizationReconciler.queue_after_artifact`)."""

    def handler(event_type: str, obj: Obj) -> None:
        keys = list(tracker(event_type, obj))
        if not keys:
            return
        artifact = (obj.get("status") or {}).get("artifact") or {}
        if event_type == "DELETED" or not artifact:
            for key in keys:
                controller.queue.add(key)
            return
        meta = obj.get("metadata") or {}
        source = source_key(kind, str(meta.get("namespace", "")), str(meta.get("name")))
        reconciler.queue_after_artifact(source, artifact, keys, controller.queue.add)

    return handler
