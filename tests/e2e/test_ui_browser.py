"""The web UI in headless Chromium (Debian's, driven by Playwright) against weir's controllers
on the real API server with kwok nodes: a fleet in Git, reconciled for real.

Fleet (one namespace, served by ``weir ui -n <ns> --base-path /weir`` in-process):

- GitRepository ``fleet``;
- Kustomization ``infra`` (ConfigMap ``settings``, Deployment ``cache``);
- Kustomization ``apps`` (dependsOn ``infra``; Deployment ``podinfo`` with 2 replicas);
- Kustomization ``broken`` (a path that does not exist: fails).

Every view is saved as a screenshot under ``test-artifacts/ui/`` (git-ignored).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiClient
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.support.rbac import bind, grant_kustomizations, install_web_roles
from tests.support.waiting import eventually
from weir.api import KINDS
from weir.auth.users import AuthSettings, load_users, token_digest
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.runtime import conditions
from weir.testing.gitserver import GitHttpServer
from weir.types import Obj
from weir.web.service import WebUI
from weir.web.settings import WebSettings
from weir.web.standalone import running_ui

pytestmark = pytest.mark.usefixtures("controllers")

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "ui"
CHROMIUM = os.environ.get("WEIR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
GIT = KINDS["GitRepository"].resource
KS = KINDS["Kustomization"].resource
MANAGER = "weir-e2e-ui"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
SEP = " \u203a "  # the breadcrumbs' separator
BASE = "/weir"
READ_PATCH = ("get", "list", "watch", "patch")
CUSTOM_VERBS = ("reconcile", "suspend", "resume")
"""weir checks these verbs before an action (config/rbac/web-roles.yaml)."""


def configmap(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v: '1'\n"


def deployment(name: str, replicas: int) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: main
        image: example.invalid/{name}:1
"""


@dataclass
class Fleet:
    ns: str
    ui: WebUI

    @property
    def url(self) -> str:
        return self.ui.url


def ready_status(obj: dict[str, Any]) -> str:
    return str((conditions.get(obj, "Ready") or {}).get("status", ""))


@pytest.fixture(scope="session")
def ui_prerequisites() -> None:
    """Debian's chromium (installed when missing) and the UI bundle (built when stale)."""
    if not Path(CHROMIUM).exists():
        subprocess.run([str(ROOT / "scripts" / "install-chromium.sh")], check=True)
    subprocess.run([str(ROOT / "scripts" / "build-ui.sh")], check=True)


@pytest.fixture(scope="session")
async def browser(ui_prerequisites: None) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        found = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield found
        await found.close()


@pytest.fixture(scope="module")
async def fleet(
    kube: ApiClient, git_server: GitHttpServer, controllers: Any
) -> AsyncIterator[Fleet]:
    ns = f"ui-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube)
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    repo = git_server.create_repo(f"ui-{ns}.git")
    repo.commit(
        {
            "infra/settings.yaml": configmap("settings"),
            "infra/cache.yaml": deployment("cache", 1),
            "apps/podinfo.yaml": deployment("podinfo", 2),
        },
        "fleet",
    )
    await kapi.apply(
        kube,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": ns},
            "spec": {"url": repo.url, "interval": "10m", "ref": {"branch": "master"}},
        },
        MANAGER,
    )
    for name, path, extra in (
        ("infra", "./infra", {}),
        ("apps", "./apps", {"dependsOn": [{"name": "infra"}]}),
        ("broken", "./missing", {}),
    ):
        await kapi.apply(
            kube,
            {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": name, "namespace": ns},
                "spec": {
                    "interval": "10m",
                    "retryInterval": "10m",
                    "path": path,
                    "prune": True,
                    "targetNamespace": ns,
                    "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                    **extra,
                },
            },
            MANAGER,
        )

    async def settled() -> bool:
        states = {}
        for name in ("infra", "apps", "broken"):
            states[name] = ready_status(await kapi.get(kube, KS, ns, name))
        return states == {"infra": "True", "apps": "True", "broken": "False"}

    await eventually(settled, "the fleet to settle", timeout=90)
    settings = WebSettings(addr="127.0.0.1:0", base_path=BASE, heartbeat=2.0)
    async with running_ui(kube, settings, namespace=ns) as ui:
        yield Fleet(ns, ui)
    # Delete the Flux objects first and wait for their finalizers, so that no reconcile of this
    # module is still running when the session (and the controllers) end.
    for name in ("infra", "apps", "broken"):
        await kapi.delete(kube, KS, ns, name, missing_ok=True)
    await kapi.delete(kube, GIT, ns, "fleet", missing_ok=True)

    async def gone() -> bool:
        for resource, name in ((KS, "infra"), (KS, "apps"), (KS, "broken"), (GIT, "fleet")):
            try:
                await kapi.get(kube, resource, ns, name)
            except NotFoundError:
                continue
            return False
        return True

    await eventually(gone, "the fleet's finalizers", timeout=60)
    await core.delete_namespace(ns)


