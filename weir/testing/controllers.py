"""Running weir's controllers in-process, for tests and benchmarks: the same Manager that
``weir run`` uses, with free ports and fast retry settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

from weir.operator.settings import OperatorSettings
from weir.runtime.manager import Manager
from weir.runtime.settings import KustomizeSettings, RunSettings, StorageSettings


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
) -> AsyncIterator[Manager]:
    """Start a :class:`Manager` with ``controllers`` and wait until its caches synced."""
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
    )
    async with _started(Manager(settings)) as manager:
        yield manager


@contextlib.asynccontextmanager
async def running_operator(
    kubeconfig: str,
    storage_dir: Path,
    namespace: str,
    *,
    mode: Literal["local", "cluster"] = "local",
    watch_namespace: str | None = None,
    watch_label_selector: str | None = None,
    catalog: Path | None = None,
    reporting_interval: float = 300.0,
) -> AsyncIterator[Manager]:
    """``weir run --controllers=operator`` in-process: FluxInstances in ``namespace`` drive
    controllers in this process (``mode="local"``) or Deployments (``"cluster"``); metrics on
    a free loopback port (``manager.endpoints.bound["metrics"]``)."""
    settings = RunSettings(
        controllers="operator",
        kubeconfig=kubeconfig,
        metrics_addr="127.0.0.1:0",
        health_addr="0",
        min_retry_delay=0.5,
        graceful_shutdown_timeout=5.0,
        watch_namespace=watch_namespace,
        watch_label_selector=watch_label_selector,
        storage=StorageSettings(path=str(storage_dir), addr="127.0.0.1:0"),
        kustomize=KustomizeSettings(requeue_dependency=1.0),
        features=(
            OperatorSettings(
                mode=mode,
                namespace=namespace,
                reporting_interval=reporting_interval,
                catalog=str(catalog) if catalog else None,
            ),
        ),
    )
    async with _started(Manager(settings)) as manager:
        yield manager


@contextlib.asynccontextmanager
async def running_plan(
    kubeconfig: str, storage_dir: Path, configmap: str, *, watch_namespace: str | None = None
) -> AsyncIterator[Manager]:
    """``weir run --plan-configmap=NS/NAME`` in-process: how a FluxInstance unit's Deployment
    runs its controllers on a cluster."""
    settings = RunSettings(
        controllers="plan",
        kubeconfig=kubeconfig,
        metrics_addr="0",
        health_addr="0",
        min_retry_delay=0.5,
        graceful_shutdown_timeout=5.0,
        watch_namespace=watch_namespace,
        storage=StorageSettings(path=str(storage_dir), addr="127.0.0.1:0"),
        features=(OperatorSettings(plan_configmap=configmap),),
    )
    async with _started(Manager(settings)) as manager:
        yield manager


@contextlib.asynccontextmanager
async def _started(manager: Manager) -> AsyncIterator[Manager]:
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
