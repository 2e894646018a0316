"""Attacks on the web UI, through real HTTP against a real API server. Each test is one attack
that must fail:

- DNS rebinding, reads: a page whose name re-points at the UI reads the fleet, an object and an
  artifact (``Host: attacker.example``) -> 421;
- DNS rebinding, actions: the same page suspends a Kustomization (``Host`` and ``Origin`` of the
  attacker, the UI's own header sent) -> 421, nothing changed;
- cross-origin action with the right ``Host`` (a page elsewhere, or a proxy that forwards any
  origin) -> 403, nothing changed;
- cross-site request forgery: a form post or a request without ``X-Weir-Request`` -> 403;
- the ingress host answers only when allowed (``--web-allowed-hosts``), wildcards only for
  sub-domains;
- forged identity: an authenticating proxy's headers sent straight to a UI in token mode, and a
  forged session cookie -> 401; a UI without authentication listening beyond loopback refuses
  actions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import eventually
from weir.api import KINDS
from weir.auth.users import (
    COOKIE,
    Authenticator,
    AuthSettings,
    Identity,
    User,
    actions_refusal,
    token_digest,
)
from weir.kube import apply
from weir.source.server import ArtifactServer
from weir.testing import seeded_fleet as demo
from weir.web.service import WebUI
from weir.web.settings import WebSettings
from weir.web.standalone import running_ui

pytestmark = pytest.mark.usefixtures("flux_crds")
KS = KINDS["Kustomization"].resource
UI_HEADER = {"X-Weir-Request": "1"}
INGRESS = "weir.example.com"
ATTACKER = "attacker.example"


@pytest.fixture(scope="module")
async def ui(kube: ApiClient) -> AsyncIterator[WebUI]:
    """The UI in its default mode (no sign-in, loopback, actions on) with one ingress host."""
    settings = WebSettings(
        addr="127.0.0.1:0", heartbeat=0.5, allowed_hosts=(INGRESS, f"*.preview.{INGRESS}")
    )
    async with running_ui(kube, settings.normalized()) as started:
        yield started


@pytest.fixture
async def target(kube: ApiClient, ui: WebUI, namespace: str, tmp_path: Path) -> AsyncIterator[str]:
    """A suspended GitRepository with an artifact on a real artifact server, and a
    Kustomization ``victim`` (not suspended), both in the UI's cache; yields the namespace."""
    ns = namespace
    folder = tmp_path / "gitrepository" / ns / "fleet"
    folder.mkdir(parents=True)
    (folder / "abc.tar.gz").write_bytes(b"\x1f\x8b" + b"fleet-secrets" * 100)
    server = ArtifactServer(str(tmp_path), "127.0.0.1", 0)
    await server.start()
    try:
        repo = demo.git_repository(ns, "fleet")
        repo["spec"]["suspend"] = True  # controllers of the session leave it alone
        art = demo.artifact(demo.REVISION, "fleet")
        art["url"] = f"http://{server.addr}/gitrepository/{ns}/fleet/abc.tar.gz"
        art["path"] = f"gitrepository/{ns}/fleet/abc.tar.gz"
        await demo.create(kube, repo, {"artifact": art})
        # Its source is another one: the session's controllers (running when this tier runs)
        # must not keep a download from the artifact server open.
        victim = demo.kustomization(ns, "victim", "./apps")
        victim["spec"]["sourceRef"]["name"] = "elsewhere"
        await demo.create(kube, victim)
        await eventually(
            lambda: (
                ui.cache.row("Kustomization", ns, "victim")
                and ((ui.cache.get("GitRepository", ns, "fleet") or {}).get("status") or {}).get(
                    "artifact"
                )
            ),
            "the objects in the UI's cache",
        )
        yield ns
    finally:
        await server.stop()


def _port(ui: WebUI) -> int:
    return ui.server.host_port[1]


async def _suspended(kube: ApiClient, ns: str) -> bool:
    live = await apply.get(kube, KS, ns, "victim")
    return bool((live.get("spec") or {}).get("suspend"))


def _reads(ns: str) -> list[str]:
    return [
        "/api/v1/resources",
        f"/api/v1/resources/Kustomization/{ns}/victim",
        f"/api/v1/resources/GitRepository/{ns}/fleet/artifact",
        "/api/v1/graph",
        "/",
    ]


async def test_dns_rebinding_cannot_read_the_fleet_or_artifacts(ui: WebUI, target: str) -> None:
    rebound = {"Host": f"{ATTACKER}:{_port(ui)}"}
    async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
        for path in _reads(target):
            resp = await http.get(path, headers=rebound)
            assert resp.status_code == 421, (path, resp.status_code, resp.text[:200])
            assert "fleet-secrets" not in resp.text
            assert "victim" not in resp.text
        # The same reads by the address the UI listens on answer.
        for path in _reads(target):
            assert (await http.get(path)).status_code == 200, path


