"""Running weir's controllers in-process, for tests and benchmarks: the same Manager that
``weir run`` uses, with free ports and fast retry settings, logging as ``weir run`` does
(its default level and encoding, the same handler and formatter) when given a log file."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

from weir import log
from weir.helm.settings import HelmSettings
from weir.kustomize.settings import KustomizeSettings
from weir.notification.settings import NotificationSettings
from weir.operator.settings import OperatorSettings
from weir.runtime.manager import Manager
from weir.runtime.settings import RunSettings
from weir.source.settings import SourceSettings, StorageSettings


def _features(storage_dir: Path, requeue_dependency: float) -> tuple[object, ...]:
    return (
        SourceSettings(
            storage=StorageSettings(path=str(storage_dir), addr="127.0.0.1:0"),
            requeue_dependency=requeue_dependency,
        ),
        KustomizeSettings(requeue_dependency=requeue_dependency),
        HelmSettings(requeue_dependency=requeue_dependency),
        NotificationSettings(receiver_addr="127.0.0.1:0"),  # never a fixed port in tests
    )


@contextlib.asynccontextmanager
async def running_controllers(
    kubeconfig: str,
    storage_dir: Path,
    controllers: str = "source,source-watcher,kustomize,helm",
    *,
    concurrent: int = 4,
    requeue_dependency: float = 1.0,
    min_retry_delay: float = 0.5,
    sops_age_secret: tuple[str, str] | None = None,
    log_file: Path | None = None,
    notification: NotificationSettings | None = None,
    health_addr: str = "0",
) -> AsyncIterator[Manager]:
    """Start a :class:`Manager` with ``controllers`` and wait until its caches synced. With
    ``log_file``, every record goes there as ``weir run`` writes it to stderr: its default
    ``--log-level`` and ``--log-encoding`` (info, JSON), through :func:`weir.log.configure`,
    so every log call at info and above is rendered (a bad ``extra=`` would fail the run).
    The notification controller's servers are off unless ``notification`` says where they
    listen (the defaults are fixed ports)."""
    settings = RunSettings(
        controllers=controllers,
        kubeconfig=kubeconfig,
        metrics_addr="0",
        health_addr=health_addr,
        concurrent=concurrent,
        min_retry_delay=min_retry_delay,
        graceful_shutdown_timeout=5.0,
        features=(
            SourceSettings(
                storage=StorageSettings(path=str(storage_dir), addr="127.0.0.1:0"),
                requeue_dependency=requeue_dependency,
            ),
            KustomizeSettings(
                requeue_dependency=requeue_dependency, sops_age_secret=sops_age_secret
            ),
            HelmSettings(requeue_dependency=requeue_dependency),
            notification or NotificationSettings(receiver_addr="0"),
        ),
    )
    async with _started(Manager(settings), log_file) as manager:
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
        features=(
            *_features(storage_dir, 1.0),
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
async def running_resourcesets(
    kubeconfig: str,
    storage_dir: Path,
    *,
    watch_namespace: str | None = None,
    controllers: str = "resourcesets",
    requeue_dependency: float = 1.0,
) -> AsyncIterator[Manager]:
    """``weir run --controllers=resourcesets`` in-process (ResourceSets and their input
    providers, without FluxInstances), dependencies re-checked every ``requeue_dependency``."""
    settings = RunSettings(
        controllers=controllers,
        kubeconfig=kubeconfig,
        metrics_addr="127.0.0.1:0",
        health_addr="0",
        min_retry_delay=0.5,
        max_retry_delay=2.0,
        graceful_shutdown_timeout=5.0,
        watch_namespace=watch_namespace,
        features=(
            *_features(storage_dir, requeue_dependency),
            OperatorSettings(requeue_dependency=requeue_dependency),
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
        features=(*_features(storage_dir, 30.0), OperatorSettings(plan_configmap=configmap)),
    )
    async with _started(Manager(settings)) as manager:
        yield manager


@contextlib.asynccontextmanager
async def _started(manager: Manager, log_file: Path | None = None) -> AsyncIterator[Manager]:
    settings = manager.settings
    handler: logging.Handler | None = None
    out = log_file.open("a", encoding="utf-8") if log_file is not None else None
    if out is not None:
        handler = log.configure(
            settings.log_level, settings.log_encoding, stream=out, replace=False
        )
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
        if handler is not None:
            logging.getLogger().removeHandler(handler)
        if out is not None:
            out.close()
