"""Settings of the web UI: where it listens, under which path it is served, and which host
names it answers to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from weir.auth.hosts import HostRule, parse_allowed
from weir.auth.users import AuthSettings
from weir.errors import UsageError

DEFAULT_ADDR = "127.0.0.1:9080"
_SEGMENT = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=:@%-]+$")


def normalize_base_path(value: str | None) -> str:
    """``gitops/``, ``/gitops`` or ``/gitops/`` -> ``/gitops``; ``""`` or ``/`` -> ``""``.

    The base path is the prefix an ingress serves the UI under (``--web-base-path``)."""
    text = (value or "").strip().strip("/")
    if not text:
        return ""
    for segment in text.split("/"):
        if not segment or segment in (".", "..") or not _SEGMENT.match(segment):
            raise UsageError(
                f"--web-base-path {value!r} is not a URL path: use e.g. /weir or /ops/gitops"
            )
    return "/" + text


@dataclass(frozen=True)
class WebSettings:
    """``--web-addr``, ``--web-base-path``, ``--web-allowed-hosts`` and the sign-in flags of
    ``weir run`` (and ``weir ui``)."""

    addr: str = DEFAULT_ADDR
    """``host:port`` to listen on; ``0`` disables the UI (``--web-addr``)."""
    base_path: str = ""
    """URL prefix, normalised by :func:`normalize_base_path` (``--web-base-path``)."""
    heartbeat: float = 15.0
    """Seconds between SSE heartbeats."""
    static_dir: Path | None = None
    """The UI bundle; None: ``weir/web/static`` in the package."""
    action_timeout: float = 300.0
    """How long a UI action waits for the controller's answer before reporting a timeout."""
    auth: AuthSettings = field(default_factory=AuthSettings)
    """Sign-in and who actions run as (``--web-config``, ``--web-users-file``,
    ``--web-auth-proxy-header``)."""
    kubeconfig: str | None = None
    """The kubeconfig weir was started with (for Helm's rollback, which talks to the cluster
    through its own client); None: in-cluster or the default kubeconfig."""
    context: str | None = None
    access_ttl: float = 60.0
    """How long a signed-in user's access (what they may list, per namespace) is kept before
    it is reviewed again (``--web-access-ttl``); actions are always checked when they run."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names the UI answers besides IP addresses, ``localhost`` and the ``--web-addr``
    host (``--web-allowed-hosts``: the ingress hosts); see :mod:`weir.auth.hosts`."""

    @property
    def enabled(self) -> bool:
        return self.addr.strip() not in ("0", "")

    def normalized(self) -> WebSettings:
        """A copy with the base path and allowed hosts normalised (raises
        :class:`UsageError` if invalid)."""
        return replace(
            self,
            base_path=normalize_base_path(self.base_path),
            allowed_hosts=parse_allowed(self.allowed_hosts, "--web-allowed-hosts"),
        )

    def host_rule(self) -> HostRule:
        """The DNS-rebinding protection of the UI (:mod:`weir.auth.hosts`)."""
        host = self.addr.rsplit(":", 1)[0].strip("[]") if ":" in self.addr else self.addr
        return HostRule.for_listener(host, self.allowed_hosts)