@pytest.fixture
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1360, "height": 900})
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    await context.close()
    assert not errors, f"JavaScript errors in {request.node.name}: {errors}"


async def shot(page: Page, name: str, *, full: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)


async def live(page: Page) -> None:
    try:
        await expect(page.locator("[data-live-state]")).to_have_attribute(
            "data-live-state", re.compile("live|polling")
        )
    except AssertionError:
        entries = await page.evaluate(
            "JSON.stringify(performance.getEntriesByType('resource')"
            ".map(e => [e.name, e.startTime, e.responseStart, e.duration]))"
        )
        print("resources the page loaded:", entries)
        raise


async def test_dashboard_shows_the_right_counts(page: Page, fleet: Fleet) -> None:
    await page.goto(f"{fleet.url}/")
    await live(page)
    totals = page.locator("[data-testid=totals]")
    await expect(totals.locator("[data-stat=objects] .stat-value")).to_have_text("4")
    await expect(totals.locator("[data-stat=ready] .stat-value")).to_have_text("3")
    await expect(totals.locator("[data-stat=failing] .stat-value")).to_have_text("1")
    await expect(totals.locator("[data-stat=workloads] .stat-value")).to_have_text("2")
    row = page.locator("[data-testid=counts] tr[data-kind=Kustomization]")
    await expect(row.locator("[data-count=total]")).to_have_text("3")
    await expect(row.locator("[data-count=ready]")).to_have_text("2")
    await expect(row.locator("[data-count=failed]")).to_have_text("1")
    git = page.locator("[data-testid=counts] tr[data-kind=GitRepository]")
    await expect(git.locator("[data-count=ready]")).to_have_text("1")
    failing = page.locator("#failing [data-key]")
    await expect(failing).to_have_count(1)
    await expect(failing.first).to_have_attribute("data-key", f"Kustomization/{fleet.ns}/broken")
    await expect(
        page.locator("#controllers [data-controller=kustomize-controller]")
    ).to_contain_text("reconciled")
    await expect(page.locator("#feed li").first).to_be_visible()
    await shot(page, "dashboard")

    # Dark theme, and a phone.
    await page.keyboard.press("t")
    await page.keyboard.press("t")
    await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    await shot(page, "dashboard-dark")
    await page.set_viewport_size({"width": 390, "height": 844})
    await expect(page.locator(".menu-toggle")).to_be_visible()
    await shot(page, "dashboard-mobile")
    await page.locator(".menu-toggle").click()
    await page.locator("[data-nav=resources]").click()
    await expect(page.locator("[data-view=resources] tbody tr")).to_have_count(4)
    await shot(page, "resources-mobile")


