"""What every request handler of the web app shares."""

from __future__ import annotations

from dataclasses import dataclass

from kubernetes_asyncio.client import ApiClient

from weir.runtime.metrics import RuntimeMetrics
from weir.web.actions import ActionRunner
from weir.web.cache import ViewCache
from weir.web.changes import ChangeLog
from weir.web.settings import WebSettings


@dataclass
class WebState:
    api: ApiClient
    cache: ViewCache
    changes: ChangeLog
    settings: WebSettings
    runner: ActionRunner
    metrics: RuntimeMetrics | None = None
    """The ``weir run`` process's metrics (None for ``weir ui``)."""
    mode: str = "standalone"
    """``embedded`` in ``weir run``, ``standalone`` in ``weir ui``."""
