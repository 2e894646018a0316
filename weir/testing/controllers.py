"""Running weir's controllers in-process, for tests and benchmarks: the same Manager that
``weir run`` uses, with free ports and fast retry settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from weir.runtime.manager import Manager
from weir.runtime.settings import (
    KustomizeSettings,
    NotificationSettings,
    RunSettings,
    StorageSettings,
)


@contextlib.asynccontextmanager
async def running_controllers(
    kubeconfig: str,
    storage_dir: Path,
    controllers: str = "source,kustomize,helm",
    *,
    concurrent: int = 4,
    requeue_dependency: float = 1.0,
    min_retry_delay: float = 0.5,
    sops_age_secret: tuple[str, str] | None = None,
    notification: NotificationSettings | None = None,
) -> AsyncIterator[Manager]:
    """Start a :class:`Manager` with ``controllers`` and wait until its caches synced.

    The notification controller's servers are off unless ``notification`` says where they
    listen (the defaults are fixed ports)."""
    settings = RunSettings(
        controllers=controllers,
        kubeconfig=kubeconfig,
        metrics_addr="0",
        health_addr="0",
        concurrent=concurrent,
        min_retry_delay=min_retry_delay,
        graceful_shutdown_timeout=5.0,
        storage=StorageSettings(path=str(storage_dir), addr="127.0.0.1:0"),
        kustomize=KustomizeSettings(
            requeue_dependency=requeue_dependency, sops_age_secret=sops_age_secret
        ),
        notification=notification or NotificationSettings(receiver_addr="0"),
    )
    manager = Manager(settings)
    task = asyncio.create_task(manager.run(), name="weir-test-manager")
    try:
        async with asyncio.timeout(60):
            while not manager.ready()[0]:
                if task.done():
                    task.result()  # raises what made it stop
                    raise RuntimeError("the controllers stopped during start-up")
                await asyncio.sleep(0.05)
        yield manager
    finally:
        manager.request_stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task