async def test_list_detail_graph_navigation(page: Page, fleet: Fleet) -> None:
    ns = fleet.ns
    await page.goto(f"{fleet.url}/resources")
    rows = page.locator("[data-view=resources] tbody tr")
    await expect(rows).to_have_count(4)
    await shot(page, "resources")

    # Search (wildcards), then the status chips.
    await page.get_by_label("Search by name").fill("*ra*")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-key", f"Kustomization/{ns}/infra")
    assert "name=*ra*" in page.url.replace("%2A", "*")
    await page.get_by_label("Search by name").fill("")
    await expect(rows).to_have_count(4)
    await page.locator("[data-chip=failed]").click()
    await expect(rows).to_have_count(1)
    await expect(page.locator("[data-chip=failed] .count")).to_have_text("1")
    await page.locator("[data-chip=failed]").click()
    await expect(rows).to_have_count(4)

    # Keyboard: j moves, Enter opens, f pins.
    await page.locator("body").click(position={"x": 5, "y": 300})
    await page.keyboard.press("j")
    await expect(rows.nth(1)).to_have_class(re.compile("selected"))
    second = await rows.nth(1).get_attribute("data-key")
    await page.keyboard.press("Enter")
    await expect(page.locator("[data-view=detail]")).to_have_attribute("data-key", str(second))
    await page.go_back()
    await expect(rows).to_have_count(4)

    # List -> detail.
    await (
        rows.filter(has=page.get_by_role("link", name="apps", exact=True))
        .get_by_role("link", name="apps", exact=True)
        .click()
    )
    detail = page.locator(f'[data-view=detail][data-key="Kustomization/{ns}/apps"]')
    await expect(detail).to_be_visible()
    assert page.url.endswith(f"{BASE}/resources/Kustomization/{ns}/apps")
    await expect(detail.locator(".detail-head .badge")).to_have_text("Ready")
    await expect(page.locator("[data-testid=status-line]")).to_contain_text("Applied revision")
    await shot(page, "detail-overview")
    await page.keyboard.press("f")
    for tab in ("conditions", "events", "spec", "inventory", "yaml"):
        await page.locator(f"[data-tab={tab}]").click()
        await expect(page.locator(f"[data-tab-body={tab}]")).to_be_visible()
        assert f"tab={tab}" in page.url
        if tab == "events":
            await expect(page.locator("[data-testid=events] li").first).to_be_visible()
        await shot(page, f"detail-{tab}")

    # Inventory -> workload (with its pods).
    await page.locator("[data-tab=inventory]").click()
    await page.locator(f'[data-testid=inventory] tr[data-key="Deployment/{ns}/podinfo"] a').click()
    workload = page.locator(f'[data-view=workload][data-key="Deployment/{ns}/podinfo"]')
    await expect(workload).to_be_visible()
    await expect(workload.locator("[data-testid=pods] tbody tr")).to_have_count(2)
    await expect(workload.locator(".detail-head .badge")).to_have_text("Ready")
    await shot(page, "workload")

    # Workload -> graph (focused on its Kustomization) -> node -> detail.
    await workload.get_by_role("link", name="Graph").click()
    graph = page.locator("[data-testid=graph]")
    await expect(graph).to_be_visible()
    nodes = graph.locator("[data-node]")
    await expect(graph.locator(f'[data-node="Kustomization/{ns}/apps"]')).to_have_attribute(
        "data-status", "ready"
    )
    await expect(graph.locator(f'[data-node="Kustomization/{ns}/infra"]')).to_be_visible()
    await expect(graph.locator(f'[data-node="Deployment/{ns}/podinfo"]')).to_be_visible()
    await expect(nodes).to_have_count(4)  # upstream: fleet, infra (dependsOn); downstream: podinfo
    await shot(page, "graph-focus")
    await page.locator(".focus-chip button").click()
    await expect(graph.locator(f'[data-node="Kustomization/{ns}/broken"]')).to_have_attribute(
        "data-status", "failed"
    )
    # fleet -> infra, apps, broken; infra -> apps (dependsOn); infra -> cache; apps -> podinfo
    await expect(graph.locator("[data-edge]")).to_have_count(6)
    await shot(page, "graph")
    await graph.locator(f'[data-node="GitRepository/{ns}/fleet"]').click()
    await expect(
        page.locator(f'[data-view=detail][data-key="GitRepository/{ns}/fleet"]')
    ).to_be_visible()
    await page.locator("[data-tab=artifact]").click()
    await expect(page.locator("[data-tab-body=artifact]")).to_contain_text("sha1:")
    await shot(page, "detail-artifact")

    # Workloads list and favorites.
    await page.locator("[data-nav=workloads]").click()
    await expect(page.locator("[data-view=workloads] tbody tr")).to_have_count(2)
    await shot(page, "workloads")
    await page.locator("[data-nav=favorites]").click()
    await expect(
        page.locator(f'[data-testid=favorites] tr[data-key="Kustomization/{ns}/apps"]')
    ).to_be_visible()
    await shot(page, "favorites")


async def _api_ks(kube: ApiClient, ns: str, name: str) -> dict[str, Any]:
    return await kapi.get(kube, KS, ns, name)


