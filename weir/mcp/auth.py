"""Who calls the MCP server over HTTP, ADR 0004 applied to MCP:

- ``weir mcp --users-file``: the web UI's users file; callers send ``Authorization: Bearer
  <token>`` of a listed user;
- ``weir mcp --web-config``: the web UI's OIDC configuration (the Flux Operator's web config);
  callers send an **ID token** of that issuer whose ``aud`` is one of the accepted audiences
  (``--audience``, default the config's client ID), mapped to a Kubernetes identity with the
  config's CEL expressions, as the web UI maps its users. The server then publishes its
  OAuth 2.0 Protected Resource Metadata (RFC 9728, the MCP authorization spec's discovery) at
  ``/.well-known/oauth-protected-resource<path>``, naming the issuer as its authorization
  server, and every 401 points at it (``WWW-Authenticate: Bearer resource_metadata=...``).

Anything else gets ``401``. Each tool call then runs as the caller: the API client
impersonates them (``Impersonate-User``, one ``Impersonate-Group`` per group), so the cluster's
RBAC decides what an assistant may see and do, per person or per agent.

:data:`CALLER` carries the caller of the tool call being run; :mod:`weir.mcp.tooling` sets it
from the request's headers and :class:`weir.mcp.env.ToolEnv` reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from weir.auth.oidc import BearerVerifier, SignInError
from weir.auth.users import Authenticator, AuthSettings, Identity
from weir.mcp.settings import McpSettings

CALLER: ContextVar[Identity | None] = ContextVar("weir_mcp_caller", default=None)
REALM = "weir-mcp"


class Callers(Protocol):
    """Names the caller of a request from its headers (None: refused)."""

    async def identify(self, headers: Mapping[str, str]) -> Identity | None: ...


class TokenCallers:
    """``--users-file`` bearer tokens."""

    def __init__(self, settings: McpSettings) -> None:
        self._auth = Authenticator(AuthSettings(mode="token", users=settings.users))

    async def identify(self, headers: Mapping[str, str]) -> Identity | None:
        return self._auth.identify(headers, {})


class OidcCallers:
    """ID tokens of the ``--web-config`` issuer with an accepted audience."""

    def __init__(self, settings: McpSettings) -> None:
        assert settings.oidc is not None
        self.verifier = BearerVerifier.from_config(settings.oidc, settings.audiences)

    async def identify(self, headers: Mapping[str, str]) -> Identity | None:
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return (await self.verifier.verify(token.strip())).identity
        except SignInError:
            return None


def callers_for(settings: McpSettings) -> Callers | None:
    """How HTTP callers are named (None: no authentication)."""
    if settings.oidc is not None:
        return OidcCallers(settings)
    if settings.users:
        return TokenCallers(settings)
    return None


class BearerGate:
    """Refuses requests to ``path`` that :class:`Callers` cannot name."""

    def __init__(
        self, app: ASGIApp, callers: Callers, path: str, metadata_url: str | None = None
    ) -> None:
        self.app = app
        self.callers = callers
        self.path = path
        self.metadata_url = metadata_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(self.path):
            request = Request(scope)
            if await self.callers.identify(request.headers) is None:
                challenge = f'Bearer realm="{REALM}"'
                if self.metadata_url:
                    challenge += f', resource_metadata="{self.metadata_url}"'
                if request.headers.get("authorization"):
                    challenge += ', error="invalid_token"'
                hint = (
                    "send Authorization: Bearer <ID token> of the configured issuer"
                    if self.metadata_url
                    else "send Authorization: Bearer <token> of a user in --users-file"
                )
                response = JSONResponse(
                    {"error": hint}, status_code=401, headers={"WWW-Authenticate": challenge}
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
