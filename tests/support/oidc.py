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
from weir.testing.gitea import GiteaServer, GiteaUser, OAuth2App


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
