"""The source controllers ``weir run`` starts (``--controllers=source``): GitRepository, with the
artifact storage and its HTTP server."""

from __future__ import annotations

from collections.abc import Sequence

from weir.api.registry import lookup
from weir.runtime.controller import Controller
from weir.runtime.registry import ControllerContext, build_controller
from weir.runtime.settings import StorageSettings
from weir.source.gitrepository import GitRepositoryReconciler
from weir.source.server import ArtifactServer, advertised_addr, parse_addr
from weir.source.storage import Storage

COMPONENT = "source-controller"


class StorageService:
    """The artifact storage and the HTTP server that publishes it, as one manager service.

    With ``--storage-addr=host:0`` the port is chosen at start; artifact URLs use the real one.
    """

    def __init__(self, settings: StorageSettings) -> None:
        self.settings = settings
        host, port = parse_addr(settings.addr)
        self.server = ArtifactServer(settings.path, host or "0.0.0.0", port)
        self.storage = Storage(settings.path, advertised_addr(settings.addr, settings.adv_addr))

    async def start(self) -> None:
        await self.server.start()
        adv = advertised_addr(self.server.addr, self.settings.adv_addr)
        self.storage.base_url = adv.rstrip("/") if "://" in adv else f"http://{adv}"

    async def stop(self) -> None:
        await self.server.stop()


def controllers(ctx: ControllerContext) -> Sequence[Controller]:
    service = StorageService(ctx.run.storage)
    ctx.services.append(service)
    git = lookup("GitRepository")
    informer = ctx.informers.get(git.resource)
    reconciler = GitRepositoryReconciler(ctx.api, service.storage, informer.get)
    return [build_controller(ctx, git.kind, git.resource, reconciler, component=COMPONENT)]
