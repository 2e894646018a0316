"""One Helm engine per ``weir run`` process, created on first use and closed at shutdown.

The source controllers (packaging charts) and the HelmRelease controller share it::

    service = engine_service(ctx)      # one per context, started and stopped by the manager
    engine = service.get()             # loads helm-python-sdk (85 MB) on the first call

Loading lazily keeps ``weir run --controllers=source`` fast when no chart needs packaging, and
turns a missing helm-python-sdk into an error of the objects that need it rather than of the
whole process.
"""

from __future__ import annotations

from weir.helmengine.engine import HelmEngine
from weir.runtime.factories import ControllerContext


def default_engine(*, concurrency: int = 4) -> HelmEngine:
    """The Helm engine weir uses (helm-python-sdk); raises
    :class:`~weir.helmengine.errors.EngineUnavailableError` when it is not installed."""
    from weir.helmengine.sdk import SdkEngine  # noqa: PLC0415 - loads an 85 MB library

    return SdkEngine(concurrency=concurrency)


class EngineService:
    """Holds the process's :class:`HelmEngine` (a manager service: stop closes it)."""

    def __init__(self, concurrency: int = 4) -> None:
        self.concurrency = concurrency
        self._engine: HelmEngine | None = None

    def get(self) -> HelmEngine:
        """The engine; raises :class:`~weir.helmengine.errors.EngineUnavailableError` when
        helm-python-sdk cannot be loaded."""
        if self._engine is None:
            self._engine = default_engine(concurrency=self.concurrency)
        return self._engine

    async def start(self) -> None:
        """Nothing to start: the engine loads on first use."""

    async def stop(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            await engine.aclose()


def engine_service(ctx: ControllerContext) -> EngineService:
    """The engine service of ``ctx`` (created, and added to ``ctx.services``, on first call)."""
    return ctx.shared_service(
        EngineService, lambda: EngineService(concurrency=max(1, ctx.settings.workers))
    )
