"""OIDC sign-in to the web UI with Gitea as the identity provider (the real one, on loopback),
configured with the Flux Operator's web config: the authorization code flow with PKCE, state
and nonce, the claims mapped by CEL (groups from Gitea's organisations), sealed session
cookies, a refresh with the refresh token, ID tokens as bearer tokens, and sign-out. What the
signed-in user sees is their RBAC's (the ``flux-web-user`` role in one namespace)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient

from tests.integration.test_web_api import HEADERS, fleet
from tests.support.oidc import oidc_app, sign_in, ui_port, web_config, write_config
from tests.support.rbac import bind, binding_seen, install_web_roles
from weir.auth.oidc import SESSION_COOKIE
from weir.auth.users import AuthSettings
from weir.auth.webconfig import load_web_config
from weir.testing.gitea import GiteaServer, GiteaUser, pkce_pair
from weir.web.service import WebUI
from weir.web.settings import WebSettings
from weir.web.standalone import running_ui

pytestmark = pytest.mark.usefixtures("flux_crds")


class Setup:
    def __init__(self, ui: WebUI, org: str, user: GiteaUser, config: Path) -> None:
        self.ui, self.org, self.user, self.config = ui, org, user, config


@pytest.fixture(scope="module")
async def setup(
    kube: ApiClient, gitea: GiteaServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Setup]:
    await install_web_roles(kube)
    owner = gitea.create_user()
    org = gitea.client(owner).create_org()
    user = gitea.create_user()
    gitea.client(owner).add_org_member(org, user.username)
    port = ui_port()
    app = oidc_app(gitea, owner, port)
    doc = web_config(
        gitea,
        app,
        port,
        variables=[{"name": "domain", "expression": "claims.email.split('@')[1]"}],
        validations=[
            {"expression": "variables.domain == 'weir.invalid'", "message": "wrong domain"},
            {"expression": "claims.email_verified == true", "message": "verify your email"},
        ],
        profile={"name": "claims.preferred_username"},
        impersonation={"username": "claims.email", "groups": "claims.groups"},
    )
    path = write_config(tmp_path_factory.mktemp("oidc") / "config.yaml", doc)
    auth = AuthSettings.from_config(load_web_config(path))
    settings = WebSettings(addr=f"127.0.0.1:{port}", heartbeat=0.5, auth=auth, access_ttl=1.0)
    async with running_ui(kube, settings) as ui:
        yield Setup(ui, org, user, path)


async def test_sign_in_through_gitea_and_see_what_rbac_allows(
    kube: ApiClient, gitea: GiteaServer, setup: Setup, namespace: str
) -> None:
    ui, user = setup.ui, setup.user
    await fleet(kube, ui, namespace)
    await bind(kube, "flux-web-user", setup.org, namespace)
    await binding_seen(ui, user.email, setup.org, namespace)
    async with httpx.AsyncClient(base_url=ui.url, timeout=20, headers=HEADERS) as http:
        assert (await http.get("/api/v1/resources")).status_code == 401
        me = (await http.get("/api/v1/auth/whoami")).json()
        assert (me["mode"], me["authenticated"], me["signInURL"]) == (
            "oidc",
            False,
            "/oauth2/authorize",
        )

        start = await http.get("/oauth2/authorize", params={"redirect": "/resources?kind=ks"})
        assert start.status_code == 302
        query = parse_qs(urlsplit(start.headers["location"]).query)
        assert start.headers["location"].startswith(f"{gitea.base_url}/login/oauth/authorize?")
        assert query["code_challenge_method"] == ["S256"]
        assert query["redirect_uri"] == [f"{ui.url}/oauth2/callback"]
        assert set(query["scope"][0].split()) >= {"openid", "email", "groups", "offline_access"}
        assert query["state"]
        assert query["nonce"]
        flow = start.headers["set-cookie"].lower()
        assert "httponly" in flow
        assert "samesite=lax" in flow
        http.cookies.clear()

        done = await sign_in(http, gitea, user, redirect="/resources?kind=ks")
        assert done.status_code == 302, done.text
        assert done.headers["location"] == "/resources?kind=ks"
        cookies = "\n".join(done.headers.get_list("set-cookie")).lower()
        assert f"{SESSION_COOKIE}=" in cookies
        assert "samesite=strict" in cookies
        assert "httponly" in cookies

        me = (await http.get("/api/v1/auth/whoami")).json()
        assert me["user"] == user.email
        assert setup.org in me["groups"]
        assert (me["name"], me["provider"], me["authenticated"]) == (user.username, "oidc", True)

        rows = (await http.get("/api/v1/resources", params={"limit": 1000})).json()["items"]
        assert rows
        assert {r["namespace"] for r in rows} == {namespace}
        other = await http.get("/api/v1/resources/Kustomization/kube-system/x")
        assert other.status_code == 403

        out = await http.post("/logout")
        assert out.status_code == 200
        assert out.json()["signedOut"] is True
        assert (await http.get("/api/v1/resources")).status_code == 401


async def test_a_tampered_or_replayed_callback_is_refused(gitea: GiteaServer, setup: Setup) -> None:
    ui, user = setup.ui, setup.user
    async with httpx.AsyncClient(base_url=ui.url, timeout=20) as http:
        start = await http.get("/oauth2/authorize")
        with gitea.sign_in(user) as session:
            callback = gitea.authorize(session, start.headers["location"])
        parts = urlsplit(callback)
        forged = parts.query.replace("state=", "state=x")
        refused = await http.get(f"{parts.path}?{forged}")
        assert refused.status_code == 302
        assert "signInError=" in refused.headers["location"]
        assert "state" in refused.headers["location"]
        assert SESSION_COOKIE not in http.cookies

        # Another browser (no flow cookie) cannot finish this sign-in.
        async with httpx.AsyncClient(base_url=ui.url, timeout=20) as other:
            stolen = await other.get(f"{parts.path}?{parts.query}")
            assert "signInError=" in stolen.headers["location"]
            assert SESSION_COOKIE not in other.cookies


async def test_the_session_is_refreshed_when_the_id_token_expires(
    gitea: GiteaServer, setup: Setup
) -> None:
    ui, user = setup.ui, setup.user
    oidc = ui.state.signin.oidc
    assert oidc is not None
    async with httpx.AsyncClient(base_url=ui.url, timeout=20, headers=HEADERS) as http:
        await sign_in(http, gitea, user)
        sealed = http.cookies[SESSION_COOKIE]
        payload = oidc.sealer.open(SESSION_COOKIE, sealed)
        assert payload is not None
        assert payload["rt"], "Gitea gives a refresh token"
        # The ID token "expired" a minute ago: the next request refreshes it at Gitea.
        payload["te"] = time.time() - 60
        stale = oidc.sealer.seal(SESSION_COOKIE, payload, 3600)
        http.cookies.set(SESSION_COOKIE, stale)
        me = await http.get("/api/v1/auth/whoami")
        assert me.json()["user"] == user.email
        fresh = oidc.sealer.open(SESSION_COOKIE, me.cookies[SESSION_COOKIE])
        assert fresh is not None
        assert fresh["te"] > time.time()
        assert fresh["st"] == payload["st"], "a refresh keeps the session's start"

        # A refresh token the provider refuses ends the session.
        payload["rt"] = "not-a-refresh-token"
        http.cookies.set(SESSION_COOKIE, oidc.sealer.seal(SESSION_COOKIE, payload, 3600))
        assert (await http.get("/api/v1/resources")).status_code == 401
        # A cookie sealed under another key is nobody.
        http.cookies.set(SESSION_COOKIE, stale[:-4] + "AAAA")
        assert (await http.get("/api/v1/resources")).status_code == 401


async def test_id_tokens_are_bearer_tokens_for_scripts(gitea: GiteaServer, setup: Setup) -> None:
    ui, user = setup.ui, setup.user
    config = load_web_config(setup.config)
    oauth2 = config.oauth2
    assert oauth2 is not None
    verifier, challenge = pkce_pair()
    redirect = config.redirect_uri
    url = (
        f"{gitea.base_url}/login/oauth/authorize?client_id={oauth2.client_id}"
        f"&redirect_uri={redirect}&response_type=code&scope=openid+email+groups"
        f"&state=s&code_challenge={challenge}&code_challenge_method=S256"
    )
    with gitea.sign_in(user) as session:
        callback = gitea.authorize(session, url)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    async with httpx.AsyncClient(timeout=20) as plain:
        tokens = await plain.post(
            f"{gitea.base_url}/login/oauth/access_token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect,
                "client_id": oauth2.client_id,
                "client_secret": oauth2.client_secret,
                "code_verifier": verifier,
            },
        )
    id_token = tokens.json()["id_token"]
    async with httpx.AsyncClient(base_url=ui.url, timeout=20) as http:
        me = await http.get("/api/v1/auth/whoami", headers={"Authorization": f"Bearer {id_token}"})
        assert me.json()["user"] == user.email
        ok = await http.get("/api/v1/namespaces", headers={"Authorization": f"Bearer {id_token}"})
        assert ok.status_code == 200
        # The access token is not an ID token of this client: refused.
        access = tokens.json()["access_token"]
        refused = await http.get(
            "/api/v1/namespaces", headers={"Authorization": f"Bearer {access}"}
        )
        assert refused.status_code == 401
