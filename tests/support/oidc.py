"""Gitea as the OpenID Connect provider of weir's web UI in tests: an OAuth2 application whose
redirect URI is the UI's callback, the Flux Operator web config that points weir at it, and a
sign-in over plain HTTP (Gitea's HTML login form, then weir's callback) for tests that do not
need a browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import yaml

from weir.devcluster.process import free_port
from weir.testing.gitea import GiteaServer, GiteaUser, OAuth2App, pkce_pair


def oidc_app(gitea: GiteaServer, owner: GiteaUser, port: int) -> OAuth2App:
    """An OAuth2 application of ``owner`` for a UI served on ``127.0.0.1:<port>``."""
    callback = f"http://127.0.0.1:{port}/oauth2/callback"
    return gitea.client(owner).create_oauth2_application(f"weir-{port}", [callback])


def web_config(gitea: GiteaServer, app: OAuth2App, port: int, **oauth2: Any) -> dict[str, Any]:
    """A ``web.fluxcd.controlplane.io/v1`` Config for Gitea (``oauth2`` adds or overrides
    fields of ``spec.authentication.oauth2``)."""
    return {
        "apiVersion": "web.fluxcd.controlplane.io/v1",
        "kind": "Config",
        "spec": {
            "baseURL": f"http://127.0.0.1:{port}",
            "insecure": True,
            "authentication": {
                "type": "OAuth2",
                "sessionDuration": "8h",
                "oauth2": {
                    "provider": "OIDC",
                    "clientID": app.client_id,
                    "clientSecret": app.client_secret,
                    "issuerURL": gitea.issuer,
                    **oauth2,
                },
            },
            "userActions": {"audit": ["*"], "access": "Impersonated"},
        },
    }


def write_config(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def ui_port() -> int:
    return free_port()


async def sign_in(
    http: httpx.AsyncClient, gitea: GiteaServer, user: GiteaUser, redirect: str = "/"
) -> httpx.Response:
    """Sign ``http`` (a client of the UI, keeping cookies) in as ``user``: weir's
    ``/oauth2/authorize``, Gitea's login form and consent, weir's callback. Returns the
    callback's answer (a redirect)."""
    start = await http.get("/oauth2/authorize", params={"redirect": redirect})
    assert start.status_code == 302, start.text
    with gitea.sign_in(user) as session:
        callback = gitea.authorize(session, start.headers["location"])
    parts = urlsplit(callback)
    return await http.get(f"{parts.path}?{parts.query}")


def code_of(callback: str) -> tuple[str, str]:
    query = parse_qs(urlsplit(callback).query)
    return query["code"][0], query["state"][0]


def id_token_for(gitea: GiteaServer, user: GiteaUser, app: OAuth2App) -> str:
    """An ID token of ``user`` for ``app`` (``aud`` = its client ID), as an agent's own OIDC
    client would get it: the authorization code flow with PKCE, scopes openid, email, groups."""
    verifier, challenge = pkce_pair()
    url = gitea.authorize_url(app, scope="openid email profile groups", code_challenge=challenge)
    with gitea.sign_in(user) as session:
        callback = gitea.authorize(session, url)
    code, _ = code_of(callback)
    tokens = httpx.post(
        f"{gitea.base_url}/login/oauth/access_token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uris[0],
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "code_verifier": verifier,
        },
    )
    tokens.raise_for_status()
    return str(tokens.json()["id_token"])
