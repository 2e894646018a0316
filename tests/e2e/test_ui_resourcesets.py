"""The web UI's pages of the operator's kinds, in headless Chromium: a ResourceSet shows its
inputs and the providers it reads, a ResourceSetInputProvider its exported inputs and
deployment windows, and the graph draws provider -> ResourceSet -> generated objects."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiClient
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.support.waiting import wait_for
from weir.api import KINDS
from weir.kube import apply as kapi
from weir.testing.controllers import running_resourcesets
from weir.types import Obj
from weir.web.settings import WebSettings
from weir.web.standalone import running_ui

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "ui"
CHROMIUM = os.environ.get("WEIR_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
RSETS = KINDS["ResourceSet"].resource
RSIPS = KINDS["ResourceSetInputProvider"].resource
BASE = "/weir"


@pytest.fixture
def prerequisites() -> None:
    """Debian's chromium (installed when missing) and the UI bundle (built when stale)."""
    if not Path(CHROMIUM).exists():
        subprocess.run([str(ROOT / "scripts" / "install-chromium.sh")], check=True)
    subprocess.run([str(ROOT / "scripts" / "build-ui.sh")], check=True)


@pytest.fixture
async def browser(prerequisites: None) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        found = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield found
        await found.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1360, "height": 900})
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    await context.close()
    assert not errors, f"JavaScript errors: {errors}"


def ready(obj: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (obj.get("status") or {}).get("conditions") or []
    )


async def test_resourceset_and_provider_pages(
    page: Page, kube: ApiClient, kubeconfig: str, flux_crds: None, tmp_path: Path
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    ns = f"rs-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube)
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    try:
        async with running_resourcesets(kubeconfig, tmp_path, watch_namespace=ns):
            await kapi.apply(
                kube,
                {
                    "apiVersion": "fluxcd.controlplane.io/v1",
                    "kind": "ResourceSetInputProvider",
                    "metadata": {"name": "tenants", "namespace": ns},
                    "spec": {
                        "type": "Static",
                        "defaultValues": {"tenant": "team-a"},
                        "schedule": [{"cron": "0 8 * * 1-5", "timeZone": "Europe/London"}],
                    },
                },
                "test",
            )
            await kapi.apply(
                kube,
                {
                    "apiVersion": "fluxcd.controlplane.io/v1",
                    "kind": "ResourceSet",
                    "metadata": {"name": "tenancy", "namespace": ns},
                    "spec": {
                        "inputsFrom": [{"name": "tenants"}],
                        "resources": [
                            {
                                "apiVersion": "v1",
                                "kind": "ConfigMap",
                                "metadata": {"name": "<< inputs.tenant >>", "namespace": ns},
                                "data": {"tenant": "<< inputs.tenant >>"},
                            }
                        ],
                    },
                },
                "test",
            )
            await wait_for(kube, RSETS, ns, "tenancy", ready, "the ResourceSet")
            settings = WebSettings(addr="127.0.0.1:0", base_path=BASE, heartbeat=2.0)
            async with running_ui(kube, settings, namespace=ns) as ui:
                origin = ui.url.rstrip("/")
                await page.goto(f"{origin}/resources/ResourceSetInputProvider/{ns}/tenants")
                exported = page.locator("table[data-inputs='exported inputs']")
                await expect(exported).to_contain_text("team-a")
                await expect(page.locator("[data-schedule]")).to_contain_text("0 8 * * 1-5")
                await page.screenshot(path=str(SHOTS / "rsip.png"), full_page=True)

                await page.goto(f"{origin}/resources/ResourceSet/{ns}/tenancy")
                link = page.get_by_role("link", name=f"ResourceSetInputProvider/{ns}/tenants")
                await expect(link).to_be_visible()
                await page.screenshot(path=str(SHOTS / "rset.png"), full_page=True)
                await link.click()
                await expect(page).to_have_url(
                    f"{origin}/resources/ResourceSetInputProvider/{ns}/tenants"
                )

                # the graph model: provider -> ResourceSet (inputs); ResourceSet's inventory
                api = await page.request.get(f"{origin}/api/v1/graph?namespace={ns}")
                graph = await api.json()
                edges = {(e["from"], e["to"], e["type"]) for e in graph["edges"]}
                assert (
                    f"ResourceSetInputProvider/{ns}/tenants",
                    f"ResourceSet/{ns}/tenancy",
                    "inputs",
                ) in edges
            await kapi.delete(kube, RSETS, ns, "tenancy")
            await kapi.delete(kube, RSIPS, ns, "tenants")
    finally:
        await core.delete_namespace(ns)
