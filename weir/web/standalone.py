"""``weir ui``: the web UI on its own, with its own informers, until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from kubernetes_asyncio.client import ApiClient

from weir.kube.client import api_client
from weir.web.service import WebUI
from weir.web.settings import WebSettings

log = logging.getLogger("weir.web")
SYNC_TIMEOUT = 30.0


@contextlib.asynccontextmanager
async def running_ui(
    api: ApiClient,
    settings: WebSettings,
    *,
    namespace: str | None = None,
    sync_timeout: float | None = SYNC_TIMEOUT,
) -> AsyncIterator[WebUI]:
    """A started :class:`WebUI` on ``api`` (for ``weir ui``, tests and benchmarks)."""
    ui = WebUI(api, settings, namespace=namespace)
    await ui.start(sync_timeout)
    try:
        yield ui
    finally:
        await ui.stop()


async def serve(
    settings: WebSettings,
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    namespace: str | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Serve until ``stop`` is set or SIGTERM/SIGINT; returns the exit code."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        api = await api_client(kubeconfig, context)
        async with api, running_ui(api, settings, namespace=namespace) as ui:
            print(f"weir UI: {ui.url}/", flush=True)
            await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
    return 0
