"""What every request handler of the web app shares."""

from __future__ import annotations

from dataclasses import dataclass, field

from kubernetes_asyncio.client import ApiClient

from weir.artifact.local import LocalArtifacts
from weir.auth.users import Authenticator
from weir.runtime.metrics import RuntimeMetrics
from weir.web.cache import ViewCache
from weir.web.changes import ChangeLog
from weir.web.operations import ActionRunner
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
    local: LocalArtifacts | None = None
    """``weir run``'s own artifact storage: its artifacts are served from disk."""
    auth: Authenticator = field(init=False)
    """Resolves who sends each request (from ``settings.auth``)."""

    def __post_init__(self) -> None:
        self.auth = Authenticator(self.settings.auth)
