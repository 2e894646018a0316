"""The source controllers ``weir run`` starts (``--controllers=source``): GitRepository,
HelmRepository, HelmChart and OCIRepository, with the artifact storage and its HTTP server
(one storage per process, shared by every source kind).

HelmCharts watch their sources through the shared informers: a new artifact of a
HelmRepository, GitRepository or Bucket queues the HelmCharts built from it at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from weir.api.kinds import lookup
from weir.artifact.local import LocalArtifacts
from weir.helmengine.service import engine_service
from weir.kube.indexers import index_by_source_ref
from weir.runtime.controller import Controller
from weir.runtime.factories import ControllerContext, build_controller
from weir.runtime.reconciler import Reconciler
from weir.runtime.watches import DependentsTracker, artifact_state, ref_of
from weir.source.gitrepository import GitRepositoryReconciler
from weir.source.helmchart import SOURCE_KINDS, HelmChartReconciler
from weir.source.helmrepository import HelmRepositoryReconciler
from weir.source.ocirepository import OCIRepositoryReconciler
from weir.source.server import ArtifactServer, advertised_addr, parse_addr
from weir.source.settings import SourceSettings, StorageSettings
from weir.source.storage import Storage

COMPONENT = "source-controller"
SOURCE_INDEX = "source"


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

    def __init__(self, reconciler: HelmChartReconciler) -> None:
        self.reconciler = reconciler

    async def start(self) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        await self.reconciler.close()


def controllers(ctx: ControllerContext) -> Sequence[Controller]:
    settings = ctx.feature(SourceSettings)
    service = StorageService(settings.storage, ctx.shared_service(LocalArtifacts, LocalArtifacts))
    ctx.services.append(service)
    storage = service.storage

    def build(kind: str, reconciler: Reconciler) -> Controller:
        info = lookup(kind)
        return build_controller(ctx, info.kind, info.resource, reconciler, component=COMPONENT)

    git = lookup("GitRepository")
    git_informer = ctx.informers.get(git.resource)
    out = [build("GitRepository", GitRepositoryReconciler(ctx.api, storage, git_informer.get))]
    out.append(build("HelmRepository", HelmRepositoryReconciler(ctx.api, storage)))
    out.append(build("OCIRepository", OCIRepositoryReconciler(ctx.api, storage)))

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
