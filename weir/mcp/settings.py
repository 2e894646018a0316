"""What an MCP server instance is allowed to do and how it talks to the cluster."""

from __future__ import annotations

from dataclasses import dataclass, field

from weir.auth.users import User
from weir.auth.webconfig import WebConfig
from weir.errors import UsageError

DEFAULT_ADDR = "127.0.0.1:9081"
DEFAULT_PATH = "/mcp"
DEFAULT_MAX_OUTPUT = 64 * 1024
"""Characters of text a tool may return (about 16k tokens); more is cut with a marker."""
DEFAULT_CALL_TIMEOUT = 120.0
FIELD_MANAGER = "weir-mcp"
"""The field manager of ``apply_manifest`` and of the annotations/patches of the Flux tools."""


@dataclass(frozen=True)
class McpSettings:
    """Settings of one MCP server (``weir mcp`` flags, or built by ``weir run``)."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    """Default namespace of the tools (None: the kubeconfig context's, else ``default``)."""
    read_only: bool = False
    """Register no tool that changes the cluster."""
    mask_secrets: bool = True
    """Replace Secret values (and Helm values that come from Secrets) with ``***``."""
    kube_as: str | None = None
    """Impersonate this user for every API call, so that the cluster's RBAC decides."""
    kube_as_groups: tuple[str, ...] = ()
    max_output: int = DEFAULT_MAX_OUTPUT
    call_timeout: float = DEFAULT_CALL_TIMEOUT
    """Upper bound of one tool call, in seconds (waits of reconcile/resume included)."""
    tool_log: str | None = None
    """Also append the tool-call log (JSON lines) to this file."""
    allowed_hosts: tuple[str, ...] = field(default=())
    """Extra ``Host`` header values the HTTP transport accepts (DNS rebinding protection)."""
    users: tuple[User, ...] = ()
    """``--users-file``: HTTP callers must send the bearer token of one of these users, and the
    tools impersonate the caller (:mod:`weir.mcp.auth`)."""
    oidc: WebConfig | None = None
    """``--web-config``: HTTP callers must send an ID token of its OIDC issuer (the web UI's
    configuration), and the tools impersonate the caller (:mod:`weir.mcp.auth`)."""
    audiences: tuple[str, ...] = ()
    """``--audience``: the ``aud`` values accepted (default: the config's client ID)."""
    resource_url: str | None = None
    """``--resource-url``: the MCP endpoint's public URL, as clients reach it (default:
    ``http://<addr><path>``); named in the protected resource metadata."""

    def __post_init__(self) -> None:
        if self.kube_as_groups and not self.kube_as:
            raise UsageError(
                "--kube-as-group needs --kube-as: the API server impersonates groups only "
                "together with a user"
            )
        if self.users and self.kube_as:
            raise UsageError(
                "--users-file and --kube-as exclude each other: with a users file every call "
                "already impersonates its caller"
            )
        if self.oidc is not None and (self.users or self.kube_as):
            raise UsageError(
                "--web-config excludes --users-file and --kube-as: with OIDC every call "
                "impersonates its caller"
            )
        if self.oidc is not None and self.oidc.oauth2 is None:
            raise UsageError(
                "--web-config: the MCP server needs authentication.type OAuth2 (its issuer "
                "and claims mapping) to accept bearer tokens"
            )
        if self.max_output < 1024:
            raise UsageError("--max-output must be at least 1024 characters")
        if self.call_timeout <= 0:
            raise UsageError("--timeout must be positive")

    @property
    def identity(self) -> str:
        """Who the tools act as, for logs and error messages (see :meth:`ToolEnv.identity`
        for the caller of a call)."""
        if self.users:
            return "the caller (--users-file)"
        if self.oidc is not None:
            return "the caller (OIDC bearer token)"
        if not self.kube_as:
            return "kubeconfig user"
        groups = f" (groups {', '.join(self.kube_as_groups)})" if self.kube_as_groups else ""
        return f"{self.kube_as}{groups}"
