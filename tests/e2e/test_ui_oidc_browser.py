"""The web UI with OIDC sign-in, in headless Chromium, through Gitea's real login page: every
person sees and does what their Kubernetes RBAC allows (the roles of
``config/rbac/web-roles.yaml``), on a fleet reconciled by weir's controllers.

- ``ethereum`` and a second namespace, each with a GitRepository and a Kustomization ``infra``
  (a ConfigMap and a Deployment);
- Gitea organisations as groups: admins (``flux-web-admin`` everywhere), viewers
  (``flux-web-user`` everywhere), ethereum (``flux-web-user`` in ``ethereum`` only), and a user
  in no group;
- the UI serves every namespace under ``/weir``, configured by a Flux Operator web config.

Screenshots go to ``test-artifacts/ui/`` (``oidc-*.png``).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiClient
from playwright.async_api import Browser, Page, expect

from tests.e2e.test_ui_browser import (
    GIT,
    KS,
    MANAGER,
    browser,
    configmap,
    deployment,
    live,
    ready_status,
    shot,
    ui_prerequisites,
)
from tests.support.oidc import ui_port, web_config, write_config
from tests.support.rbac import bind, install_web_roles
from tests.support.waiting import eventually
from weir.auth.users import AuthSettings
from weir.auth.webconfig import load_web_config
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.testing.gitea import GiteaServer, GiteaUser, browser_sign_in
from weir.testing.gitserver import GitHttpServer
from weir.web.service import WebUI
from weir.web.settings import WebSettings
from weir.web.standalone import running_ui

__all__ = ["browser", "ui_prerequisites"]  # fixtures shared with the other browser tests

pytestmark = pytest.mark.usefixtures("controllers")
BASE = "/weir"
ETH = "ethereum"


@dataclass
class People:
    admin: GiteaUser
    viewer: GiteaUser
    eth: GiteaUser
    nobody: GiteaUser


@dataclass
class Site:
    ui: WebUI
    other: str
    people: People
    gitea: GiteaServer

    @property
    def url(self) -> str:
        return self.ui.url


async def _namespace(kube: ApiClient, name: str) -> None:
    core = client.CoreV1Api(kube)
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))


async def _fleet(kube: ApiClient, ns: str, url: str) -> None:
    await kapi.apply(
        kube,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": ns},
            "spec": {"url": url, "interval": "10m", "ref": {"branch": "master"}},
        },
        MANAGER,
    )
    await kapi.apply(
        kube,
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "infra", "namespace": ns},
            "spec": {
                "interval": "10m",
                "retryInterval": "10m",
                "path": "./infra",
                "prune": True,
                "targetNamespace": ns,
                "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            },
        },
        MANAGER,
    )


def _group(gitea: GiteaServer, owner: GiteaUser, member: GiteaUser) -> str:
    org = gitea.client(owner).create_org()
    gitea.client(owner).add_org_member(org, member.username)
    return org


@pytest.fixture(scope="module")
async def site(
    kube: ApiClient,
    git_server: GitHttpServer,
    gitea: GiteaServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Site]:
    other = f"other-{uuid.uuid4().hex[:6]}"
    for ns in (ETH, other):
        await _namespace(kube, ns)
    repo = git_server.create_repo(f"oidc-{other}.git")
    repo.commit(
        {"infra/settings.yaml": configmap("settings"), "infra/cache.yaml": deployment("cache", 1)},
        "fleet",
    )
    for ns in (ETH, other):
        await _fleet(kube, ns, repo.url)

    async def settled() -> bool:
        return all(
            [ready_status(await kapi.get(kube, KS, ns, "infra")) == "True" for ns in (ETH, other)]
        )

    await eventually(settled, "both fleets to settle", timeout=90)

    await install_web_roles(kube)
    owner = gitea.create_user()
    people = People(*(gitea.create_user() for _ in range(4)))
    await bind(kube, "flux-web-admin", _group(gitea, owner, people.admin))
    await bind(kube, "flux-web-user", _group(gitea, owner, people.viewer))
    await bind(kube, "flux-web-user", _group(gitea, owner, people.eth), ETH)
    port = ui_port()
    base_url = f"http://127.0.0.1:{port}{BASE}"
    app = gitea.client(owner).create_oauth2_application(
        f"weir-{port}", [f"{base_url}/oauth2/callback"]
    )
    doc = web_config(gitea, app, port, profile={"name": "claims.preferred_username"})
    doc["spec"]["baseURL"] = base_url
    path = write_config(tmp_path_factory.mktemp("oidc-ui") / "config.yaml", doc)
    settings = WebSettings(
        addr=f"127.0.0.1:{port}",
        base_path=BASE,
        heartbeat=2.0,
        auth=AuthSettings.from_config(load_web_config(path)),
        access_ttl=2.0,
    )
    async with running_ui(kube, settings) as ui:
        yield Site(ui, other, people, gitea)
    for ns in (ETH, other):
        await kapi.delete(kube, KS, ns, "infra", missing_ok=True)
        await kapi.delete(kube, GIT, ns, "fleet", missing_ok=True)

    async def gone() -> bool:
        for ns in (ETH, other):
            for resource, name in ((KS, "infra"), (GIT, "fleet")):
                try:
                    await kapi.get(kube, resource, ns, name)
                except NotFoundError:
                    continue
                return False
        return True

    await eventually(gone, "the fleets' finalizers", timeout=60)
    core = client.CoreV1Api(kube)
    for ns in (ETH, other):
        await core.delete_namespace(ns)


@pytest.fixture
async def context_page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    """A page in a fresh browser context (no cookies: a person of their own)."""
    context = await browser.new_context(viewport={"width": 1360, "height": 900})
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    await context.close()
    assert not errors, f"JavaScript errors in {request.node.name}: {errors}"


async def sign_in(page: Page, site: Site, user: GiteaUser, path: str = "") -> None:
    """Open ``path`` signed out, choose "Sign in with SSO", sign in on Gitea's login page and
    authorize weir; back on ``path``, signed in."""
    await page.goto(f"{site.url}/{path}")
    await expect(page.locator("[data-view=signin]")).to_be_visible()
    async with page.expect_navigation():
        await page.locator("[data-action=sso]").click()
    assert "/user/login" in page.url, "a signed-out person is sent to Gitea's login page"
    await browser_sign_in(page, user)
    assert page.url.startswith(f"{site.url}/{path}"), page.url
    await expect(page.locator("[data-testid=account]")).to_have_attribute("data-user", user.email)


async def api_status(page: Page, path: str) -> int:
    status: int = await page.evaluate(
        "async (p) => (await fetch(p, {headers: {Accept: 'application/json'}})).status", path
    )
    return status


async def test_an_admin_suspends_through_sso(
    context_page: Page, site: Site, kube: ApiClient
) -> None:
    page = context_page
    detail = f"resources/Kustomization/{ETH}/infra"
    await sign_in(page, site, site.people.admin, detail)
    await shot(page, "oidc-admin-detail")
    await live(page)
    button = page.locator("[data-action=suspend]")
    await expect(button).to_be_enabled()
    try:
        await button.click()

        async def suspended() -> bool:
            return bool((await kapi.get(kube, KS, ETH, "infra"))["spec"].get("suspend"))

        await eventually(suspended, "the admin's suspend", timeout=10)
        await expect(page.locator(".detail-head .badge")).to_have_text("Suspended")
        # The audit trail: a WebAction Event naming the admin, on the Events page.
        await page.goto(f"{site.url}/events?reason=WebAction&namespace={ETH}")
        row = page.locator("[data-testid=event-table] tr[data-object]").first
        await expect(row).to_contain_text(site.people.admin.email)
        await expect(row).to_contain_text("suspend requested")
        await shot(page, "oidc-admin-audit")
    finally:
        await kapi.patch(kube, KS, ETH, "infra", {"spec": {"suspend": None}})


async def test_a_flux_web_user_sees_the_same_objects_without_actions(
    context_page: Page, site: Site
) -> None:
    page = context_page
    await sign_in(page, site, site.people.viewer, f"resources?namespace={ETH}")
    await expect(page.locator(f"[data-key='Kustomization/{ETH}/infra']")).to_be_visible()
    await page.goto(f"{site.url}/resources/Kustomization/{ETH}/infra")
    for action in ("reconcile", "reconcile-source", "suspend"):
        button = page.locator(f"[data-action={action}]")
        await expect(button).to_be_disabled()
        await expect(button).to_have_attribute(
            "title", f'Your role does not grant "{action.split("-")[0]}" on Kustomization in {ETH}'
        )
    await shot(page, "oidc-viewer-detail")
    await page.goto(f"{site.url}/resources?kind=Kustomization")
    rows = page.locator("[data-key^='Kustomization/']")
    await expect(rows.filter(has_text=site.other)).not_to_have_count(0)


async def test_a_namespace_user_sees_only_ethereum_everywhere(
    context_page: Page, site: Site, kube: ApiClient
) -> None:
    page = context_page
    other = site.other
    await sign_in(page, site, site.people.eth)
    await expect(page.locator("[data-testid=scope]")).to_contain_text(ETH)
    await shot(page, "oidc-eth-dashboard")

    # Lists: only ethereum (the namespace filter offers nothing else).
    await page.goto(f"{site.url}/resources")
    await expect(page.locator(f"[data-key='Kustomization/{ETH}/infra']")).to_be_visible()
    keys = await page.locator("tr[data-key]").evaluate_all("rs => rs.map(r => r.dataset.key)")
    assert keys
    assert {k.split("/")[1] for k in keys} == {ETH}
    options = await page.locator("select[aria-label=Namespace] option").all_inner_texts()
    assert [o for o in options if o != "All namespaces"] == [ETH]
    await shot(page, "oidc-eth-resources")

    # Graph: only ethereum's nodes.
    await page.goto(f"{site.url}/graph?group=none")
    await expect(page.locator(f"[data-node='Kustomization/{ETH}/infra']")).to_be_visible()
    nodes = await page.locator("[data-node]").evaluate_all("ns => ns.map(n => n.dataset.node)")
    assert {n.split("/")[1] for n in nodes} == {ETH}
    await shot(page, "oidc-eth-graph")

    # Quick search: "infra" finds ethereum's only.
    await page.keyboard.press("/")
    await page.locator("[data-testid=quick-search]").fill("infra")
    hits = page.locator("[data-testid=search-results] li[data-key]")
    await expect(hits.first).to_be_visible()
    found = await hits.evaluate_all("ls => ls.map(l => l.dataset.key)")
    assert f"Kustomization/{ETH}/infra" in found
    assert all(k.split("/")[1] == ETH for k in found)
    await shot(page, "oidc-eth-search", full=False)
    await page.keyboard.press("Escape")

    # The live stream: changes in both namespaces, only ethereum's arrive.
    await page.goto(f"{site.url}/resources")
    await live(page)
    await page.evaluate(
        """() => {
          window.__keys = [];
          const es = new EventSource('api/v1/stream');
          es.addEventListener('changes', (e) => {
            for (const c of JSON.parse(e.data).changes) window.__keys.push(c.key);
          });
          window.__es = es;
        }"""
    )
    await asyncio.sleep(1)
    stamp = uuid.uuid4().hex[:6]
    for ns in (other, ETH):
        await kapi.patch(kube, KS, ns, "infra", {"metadata": {"labels": {"seen": stamp}}})

    async def arrived() -> list[str] | None:
        got: list[str] = await page.evaluate("() => window.__keys")
        return got if f"Kustomization/{ETH}/infra" in got else None

    streamed = await eventually(arrived, "ethereum's change on the stream", timeout=10)
    assert not [k for k in streamed if k.split("/")[1] == other], streamed

    # An API call for the other namespace: 403.
    assert await api_status(page, f"api/v1/resources/Kustomization/{other}/infra") == 403
    assert await api_status(page, f"api/v1/resources?namespace={other}") == 403
    assert await api_status(page, f"api/v1/resources/Kustomization/{ETH}/infra") == 200
    body: dict[str, Any] = json.loads(
        await page.evaluate(
            "async (p) => await (await fetch(p)).text()",
            f"api/v1/resources/Kustomization/{other}/infra",
        )
    )
    assert f'namespace "{other}"' in body["error"]


async def test_someone_without_roles_sees_limited_access(context_page: Page, site: Site) -> None:
    page = context_page
    await sign_in(page, site, site.people.nobody)
    await expect(page.locator("[data-testid=limited-access]")).to_be_visible()
    await expect(page.locator("[data-testid=totals]")).to_contain_text("0")
    await shot(page, "oidc-nobody-dashboard")
    # Signing out ends the session: the sign-in page again.
    await page.locator("[data-action=signout]").click()
    await expect(page.locator("[data-view=signin]")).to_be_visible()


async def test_the_fleet_graph_is_grouped_and_fits_on_a_phone(
    browser: Browser, site: Site, kube: ApiClient, tmp_path: Path
) -> None:
    """Many namespaces (ten more, six suspended Kustomizations each): the all-namespaces graph
    comes folded by namespace and fits the screen; a group opens with a tap."""
    stamp = uuid.uuid4().hex[:6]
    spaces = [f"fleet-{i:02d}-{stamp}" for i in range(10)]
    for ns in spaces:
        await _namespace(kube, ns)
        for j in range(6):
            await kapi.apply(
                kube,
                {
                    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                    "kind": "Kustomization",
                    "metadata": {"name": f"app-{j}", "namespace": ns},
                    "spec": {
                        "suspend": True,
                        "interval": "10m",
                        "path": f"./apps/{j}",
                        "prune": True,
                        "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                        **({"dependsOn": [{"name": f"app-{j - 1}"}]} if j else {}),
                    },
                },
                MANAGER,
            )
    await eventually(
        lambda: site.ui.cache.row("Kustomization", spaces[-1], "app-5"), "the fleet cached"
    )
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    try:
        await sign_in(page, site, site.people.admin, "graph")
        graph = page.locator("[data-testid=graph]")
        await expect(page.locator(f"[data-group='Namespace/{ETH}']")).to_be_visible()
        box = await graph.bounding_box()
        assert box is not None
        assert box["width"] <= 390, "the graph fits the phone's width on first paint"
        await shot(page, "oidc-graph-phone-folded")
        await page.locator(f"[data-group='Namespace/{ETH}']").click()
        await expect(page.locator(f"[data-node='Kustomization/{ETH}/infra']")).to_be_visible()
        await expect(page.locator(f"[data-cluster='Namespace/{ETH}']")).to_be_visible()
        await page.locator("[data-action=fit]").click()
        await shot(page, "oidc-graph-phone-open")
    finally:
        await context.close()
        core = client.CoreV1Api(kube)
        for ns in spaces:
            await core.delete_namespace(ns)
