"""Who calls the MCP server over HTTP (``weir mcp --users-file``), ADR 0004 applied to MCP.

With a users file (the web UI's format, :func:`weir.auth.users.load_users`), every HTTP request to
the MCP endpoint needs ``Authorization: Bearer <token>`` of a listed user: anything else gets
``401`` with ``WWW-Authenticate: Bearer``. Each tool call then runs as that user: the API
client impersonates them (``Impersonate-User``, one ``Impersonate-Group`` per group), so the
cluster's RBAC decides what an assistant may see and do, per person or per agent.

:data:`CALLER` carries the caller of the tool call being run; :mod:`weir.mcp.tooling` sets it
from the request's headers and :class:`weir.mcp.env.ToolEnv` reads it.
"""

from __future__ import annotations

from contextvars import ContextVar

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from weir.auth.users import Authenticator, Identity

CALLER: ContextVar[Identity | None] = ContextVar("weir_mcp_caller", default=None)
REALM = "weir-mcp"


class BearerGate:
    """Refuses requests to ``path`` without the bearer token of a listed user."""

    def __init__(self, app: ASGIApp, auth: Authenticator, path: str) -> None:
        self.app = app
        self.auth = auth
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(self.path):
            request = Request(scope)
            if self.auth.identify(request.headers, {}) is None:
                response = JSONResponse(
                    {"error": "send Authorization: Bearer <token> of a user in --users-file"},
                    status_code=401,
                    headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
