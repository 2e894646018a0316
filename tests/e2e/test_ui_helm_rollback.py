"""A HelmRelease's release history in the web UI and a rollback from it, against weir's helm
controller and a loopback chart repository: what each revision changed (chart version, values;
values from a Secret masked, values hidden from who may not read Secrets), and one click that
suspends the HelmRelease and rolls Helm's release back, in the browser."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient
from playwright.async_api import Browser, expect

from tests.e2e.test_helm_delivery import (
    HR,
    app_chart,
    chart_template,
    cm_data,
    helm_release,
    helm_repository,
    patch_spec,
    ready,
    release_secrets,
)
from tests.e2e.test_ui_browser import browser, shot, ui_prerequisites
from tests.support.rbac import bind, binding_seen, install_web_roles
from tests.support.waiting import wait_for
from weir.auth.users import AuthSettings
from weir.kube import apply as kapi
from weir.kube.resources import SECRETS
from weir.testing.chartrepo import ChartRepoServer
from weir.web.service import WebUI
from weir.web.settings import WebSettings
from weir.web.standalone import running_ui

__all__ = ["browser", "ui_prerequisites"]  # fixtures shared with the other browser tests

pytestmark = pytest.mark.usefixtures("controllers")
HEADERS = {"X-Weir-Request": "1"}
USER = "X-Auth-Request-User"
SECRET_VALUE = "hunter2-do-not-show"


@pytest.fixture
async def uis(kube: ApiClient, kubeconfig: str) -> AsyncIterator[tuple[WebUI, WebUI]]:
    """The UI without sign-in (loopback: actions as weir) and one behind a proxy's headers."""
    open_settings = WebSettings(addr="127.0.0.1:0", heartbeat=2.0, kubeconfig=kubeconfig)
    proxy = WebSettings(
        addr="127.0.0.1:0",
        heartbeat=2.0,
        kubeconfig=kubeconfig,
        auth=AuthSettings(mode="proxy", proxy_user_header=USER),
    )
    async with running_ui(kube, open_settings) as plain, running_ui(kube, proxy) as signed:
        yield plain, signed


async def installed_then_upgraded(
    kube: ApiClient, ns: str, chart_repo: ChartRepoServer, tmp_path: Path
) -> None:
    app_chart(tmp_path, chart_repo)
    app_chart(tmp_path, chart_repo, "1.1.0")
    await kapi.apply(
        kube,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "app-secret", "namespace": ns},
            "data": {"password": base64.b64encode(SECRET_VALUE.encode()).decode()},
        },
        "weir-e2e",
    )
    await helm_repository(kube, ns, chart_repo.url)
    await helm_release(
        kube,
        ns,
        "app",
        chart=chart_template("app", "1.0.0"),
        values={"message": "one"},
        valuesFrom=[
            {
                "kind": "Secret",
                "name": "app-secret",
                "valuesKey": "password",
                "targetPath": "db.password",
            }
        ],
        timeout="60s",
    )
    await wait_for(kube, HR, ns, "app", ready("InstallSucceeded"), "installed", timeout=90)
    await patch_spec(
        kube, ns, "app", {"values": {"message": "two"}, "chart": chart_template("app", "1.1.0")}
    )
    await wait_for(kube, HR, ns, "app", ready("UpgradeSucceeded", "app.v2"), "upgraded", timeout=90)
    assert await cm_data(kube, ns, "app-config") == {"message": "two"}


async def test_release_history_and_rollback(
    kube: ApiClient,
    namespace: str,
    chart_repo: ChartRepoServer,
    tmp_path: Path,
    uis: tuple[WebUI, WebUI],
    browser: Browser,
) -> None:
    ns = namespace
    plain, signed = uis
    await installed_then_upgraded(kube, ns, chart_repo, tmp_path)
    revisions_path = f"/api/v1/resources/HelmRelease/{ns}/app/revisions"

    async with httpx.AsyncClient(base_url=plain.url, timeout=30) as http:
        body = (await http.get(revisions_path)).json()
    assert body["valuesShown"] is True
    assert [r["version"] for r in body["revisions"]] == [2, 1]
    newest = body["revisions"][0]
    assert newest["current"] is True
    assert newest["changes"]["chart"] == {"before": "app 1.0.0", "after": "app 1.1.0"}
    values = {v["path"]: v for v in newest["changes"]["values"]}
    assert values["message"] == {
        "path": "message",
        "change": "changed",
        "before": "one",
        "after": "two",
    }
    assert SECRET_VALUE not in str(body)

    # Someone who reads HelmReleases but not Secrets: the paths, not the values; no rollback.
    group = f"readers-{ns}"
    await install_web_roles(kube)
    await bind(kube, "flux-web-user", group, ns)
    await binding_seen(signed, "rita", group, ns)
    rita = {**HEADERS, USER: "rita", "X-Forwarded-Groups": group}
    async with httpx.AsyncClient(base_url=signed.url, timeout=30, headers=rita) as http:
        hidden = (await http.get(revisions_path)).json()
        assert hidden["valuesShown"] is False
        assert hidden["allowed"] is False
        change: dict[str, Any] = hidden["revisions"][0]["changes"]["values"][0]
        assert change["path"] == "message"
        assert "before" not in change
        refused = await http.post(f"/api/v1/resources/HelmRelease/{ns}/app/rollback?revision=1")
        assert refused.status_code == 403
        assert 'cannot rollback resource "helmreleases' in refused.json()["error"]

    # One click in the browser: back to revision 1.
    context = await browser.new_context(viewport={"width": 1360, "height": 900})
    page = await context.new_page()
    try:
        page.on("dialog", lambda d: d.accept())
        await page.goto(f"{plain.url}/resources/HelmRelease/{ns}/app?tab=history")
        history = page.locator("[data-testid=release-history]")
        await expect(history.locator("[data-revision='2'] [data-path=message]")).to_contain_text(
            "one → two"
        )
        await expect(history.locator("[data-revision='2']")).to_contain_text(
            "chart app 1.0.0 → app 1.1.0"
        )
        await shot(page, "helm-release-history")
        await history.locator("[data-action=rollback][data-revision='1']").click()
        await expect(page.locator(".toast").last).to_contain_text("back to revision 1")
        await expect(page.locator(".detail-head .badge")).to_have_text("Suspended")
        await expect(history.locator("[data-revision='3']")).to_contain_text("v3 deployed")
        await shot(page, "helm-release-rolled-back")
    finally:
        await context.close()

    hr = await kapi.get(kube, HR, ns, "app")
    assert hr["spec"]["suspend"] is True
    async with httpx.AsyncClient(base_url=plain.url, timeout=30) as http:
        after = (await http.get(revisions_path)).json()
    assert [(r["version"], r["current"]) for r in after["revisions"]][:2] == [(3, True), (2, False)]
    rolled = after["revisions"][0]["changes"]
    assert rolled["chart"] == {"before": "app 1.1.0", "after": "app 1.0.0"}
    assert ("3", "deployed") in await release_secrets(kube, ns, "app")
    assert await cm_data(kube, ns, "app-config") == {"message": "one"}
    stored = await kapi.get(kube, SECRETS, ns, "app-secret")
    assert stored["data"]["password"]  # untouched
    await kapi.patch(kube, HR, ns, "app", {"spec": {"suspend": None}})