async def grant_sources(api: ApiClient, namespace: str, group: str) -> None:
    """Let ``group`` read and annotate GitRepositories (reconcile with source)."""
    rbac = "rbac.authorization.k8s.io"
    name = "git-access"
    await kapi.apply(
        api,
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "Role",
            "metadata": {"name": name, "namespace": namespace},
            "rules": [
                {
                    "apiGroups": ["source.toolkit.fluxcd.io"],
                    "resources": ["gitrepositories"],
                    "verbs": ["get", "list", "watch", "patch", "reconcile"],
                }
            ],
        },
        MANAGER,
        force=True,
    )
    await kapi.apply(
        api,
        {
            "apiVersion": f"{rbac}/v1",
            "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace},
            "roleRef": {"apiGroup": rbac, "kind": "Role", "name": name},
            "subjects": [{"apiGroup": rbac, "kind": "Group", "name": group}],
        },
        MANAGER,
        force=True,
    )


@contextlib.asynccontextmanager
async def signed_in_ui(
    kube: ApiClient, fleet: Fleet, page: Page, tmp_path: Path, auth: bool
) -> AsyncIterator[str]:
    """The fleet's UI without sign-in, or a second one with a users file where ``carol``
    (whose group may patch Kustomizations and GitRepositories) has signed in."""
    if not auth:
        yield fleet.url
        return
    group = f"actors-{fleet.ns}"
    await grant_kustomizations(kube, fleet.ns, group, [*READ_PATCH, *CUSTOM_VERBS], name="actor-ks")
    await grant_sources(kube, fleet.ns, group)
    users = tmp_path / "users.yaml"
    users.write_text(
        f"users:\n- name: carol\n  groups: [{group}]\n"
        f"  tokenSHA256: {token_digest('carol-t0ken')}\n"
    )
    auth_settings = AuthSettings(mode="token", users=load_users(users))
    settings = WebSettings(addr="127.0.0.1:0", base_path=BASE, heartbeat=2.0, auth=auth_settings)
    async with running_ui(kube, settings, namespace=fleet.ns) as ui:
        await page.goto(f"{ui.url}/")
        await page.fill("#token", "carol-t0ken")
        await page.click("button[type=submit]")
        await expect(page.locator("[data-testid=account]")).to_contain_text("carol")
        yield ui.url


def handled(obj: Obj, before: str | None) -> bool:
    """The controller handled a reconcile request newer than ``before``."""
    token = (obj["metadata"].get("annotations") or {}).get(REQUESTED_AT)
    return (
        bool(token)
        and token != before
        and (obj.get("status") or {}).get("lastHandledReconcileAt") == token
    )


@pytest.mark.parametrize("auth", [False, True], ids=["no-sign-in", "signed-in"])
async def test_every_action_button(
    page: Page, fleet: Fleet, kube: ApiClient, tmp_path: Path, auth: bool
) -> None:
    """Each button of a detail page on a real Kustomization (suspend, resume, reconcile,
    reconcile with source): the success toast, and the new state in the page and the cluster;
    without sign-in, and signed in (the actions then run as the user)."""
    ns = fleet.ns
    toasts = page.locator(".toast-ok")
    head = page.locator(".detail-head")
    async with signed_in_ui(kube, fleet, page, tmp_path, auth) as url:
        await page.goto(f"{url}/resources/Kustomization/{ns}/infra")
        await live(page)
        await expect(head.locator(".badge")).to_have_text("Ready")
        try:
            await page.locator("[data-action=suspend]").click()
            await expect(toasts.filter(has_text="Suspend")).to_contain_text("done")
            await expect(head.locator(".badge")).to_have_text("Suspended")
            await expect(page.locator("[data-action=reconcile]")).to_have_count(0)
            obj = await _api_ks(kube, ns, "infra")
            assert obj["spec"]["suspend"] is True
            await shot(page, f"action-suspended-{'auth' if auth else 'open'}")

            await page.locator("[data-action=resume]").click()
            await expect(toasts.filter(has_text="Resume")).to_contain_text(
                "succeeded", timeout=30000
            )
            await expect(head.locator(".badge")).to_have_text("Ready")
            obj = await _api_ks(kube, ns, "infra")
            assert "suspend" not in obj["spec"]
            assert handled(obj, None)
        finally:
            await kapi.patch(kube, KS, ns, "infra", {"spec": {"suspend": None}})

        before = (await _api_ks(kube, ns, "infra"))["metadata"]["annotations"][REQUESTED_AT]
        await page.locator("[data-action=reconcile]").click()
        await expect(
            toasts.filter(has_text=re.compile(r"^Reconcile Kustomization"))
        ).to_contain_text("succeeded", timeout=30000)
        assert handled(await _api_ks(kube, ns, "infra"), before)

        git_before = (
            (await kapi.get(kube, GIT, ns, "fleet"))["metadata"].get("annotations") or {}
        ).get(REQUESTED_AT)
        await page.locator("[data-action=reconcile-source]").click()
        await expect(toasts.filter(has_text="Reconcile with source")).to_contain_text(
            "succeeded", timeout=30000
        )
        assert handled(await kapi.get(kube, GIT, ns, "fleet"), git_before)
        await shot(page, f"action-reconciled-{'auth' if auth else 'open'}")


