"""What every request handler of the web app shares."""

from __future__ import annotations

from dataclasses import dataclass, field

from kubernetes_asyncio.client import ApiClient

from weir.artifact.local import LocalArtifacts
from weir.auth.rbac import AccessReviewer
from weir.auth.signin import SignIn
from weir.auth.users import Authenticator
from weir.runtime.metrics import RuntimeMetrics
from weir.web.access import READ_RESOURCES, FilteredRows
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
    signin: SignIn = field(init=False)
    """Resolves who sends each request (from ``settings.auth``)."""
    reviewer: AccessReviewer | None = field(init=False)
    """What each signed-in user may read and do (None without sign-in: nothing filtered)."""
    filtered: FilteredRows = field(init=False, default_factory=FilteredRows)

    def __post_init__(self) -> None:
        self.signin = SignIn(self.settings.auth)
        self.reviewer = None
        if self.signin.enabled:
            self.reviewer = AccessReviewer(
                self.api,
                READ_RESOURCES,
                ttl=self.settings.access_ttl,
                capacity=self.settings.auth.user_cache_size,
            )
        self.runner.reviewer = self.reviewer
        self.runner.access_mode = (
            self.settings.auth.config.spec.user_actions.access
            if self.settings.auth.config is not None
            else "Impersonated"
        )

    @property
    def auth(self) -> Authenticator:
        """The token/proxy authenticator (``--web-users-file``, ``--web-auth-proxy-header``)."""
        return self.signin.tokens
