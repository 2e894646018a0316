"""Signing in to the web UI against the real API server: tokens with a session cookie or a
bearer header, an authenticating proxy's headers, and actions that impersonate the user so that
the cluster's RBAC decides (no controllers run in this tier)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient

from tests.integration.test_web_api import HEADERS, KS, fleet
from tests.support.rbac import grant_kustomizations
from weir.auth.users import COOKIE, AuthSettings, load_users, token_digest
from weir.kube import apply
from weir.web.service import WebUI
from weir.web.settings import WebSettings
from weir.web.standalone import running_ui

pytestmark = pytest.mark.usefixtures("flux_crds")
OPERATORS = "weir-test-operators"
READ_WRITE = ["get", "list", "watch", "patch"]
ALICE, BOB = "alice-token-0123456789", "bob-token-9876543210"


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "users.yaml"
    path.write_text(
        "users:\n"
        f"  - name: alice\n    groups: [{OPERATORS}]\n    tokenSHA256: {token_digest(ALICE)}\n"
        f"  - name: bob\n    tokenSHA256: {token_digest(BOB)}\n"
    )
    return path


@pytest.fixture(scope="module")
async def token_ui(kube: ApiClient, users_file: Path) -> AsyncIterator[WebUI]:
    auth = AuthSettings(mode="token", users=load_users(users_file))
    settings = WebSettings(addr="127.0.0.1:0", heartbeat=0.5, action_timeout=2.0, auth=auth)
    async with running_ui(kube, settings) as started:
        yield started


@pytest.fixture(scope="module")
async def proxy_ui(kube: ApiClient) -> AsyncIterator[WebUI]:
    auth = AuthSettings(mode="proxy", proxy_user_header="X-Auth-Request-User")
    settings = WebSettings(addr="127.0.0.1:0", heartbeat=0.5, action_timeout=2.0, auth=auth)
    async with running_ui(kube, settings) as started:
        yield started


async def test_token_sign_in_and_impersonated_actions(
    kube: ApiClient, token_ui: WebUI, namespace: str
) -> None:
    ns = namespace
    await fleet(kube, token_ui, ns)
    await grant_kustomizations(kube, ns, OPERATORS, [*READ_WRITE, "suspend", "resume", "reconcile"])
    suspend = f"/api/v1/resources/Kustomization/{ns}/infra/suspend"
    async with httpx.AsyncClient(base_url=token_ui.url, timeout=10) as http:
        # Anonymous: the bundle and the sign-in endpoints only.
        assert (await http.get("/")).status_code == 200
        assert (await http.get("/api/openapi.json")).status_code == 200
        assert (await http.get("/api/v1/resources")).status_code == 401
        me = (await http.get("/api/v1/auth/whoami")).json()
        assert (me["mode"], me["authenticated"], me["actions"]) == ("token", False, False)

        # Sign-in: the UI's header is required, a wrong token is refused.
        assert (await http.post("/api/v1/auth/login", json={"token": ALICE})).status_code == 403
        wrong = await http.post("/api/v1/auth/login", json={"token": "nope"}, headers=HEADERS)
        assert wrong.status_code == 401
        ok = await http.post("/api/v1/auth/login", json={"token": ALICE}, headers=HEADERS)
        assert ok.status_code == 200, ok.text
        assert ok.json()["user"] == "alice"
        assert "httponly" in ok.headers["set-cookie"].lower()
        assert "samesite=strict" in ok.headers["set-cookie"].lower()
        assert (await http.get("/api/v1/resources", params={"namespace": ns})).status_code == 200
        me = (await http.get("/api/v1/auth/whoami")).json()
        assert (me["user"], me["groups"], me["actions"]) == ("alice", [OPERATORS], True)

        # Alice's group may patch Kustomizations: the action runs as her.
        done = await http.post(suspend, headers=HEADERS)
        assert done.status_code == 200, done.text
        live = await apply.get(kube, KS, ns, "infra")
        assert live["spec"]["suspend"] is True

        # A forged or stale cookie is nobody.
        http.cookies.set(COOKIE, "e30.forged")
        assert (await http.get("/api/v1/resources")).status_code == 401
        out = await http.post("/api/v1/auth/logout", headers=HEADERS)
        assert out.status_code == 200

    # Bob, by bearer token: signed in, but the cluster's RBAC refuses his write.
    bearer = {**HEADERS, "Authorization": f"Bearer {BOB}"}
    async with httpx.AsyncClient(base_url=token_ui.url, timeout=10, headers=bearer) as http:
        assert (await http.get("/api/v1/auth/whoami")).json()["user"] == "bob"
        refused = await http.post(suspend.replace("/suspend", "/resume"))
        assert refused.status_code == 403
        assert 'User "bob" cannot' in refused.json()["error"]
    live = await apply.get(kube, KS, ns, "infra")
    assert live["spec"]["suspend"] is True  # unchanged


async def test_an_authenticating_proxy_names_the_user(
    kube: ApiClient, proxy_ui: WebUI, namespace: str
) -> None:
    ns = namespace
    await fleet(kube, proxy_ui, ns)
    await grant_kustomizations(kube, ns, OPERATORS, [*READ_WRITE, "suspend", "resume", "reconcile"])
    suspend = f"/api/v1/resources/Kustomization/{ns}/infra/suspend"
    async with httpx.AsyncClient(base_url=proxy_ui.url, timeout=10) as http:
        assert (await http.get("/api/v1/resources")).status_code == 401
        as_carol = {
            **HEADERS,
            "X-Auth-Request-User": "carol@example.com",
            "X-Forwarded-Groups": f"devs, {OPERATORS}",
        }
        me = (await http.get("/api/v1/auth/whoami", headers=as_carol)).json()
        assert (me["user"], me["groups"]) == ("carol@example.com", ["devs", OPERATORS])
        done = await http.post(suspend, headers=as_carol)
        assert done.status_code == 200, done.text
        as_dave = {**HEADERS, "X-Auth-Request-User": "dave@example.com"}
        refused = await http.post(suspend.replace("/suspend", "/resume"), headers=as_dave)
        assert refused.status_code == 403
    live = await apply.get(kube, KS, ns, "infra")
    assert live["spec"]["suspend"] is True