async def test_an_outcome_before_the_actions_answer_still_shows(
    page: Page, fleet: Fleet, kube: ApiClient
) -> None:
    """A quick reconcile can end, and its outcome reach the live stream, before the browser has
    the POST's answer naming the action: the toast must still show (it was dropped)."""
    ns = fleet.ns
    meta = (await _api_ks(kube, ns, "infra"))["metadata"]
    before = (meta.get("annotations") or {}).get(REQUESTED_AT)

    async def answer_after_the_outcome(route: Any) -> None:
        response = await route.fetch()
        await eventually(
            lambda: _handled_now(kube, ns, before), "the reconcile handled", timeout=30
        )
        await asyncio.sleep(1.0)  # the outcome is on the stream by now
        await route.fulfill(response=response)

    await page.route(
        re.compile(r".*/api/v1/resources/Kustomization/.*/reconcile$"), answer_after_the_outcome
    )
    await page.goto(f"{fleet.url}/resources/Kustomization/{ns}/infra")
    await live(page)
    await expect(page.locator(".detail-head .badge")).to_have_text("Ready")
    await page.locator("[data-action=reconcile]").click()
    await expect(
        page.locator(".toast-ok").filter(has_text=re.compile(r"^Reconcile Kustomization"))
    ).to_contain_text("succeeded", timeout=30000)


async def _handled_now(kube: ApiClient, ns: str, before: str | None) -> bool:
    return handled(await _api_ks(kube, ns, "infra"), before)


async def test_cluster_change_reaches_an_open_page_within_2s(
    page: Page, fleet: Fleet, kube: ApiClient
) -> None:
    ns = fleet.ns
    await page.goto(f"{fleet.url}/resources?namespace={ns}")
    await live(page)
    row = page.locator(f'[data-view=resources] tr[data-key="Kustomization/{ns}/apps"] .badge')
    await expect(row).to_have_text("Ready")
    try:
        t0 = time.monotonic()
        await kapi.patch(kube, KS, ns, "apps", {"spec": {"suspend": True}})
        await expect(row).to_have_text("Suspended", timeout=2000)
        elapsed = time.monotonic() - t0
        await shot(page, "live-update")
        assert elapsed < 2.0
    finally:
        await kapi.patch(kube, KS, ns, "apps", {"spec": {"suspend": None}})
    await expect(row).to_have_text("Ready", timeout=2000)