async def test_dns_rebinding_cannot_act(kube: ApiClient, ui: WebUI, target: str) -> None:
    origin = f"http://{ATTACKER}:{_port(ui)}"
    rebound = {**UI_HEADER, "Host": f"{ATTACKER}:{_port(ui)}", "Origin": origin}
    async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
        for action in ("suspend", "reconcile"):
            resp = await http.post(
                f"/api/v1/resources/Kustomization/{target}/victim/{action}", headers=rebound
            )
            assert resp.status_code == 421, resp.text
        login = await http.post("/api/v1/auth/login", json={"token": "x"}, headers=rebound)
        assert login.status_code == 421
    assert not await _suspended(kube, target)


async def test_cross_origin_action_is_refused(kube: ApiClient, ui: WebUI, target: str) -> None:
    suspend = f"/api/v1/resources/Kustomization/{target}/victim/suspend"
    async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
        for origin in (f"http://{ATTACKER}", "null", f"http://{INGRESS}.{ATTACKER}"):
            resp = await http.post(suspend, headers={**UI_HEADER, "Origin": origin})
            assert resp.status_code == 403, (origin, resp.text)
    assert not await _suspended(kube, target)


async def test_cross_site_request_forgery_is_refused(
    kube: ApiClient, ui: WebUI, target: str
) -> None:
    suspend = f"/api/v1/resources/Kustomization/{target}/victim/suspend"
    async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
        # A form post from another site: no custom header can be sent, a foreign Origin is.
        form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://{ATTACKER}"}
        assert (await http.post(suspend, content=b"a=1", headers=form)).status_code == 403
        # Without an Origin (older browsers, some redirects): the UI's header is still needed.
        resp = await http.post(suspend, content=b"a=1")
        assert resp.status_code == 403
        assert "X-Weir-Request" in resp.json()["error"]
        assert not await _suspended(kube, target)
        # The UI itself (same origin, its header) may act.
        own = {**UI_HEADER, "Origin": ui.server.url}
        assert (await http.post(suspend, headers=own)).status_code == 200
    assert await _suspended(kube, target)


async def test_only_allowed_ingress_hosts_answer(ui: WebUI, target: str) -> None:
    async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
        for host in (INGRESS, f"{INGRESS}:443", f"pr-7.preview.{INGRESS}"):
            resp = await http.get("/api/v1/resources", headers={"Host": host})
            assert resp.status_code == 200, host
        for host in (f"{INGRESS}.{ATTACKER}", f"preview.{INGRESS}", f"x{INGRESS}"):
            resp = await http.get("/api/v1/resources", headers={"Host": host})
            assert resp.status_code == 421, host


async def test_forged_identity_headers_and_cookies_are_nobody(kube: ApiClient) -> None:
    token = "alice-token-for-the-attack-suite"
    auth = AuthSettings(mode="token", users=(User("alice", token_digest(token), ("admins",)),))
    settings = WebSettings(addr="127.0.0.1:0", heartbeat=0.5, auth=auth)
    async with (
        running_ui(kube, settings) as ui,
        httpx.AsyncClient(base_url=ui.url, timeout=10) as http,
    ):
        forged = {
            "X-Forwarded-User": "alice",
            "X-Auth-Request-User": "alice",
            "X-Remote-User": "alice",
            "X-Forwarded-Groups": "system:masters",
            "Impersonate-User": "alice",
        }
        assert (await http.get("/api/v1/resources", headers=forged)).status_code == 401
        me = (await http.get("/api/v1/auth/whoami", headers=forged)).json()
        assert me["authenticated"] is False
        # A session cookie for alice signed with another key (another process's, made up).
        http.cookies.set(COOKIE, Authenticator(auth).session(Identity("alice", ("admins",))))
        assert (await http.get("/api/v1/resources")).status_code == 401
        http.cookies.clear()
        bearer = {"Authorization": f"Bearer {token}x"}
        assert (await http.get("/api/v1/resources", headers=bearer)).status_code == 401
        assert (
            await http.get("/api/v1/resources", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 200


def test_no_actions_without_sign_in_beyond_loopback() -> None:
    none = AuthSettings()
    for addr in (":9080", "0.0.0.0:9080", "10.0.0.5:9080", "[::]:9080", "weir.example.com:9080"):
        assert actions_refusal(none, addr) is not None, addr
    assert actions_refusal(none, "127.0.0.1:9080") is None
