"""The source controllers ``weir run`` starts: ``--controllers=source`` (source-controller:
GitRepository, HelmRepository, HelmChart, OCIRepository and Bucket) and
``--controllers=source-watcher`` (ArtifactGenerator, whose ExternalArtifacts are written to
the same storage), with the artifact storage and its HTTP server (one per process, shared by
both).

HelmCharts watch their sources through the shared informers: a new artifact of a
HelmRepository, GitRepository or Bucket queues the HelmCharts built from it at once. So do
ArtifactGenerators, for each of their sources; a generated ExternalArtifact that changes or
disappears queues its generator (drift).
"""

from __future__ import annotations

from collections.abc import Sequence

from weir.api.artifactgenerator import SOURCE_KINDS as GENERATOR_SOURCE_KINDS
from weir.api.kinds import lookup
from weir.artifact.local import LocalArtifacts
from weir.helmengine.service import engine_service
from weir.kube.indexers import index_by_label, index_by_source_ref
from weir.runtime.controller import Controller
from weir.runtime.factories import ControllerContext, build_controller
from weir.runtime.reconciler import Reconciler
from weir.runtime.watches import DependentsTracker, artifact_state, own_ref, ref_of
from weir.source.artifactgenerator import (
    GENERATOR_INDEX,
    GENERATOR_LABEL,
    ArtifactGeneratorReconciler,
    generator_of,
    index_by_sources,
)
from weir.source.bucket import BucketReconciler
from weir.source.gitrepository import GitRepositoryReconciler
from weir.source.helmchart import SOURCE_KINDS, HelmChartReconciler
from weir.source.helmrepository import HelmRepositoryReconciler
from weir.source.ocirepository import OCIRepositoryReconciler
from weir.source.server import ArtifactServer, advertised_addr, parse_addr
from weir.source.settings import SourceSettings, StorageSettings
from weir.source.storage import Storage

COMPONENT = "source-controller"
WATCHER = "source-watcher"
SOURCE_INDEX = "source"
SOURCES_INDEX = "sources"
OWN_INDEX = "own"


class StorageService:
    """The artifact storage and the HTTP server that publishes it, as one manager service.

    With ``--storage-addr=host:0`` the port is chosen at start; artifact URLs use the real one.
    Once started, the storage is registered in ``local`` (the process's consumers read its
    artifacts from disk, :mod:`weir.artifact.local`).
    """

    def __init__(self, settings: StorageSettings, local: LocalArtifacts | None = None) -> None:
        self.settings = settings
        self.local = local
        host, port = parse_addr(settings.addr)
        self.server = ArtifactServer(settings.path, host or "0.0.0.0", port)
        self.storage = Storage(settings.path, advertised_addr(settings.addr, settings.adv_addr))

    async def start(self) -> None:
        await self.server.start()
        adv = advertised_addr(self.server.addr, self.settings.adv_addr)
        self.storage.base_url = adv.rstrip("/") if "://" in adv else f"http://{adv}"
        if self.local is not None:
            self.local.register(self.storage.base_url, self.storage.root)

    async def stop(self) -> None:
        await self.server.stop()


class _Closing:
    """Closes a reconciler's HTTP clients at shutdown (a manager service)."""

    def __init__(self, reconciler: Reconciler) -> None:
        self.reconciler = reconciler

    async def start(self) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        await self.reconciler.close()


def storage_service(ctx: ControllerContext) -> StorageService:
    """The process's one artifact storage and server (source-controller and source-watcher
    share it)."""
    settings = ctx.feature(SourceSettings)
    local = ctx.shared_service(LocalArtifacts, LocalArtifacts)
    return ctx.shared_service(StorageService, lambda: StorageService(settings.storage, local))


def controllers(ctx: ControllerContext) -> Sequence[Controller]:
    settings = ctx.feature(SourceSettings)
    storage = storage_service(ctx).storage

    def build(kind: str, reconciler: Reconciler) -> Controller:
        info = lookup(kind)
        return build_controller(ctx, info.kind, info.resource, reconciler, component=COMPONENT)

    git = lookup("GitRepository")
    git_informer = ctx.informers.get(git.resource)
    out = [build("GitRepository", GitRepositoryReconciler(ctx.api, storage, git_informer.get))]
    out.append(build("HelmRepository", HelmRepositoryReconciler(ctx.api, storage)))
    out.append(build("OCIRepository", OCIRepositoryReconciler(ctx.api, storage)))
    out.append(build("Bucket", BucketReconciler(ctx.api, storage)))

    chart_informer = ctx.informers.get(
        lookup("HelmChart").resource, {SOURCE_INDEX: index_by_source_ref}
    )
    source_informers = {kind: ctx.informers.get(lookup(kind).resource) for kind in SOURCE_KINDS}
    chart_reconciler = HelmChartReconciler(
        ctx.api,
        storage,
        {kind: inf.get for kind, inf in source_informers.items()},
        engine_service(ctx).get,
        requeue_dependency=settings.requeue_dependency,
    )
    ctx.services.append(_Closing(chart_reconciler))
    charts = build("HelmChart", chart_reconciler)
    for kind, inf in source_informers.items():
        charts.watch(
            inf, DependentsTracker(chart_informer, SOURCE_INDEX, artifact_state, ref_of(kind))
        )
    out.append(charts)
    return out


def watcher_controllers(ctx: ControllerContext) -> Sequence[Controller]:
    """``--controllers=source-watcher``: the ArtifactGenerator controller; its sources and its
    own ExternalArtifacts queue it."""
    settings = ctx.feature(SourceSettings)
    storage = storage_service(ctx).storage
    info = lookup("ArtifactGenerator")
    generators = ctx.informers.get(
        info.resource, {SOURCES_INDEX: index_by_sources, OWN_INDEX: own_ref}
    )
    external = ctx.informers.get(
        lookup("ExternalArtifact").resource, {GENERATOR_INDEX: index_by_label(GENERATOR_LABEL)}
    )
    sources = {k: ctx.informers.get(lookup(k).resource) for k in GENERATOR_SOURCE_KINDS}
    reconciler = ArtifactGeneratorReconciler(
        ctx.api,
        storage,
        {kind: inf.get for kind, inf in sources.items()},
        external,
        requeue_dependency=settings.requeue_dependency,
        no_cross_namespace_refs=settings.no_cross_namespace_refs,
    )
    ctx.services.append(_Closing(reconciler))
    controller = build_controller(ctx, info.kind, info.resource, reconciler, component=WATCHER)
    for kind, inf in sources.items():
        controller.watch(
            inf, DependentsTracker(generators, SOURCES_INDEX, artifact_state, ref_of(kind))
        )
    controller.watch(
        external, DependentsTracker(generators, OWN_INDEX, artifact_state, generator_of)
    )
    return [controller]