async def test_hidden_tab_pauses_and_resumes(page: Page, fleet: Fleet, kube: ApiClient) -> None:
    ns = fleet.ns
    await page.goto(f"{fleet.url}/")
    await page.evaluate("localStorage.setItem('weir.hiddenPauseMs', '50')")
    await page.goto(f"{fleet.url}/resources/Kustomization/{ns}/broken")
    await live(page)
    await page.evaluate(
        "Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    await expect(page.locator("[data-live-state]")).to_have_attribute("data-live-state", "paused")
    badge = page.locator(".detail-head .badge")
    try:
        await kapi.patch(kube, KS, ns, "broken", {"spec": {"suspend": True}})
        await asyncio.sleep(0.5)
        await expect(badge).to_have_text("Failed")  # paused: nothing arrives
        await page.evaluate(
            "Object.defineProperty(document, 'hidden', {value: false, configurable: true});"
            "document.dispatchEvent(new Event('visibilitychange'))"
        )
        await expect(badge).to_have_text("Suspended", timeout=3000)  # replayed on resume
    finally:
        await kapi.patch(kube, KS, ns, "broken", {"spec": {"suspend": None}})


async def test_polling_fallback(page: Page, fleet: Fleet, kube: ApiClient) -> None:
    ns = fleet.ns
    await page.goto(f"{fleet.url}/resources?namespace={ns}&live=poll")
    await expect(page.locator("[data-live-state]")).to_have_attribute("data-live-state", "polling")
    row = page.locator(f'[data-view=resources] tr[data-key="Kustomization/{ns}/infra"] .badge')
    await expect(row).to_have_text("Ready")
    try:
        await kapi.patch(kube, KS, ns, "infra", {"spec": {"suspend": True}})
        await expect(row).to_have_text("Suspended", timeout=8000)
    finally:
        await kapi.patch(kube, KS, ns, "infra", {"spec": {"suspend": None}})


async def test_polling_goes_on_after_the_tab_was_hidden_briefly(
    page: Page, fleet: Fleet, kube: ApiClient
) -> None:
    """Issue 12.8: in polling mode, a poll that ran while the tab was hidden did not schedule
    the next one, and showing the tab again did not resume: updates stopped for good."""
    ns = fleet.ns
    await page.goto(f"{fleet.url}/")
    await page.evaluate("localStorage.setItem('weir.hiddenPauseMs', '600000')")  # no pause
    await page.goto(f"{fleet.url}/resources?namespace={ns}&live=poll")
    await expect(page.locator("[data-live-state]")).to_have_attribute("data-live-state", "polling")
    row = page.locator(f'[data-view=resources] tr[data-key="Kustomization/{ns}/apps"] .badge')
    await expect(row).to_have_text("Ready")
    async with page.expect_response(lambda r: "/api/v1/changes" in r.url, timeout=10000):
        await page.evaluate(
            "Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
            "document.dispatchEvent(new Event('visibilitychange'))"
        )  # the next poll runs while hidden
    await page.evaluate(
        "Object.defineProperty(document, 'hidden', {value: false, configurable: true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    try:
        await kapi.patch(kube, KS, ns, "apps", {"spec": {"suspend": True}})
        await expect(row).to_have_text("Suspended", timeout=10000)
    finally:
        await kapi.patch(kube, KS, ns, "apps", {"spec": {"suspend": None}})


async def test_titles_breadcrumbs_kind_filter_and_history(page: Page, fleet: Fleet) -> None:
    """Issue 12.3, 12.6, 12.9: a detail page is titled after its object and its breadcrumbs
    end with it; ?kind=ks and ?kind=ks,gitrepo show in the kind filter; the History tab is a
    timeline with the revision, and nothing is pushed off-screen."""
    ns = fleet.ns
    await page.goto(f"{fleet.url}/resources/Kustomization/{ns}/infra")
    await expect(page).to_have_title(f"infra · Kustomization {ns} · weir")
    crumbs = page.locator("[data-testid=crumbs]")
    await expect(crumbs).to_have_text(f"Kustomization{SEP}{ns}{SEP}infra")
    await page.locator("[data-tab=history]").click()
    entry = page.locator("[data-testid=history] li[data-index='0']")
    await expect(entry.locator("[data-field=revision]")).to_contain_text("master@sha1:")
    await expect(entry.locator("[data-field=result]")).to_have_text("ReconciliationSucceeded")
    await expect(entry.locator("[data-field=when]")).to_contain_text("ago")
    await expect(entry.locator("[data-field=duration]")).to_contain_text("took")
    await expect(entry.locator("[data-field=changes]")).not_to_be_empty()
    await shot(page, "detail-history")
    await page.set_viewport_size({"width": 390, "height": 844})
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the History tab is {overflow}px wider than a phone"
    await shot(page, "detail-history-mobile")
    await page.set_viewport_size({"width": 1360, "height": 900})

    await page.goto(f"{fleet.url}/workloads/Deployment/{ns}/podinfo")
    await expect(page).to_have_title(f"podinfo · Deployment {ns} · weir")
    await expect(page.locator("[data-testid=crumbs]")).to_have_text(
        f"Deployment{SEP}{ns}{SEP}podinfo"
    )

    kind = page.get_by_label("Kind")
    rows = page.locator("[data-view=resources] tbody tr")
    await page.goto(f"{fleet.url}/resources?kind=ks")
    await expect(rows).to_have_count(3)
    await expect(kind).to_have_value("Kustomization")
    await page.goto(f"{fleet.url}/resources?kind=ks,gitrepo")
    await expect(rows).to_have_count(4)
    await expect(kind).to_have_value("Kustomization,GitRepository")
    await expect(kind.locator("option:checked")).to_have_text("Kustomization, GitRepository")
    await shot(page, "resources-two-kinds")
    await kind.select_option("HelmRelease")
    await expect(page.locator("[data-testid=total]")).to_have_text("0 matches")
    assert "kind=HelmRelease" in page.url


async def test_sign_in_and_actions_as_the_user(
    page: Page, fleet: Fleet, kube: ApiClient, tmp_path: Path
) -> None:
    """A UI started with a users file: the sign-in page, then actions that run as the user,
    so the cluster's RBAC decides (bob may not patch Kustomizations, alice's group may)."""
    ns = fleet.ns
    operators = f"operators-{ns}"
    readers = f"readers-{ns}"
    await grant_kustomizations(kube, ns, operators, [*READ_PATCH, *CUSTOM_VERBS])
    await install_web_roles(kube)
    await bind(kube, "flux-web-user", readers, ns)
    users = tmp_path / "users.yaml"
    users.write_text(
        "users:\n"
        f"- name: alice\n  groups: [{operators}]\n  tokenSHA256: {token_digest('alice-t0ken')}\n"
        f"- name: bob\n  groups: [{readers}]\n  tokenSHA256: {token_digest('bob-t0ken')}\n"
    )
    auth = AuthSettings(mode="token", users=load_users(users))
    settings = WebSettings(addr="127.0.0.1:0", base_path=BASE, heartbeat=2.0, auth=auth)
    detail = f"resources/Kustomization/{ns}/infra"
    async with running_ui(kube, settings, namespace=ns) as ui:
        await page.goto(f"{ui.url}/{detail}")
        form = page.locator("[data-view=signin]")
        await expect(form).to_be_visible()
        await shot(page, "signin")
        await page.fill("#token", "not-a-token")
        await page.click("button[type=submit]")
        await expect(page.locator("[data-testid=signin-error]")).to_contain_text("unknown token")

        # Bob signs in and may read (flux-web-user), not act: the buttons say so, and the
        # API refuses what a hand-made request asks.
        await page.fill("#token", "bob-t0ken")
        await page.click("button[type=submit]")
        await expect(page.locator("[data-testid=account]")).to_contain_text("bob")
        await live(page)
        suspend = page.locator("[data-action=suspend]")
        await expect(suspend).to_be_disabled()
        await expect(suspend).to_have_attribute(
            "title", f'Your role does not grant "suspend" on Kustomization in {ns}'
        )
        refused = await page.evaluate(
            """async (p) => {
              const r = await fetch(p, {method: 'POST', headers: {'X-Weir-Request': '1'}});
              return [r.status, (await r.json()).error];
            }""",
            f"api/v1/resources/Kustomization/{ns}/infra/suspend",
        )
        assert refused[0] == 403
        assert 'User "bob" cannot suspend' in refused[1]
        assert "suspend" not in (await _api_ks(kube, ns, "infra"))["spec"]
        await shot(page, "signin-forbidden")

        # Alice, whose group may patch Kustomizations, suspends and resumes it.
        await page.locator("[data-action=signout]").click()
        await expect(form).to_be_visible()
        await page.fill("#token", "alice-t0ken")
        await page.click("button[type=submit]")
        await expect(page.locator("[data-testid=account]")).to_contain_text("alice")
        try:
            await page.locator("[data-action=suspend]").click()

            async def suspended() -> bool:
                return bool((await _api_ks(kube, ns, "infra"))["spec"].get("suspend"))

            await eventually(suspended, "alice's suspend", timeout=10)
            await expect(page.locator(".detail-head .badge")).to_have_text("Suspended")
        finally:
            await kapi.patch(kube, KS, ns, "infra", {"spec": {"suspend": None}})
