"""The ASGI app: the JSON API (:mod:`weir.web.api`), its OpenAPI document, and the UI bundle
with SPA fallback, all under the base path."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from weir.auth.hosts import HostGate
from weir.web.api import ENDPOINTS, wrap
from weir.web.openapi import document
from weir.web.responses import JSON, error
from weir.web.signin import apply_cookies, secure_cookies
from weir.web.signin import routes as signin_routes
from weir.web.state import WebState
from weir.web.static import StaticUI

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


class AuthGate:
    """Resolves who sends each API request (:mod:`weir.auth.signin`) into
    ``request.state.caller`` (and ``identity``); with authentication on, refuses anonymous API
    requests with 401, except the sign-in endpoints and the OpenAPI document. Cookies the
    sign-in produces (a refreshed OIDC session, a stale one cleared) go out with the response.
    The UI bundle itself is public: it holds no data."""

    def __init__(self, app: ASGIApp, state: WebState) -> None:
        self.app = app
        self.state = state
        base = state.settings.base_path
        self.api_prefix = f"{base}/api/"
        self.public = {
            f"{base}/api/v1/auth/whoami",
            f"{base}/api/v1/auth/login",
            f"{base}/api/v1/auth/logout",
            f"{base}/api/openapi.json",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.api_prefix):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        resolved = await self.state.signin.resolve(request.headers, request.cookies)
        caller = resolved.caller
        state = scope.setdefault("state", {})
        state["caller"] = caller
        state["identity"] = caller.identity if caller is not None else None
        if resolved.cookies:
            carrier = Response()
            apply_cookies(
                carrier, resolved.cookies, self.state, secure_cookies(request, self.state)
            )
            extra = [(k, v) for k, v in carrier.raw_headers if k == b"set-cookie"]
            send = _with_headers(send, extra)
        if caller is None and self.state.signin.enabled and scope["path"] not in self.public:
            response = error(401, "sign in first: this UI needs authentication")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return sending


def routes(state: WebState) -> list[BaseRoute]:
    base = state.settings.base_path
    spec = document(base)

    async def openapi(request: Request) -> Response:
        return JSON(spec)

    async def unknown_api(request: Request) -> Response:
        return error(404, f"no such API endpoint: {request.method} {request.url.path}")

    async def to_base(request: Request) -> Response:
        return RedirectResponse(f"{base}/", status_code=307)

    found: list[BaseRoute] = [
        Route(f"{base}{e.path}", wrap(e.handler), methods=[e.method]) for e in ENDPOINTS
    ]
    found.append(Route(f"{base}/api/openapi.json", openapi, methods=["GET"]))
    found.extend(signin_routes(base))
    found.append(
        Route(f"{base}/api/{{path:path}}", unknown_api, methods=["GET", "POST", "PUT", "DELETE"])
    )
    ui = StaticUI(state.settings.static_dir, base)
    if base:
        found.append(Route(base, to_base, methods=["GET"]))
        found.append(Route("/", to_base, methods=["GET"]))
    found.append(Route(f"{base}/{{path:path}}", ui.serve, methods=["GET", "HEAD"]))
    return found


def create_app(state: WebState) -> ASGIApp:
    app = Starlette(routes=routes(state))
    app.state.web = state
    gated = HostGate(AuthGate(app, state), state.settings.host_rule(), "web")
    return SecurityHeaders(gated)
