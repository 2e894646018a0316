"""The web UI as a part of a process: :class:`WebUI` (caches + action runner + HTTP server),
:class:`WebService` for ``weir run``'s manager, which adds it through the light factory
:func:`weir.web.factory.controllers` (this module is imported only when the UI is on)::

    Manager(settings, services=[weir.web.factory.controllers])

In ``weir run`` the UI reads the shared informers of the controllers (no second watch of the
same kind) and the process's metrics; its settings are the :class:`WebSettings` in
``RunSettings.features`` (``--web-addr``, ``--web-base-path``), else the defaults.
"""

from __future__ import annotations

import logging

from kubernetes_asyncio.client import ApiClient

from weir.artifact.local import LocalArtifacts
from weir.runtime.factories import ControllerContext
from weir.runtime.informers import InformerPool
from weir.runtime.metrics import RuntimeMetrics
from weir.web.app import create_app
from weir.web.bindings import RoleBindingIndex
from weir.web.cache import ViewCache
from weir.web.changes import ChangeLog
from weir.web.operations import ActionRunner
from weir.web.server import WebServer
from weir.web.settings import WebSettings
from weir.web.state import WebState

log = logging.getLogger("weir.web")


class WebUI:
    """Everything the UI needs in one process; ``start()`` then ``stop()``."""

    def __init__(
        self,
        api: ApiClient,
        settings: WebSettings,
        *,
        pool: InformerPool | None = None,
        namespace: str | None = None,
        label_selector: str | None = None,
        metrics: RuntimeMetrics | None = None,
        mode: str = "standalone",
        local: LocalArtifacts | None = None,
    ) -> None:
        self.settings = settings.normalized()
        self.changes = ChangeLog()
        self.cache = ViewCache(
            api, self.changes, pool=pool, namespace=namespace, label_selector=label_selector
        )
        self.runner = ActionRunner(api, self.changes, self.settings.action_timeout)
        self.bindings = (
            RoleBindingIndex(api, namespace) if self.settings.auth.mode != "none" else None
        )
        self.state = WebState(
            api, self.cache, self.changes, self.settings, self.runner, metrics, mode, local
        )
        if self.state.reviewer is not None and self.bindings is not None:
            self.state.reviewer.bindings = self.bindings
            self.bindings.on_change(self.state.reviewer.binding_changed)
        self.server = WebServer(create_app(self.state), self.settings.addr)

    @property
    def url(self) -> str:
        """The server's root URL with the base path (``http://127.0.0.1:9080/gitops``)."""
        return self.server.url + self.settings.base_path

    async def start(self, sync_timeout: float | None = None) -> None:
        """Start the caches (waiting up to ``sync_timeout`` for the UI's own informers) and
        the HTTP server."""
        await self.cache.start(sync_timeout)
        if self.bindings is not None:
            await self.bindings.start()
        await self.server.start()

    async def stop(self) -> None:
        self.changes.close()
        await self.server.stop()
        await self.runner.close()
        if self.bindings is not None:
            await self.bindings.stop()
        await self.cache.stop()


class WebService:
    """The UI as a manager service of ``weir run`` (see the module docstring)."""

    def __init__(self, ctx: ControllerContext, settings: WebSettings | None = None) -> None:
        self.ui = WebUI(
            ctx.api,
            settings or settings_of(ctx),
            pool=ctx.informers,
            namespace=ctx.namespace,
            label_selector=ctx.label_selector,
            metrics=ctx.metrics,
            mode="embedded",
            local=ctx.shared_service(LocalArtifacts, LocalArtifacts),
        )

    async def start(self) -> None:
        # Services start before the manager starts the shared informers: the UI adds its
        # handlers to them now and starts only its own informers, without waiting.
        await self.ui.start()

    async def stop(self) -> None:
        await self.ui.stop()


def settings_of(ctx: ControllerContext) -> WebSettings:
    """The :class:`WebSettings` in ``ctx.run.features``, else the defaults."""
    return ctx.feature(WebSettings)
