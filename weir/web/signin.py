"""The browser side of OIDC sign-in (the paths of the Flux Operator's UI, under the base path):

- ``GET /oauth2/authorize?redirect=/path``: off to the identity provider;
- ``GET /oauth2/callback``: back from it; the session cookies are set and the browser returns
  to where it started (an error returns to ``/?signInError=...``);
- ``POST /logout``: the session cookies are cleared; the answer names the provider's sign-out
  page when it has one (``endSessionURL``).

:func:`apply_cookies` writes the ``Set-Cookie`` headers that sign-in produces (session chunks,
flow cookie, deletions) with the right attributes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from weir.auth.oidc import FLOW_COOKIE, SignInError
from weir.auth.sealed import SetCookie
from weir.log import kv
from weir.web.responses import JSON, error
from weir.web.state import WebState

log = logging.getLogger("weir.web")
ACTION_HEADER = "X-Weir-Request"


def secure_cookies(request: Request, st: WebState) -> bool:
    """Cookies carry ``Secure`` unless the config says ``insecure: true`` or the UI is served
    over plain http (nothing would send them back otherwise)."""
    config = st.settings.auth.config
    if config is not None and config.spec.insecure:
        return False
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
    base = (config.spec.base_url or "") if config is not None else ""
    return request.url.scheme == "https" or forwarded == "https" or base.startswith("https:")


def apply_cookies(
    response: Response, cookies: Iterable[SetCookie], st: WebState, secure: bool
) -> None:
    path = st.settings.base_path or "/"
    for c in cookies:
        flow = c.name == FLOW_COOKIE
        if c.value is None:
            response.delete_cookie(
                c.name,
                path=path,
                secure=secure,
                httponly=True,
                samesite="lax" if flow else "strict",
            )
            continue
        response.set_cookie(
            c.name,
            c.value,
            max_age=c.max_age,
            path=path,
            httponly=True,
            secure=secure,
            # The flow cookie must come back with the provider's redirect (a cross-site
            # navigation); the session only ever with the UI's own requests.
            samesite="lax" if flow else "strict",
        )


def _return_path(request: Request, st: WebState) -> str:
    wanted = request.query_params.get("redirect") or ""
    base = st.settings.base_path
    if not wanted.startswith("/") or wanted.startswith("//") or "\\" in wanted:
        return f"{base}/"
    if base and not (wanted == base or wanted.startswith(base + "/")):
        return f"{base}/"
    return wanted


async def authorize(request: Request) -> Response:
    st: WebState = request.app.state.web
    oidc = st.signin.oidc
    if oidc is None:
        return error(404, "this UI does not sign in with OIDC (no OAuth2 web config)")
    try:
        url, flow = await oidc.start(_return_path(request, st))
    except SignInError as e:
        log.warning("oidc sign-in cannot start: %s", e)
        return error(502, str(e))
    response = RedirectResponse(url, status_code=302)
    apply_cookies(response, [flow], st, secure_cookies(request, st))
    return response


async def callback(request: Request) -> Response:
    st: WebState = request.app.state.web
    oidc = st.signin.oidc
    base = st.settings.base_path
    if oidc is None:
        return error(404, "this UI does not sign in with OIDC (no OAuth2 web config)")
    q = request.query_params
    secure = secure_cookies(request, st)
    problem = q.get("error_description") or q.get("error")
    if problem:
        message = f"the identity provider refused the sign-in: {problem}"
    elif not q.get("code"):
        message = "the identity provider sent no authorization code"
    else:
        try:
            session, to, cookies = await oidc.finish(q["code"], q.get("state", ""), request.cookies)
        except SignInError as e:
            message = str(e)
        else:
            log.info(
                "web sign-in",
                extra=kv(user=session.identity.user, groups=list(session.identity.groups)),
            )
            response = RedirectResponse(to or f"{base}/", status_code=302)
            apply_cookies(response, cookies, st, secure)
            return response
    log.warning("web sign-in failed: %s", message)
    response = RedirectResponse(f"{base}/?signInError={quote(message)}", status_code=302)
    apply_cookies(response, [SetCookie(FLOW_COOKIE, None)], st, secure)
    return response


async def logout(request: Request) -> Response:
    st: WebState = request.app.state.web
    if not request.headers.get(ACTION_HEADER):
        return error(
            403, f"this request needs the {ACTION_HEADER} header (cross-site requests are refused)"
        )
    body: dict[str, object] = {"signedOut": True, "endSessionURL": None}
    cookies: list[SetCookie] = []
    if st.signin.oidc is not None:
        cookies = st.signin.oidc.sign_out(request.cookies)
        config = st.settings.auth.config
        base_url = (config.spec.base_url or "") if config is not None else ""
        home = base_url or f"{request.url.scheme}://{urlsplit(str(request.url)).netloc}"
        body["endSessionURL"] = await st.signin.oidc.provider.end_session_url(home)
    response = JSON(body)
    apply_cookies(response, cookies, st, secure_cookies(request, st))
    return response


def routes(base: str) -> list[BaseRoute]:
    return [
        Route(f"{base}/oauth2/authorize", authorize, methods=["GET"]),
        Route(f"{base}/oauth2/callback", callback, methods=["GET"]),
        Route(f"{base}/logout", logout, methods=["POST"]),
    ]
