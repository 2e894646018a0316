"""The operator in cluster mode: a FluxInstance becomes Deployments (kwok nodes run their pods),
Services, RBAC, CRDs, settings ConfigMaps and the sync objects, applied server-side with an
inventory and garbage collection. The session's in-process controllers (``controllers``
fixture) stand in for the pods kwok fakes, so the sync objects really sync.
"""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_asyncio import client
from playwright.async_api import async_playwright, expect

from tests.support.operator import (
    INSTANCES,
    REPORTS,
    condition,
    failed_with,
    gone,
    instance,
    ready,
    scrape,
    wait_until,
)
from tests.support.waiting import wait_for
from weir.api.kinds import KINDS
from weir.kube import apply as kapi
from weir.kube.errors import ApiError
from weir.kube.resources import CONFIG_MAPS, ResourceRef
from weir.operator.instance.distribution import FLUX_VERSION, IMAGE_REPOSITORY
from weir.operator.report.build import CRDS
from weir.runtime.factories import REGISTRY
from weir.runtime.manager import Manager
from weir.testing.controllers import running_operator
from weir.testing.gitserver import GitHttpServer
from weir.web.settings import WebSettings
from weir.web.standalone import running_ui

Obj = dict[str, Any]
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("WEIR_CHROMIUM", "/usr/bin/chromium")
DEPLOYMENTS = ResourceRef("apps", "v1", "deployments", True, "Deployment")
SERVICE_ACCOUNTS = ResourceRef("", "v1", "serviceaccounts", True, "ServiceAccount")

GUIDE = """\
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata: {name: flux, namespace: flux-system}
spec:
  distribution:
    version: "2.x"
    registry: "ghcr.io/fluxcd"
    artifact: "oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests"
  components: [source-controller, kustomize-controller, helm-controller, notification-controller]
  cluster: {type: kubernetes, size: medium, multitenant: false, networkPolicy: true}
  sync:
    kind: GitRepository
    url: "https://github.com/YOUR_ORG/etherwurst-fleet.git"
    ref: "refs/heads/main"
    path: "clusters/etherwurst"
    pullSecret: "flux-system"
"""


def _available(dep: Obj) -> bool:
    status = dep.get("status") or {}
    conds = {c["type"]: c["status"] for c in status.get("conditions") or []}
    return (
        status.get("observedGeneration") == dep["metadata"].get("generation")
        and status.get("availableReplicas") == 1
        and conds.get("Available") == "True"
    )


async def _deployments_available(kube: client.ApiClient, namespace: str, names: list[str]) -> None:
    for name in names:
        await wait_for(kube, DEPLOYMENTS, namespace, name, _available, f"{name} Available", 120)


async def _secret(kube: client.ApiClient, namespace: str, name: str, data: dict[str, str]) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }
    await kapi.apply(kube, body, "test", force=True)


@contextlib.asynccontextmanager
async def _namespace(kube: client.ApiClient, name: str) -> AsyncIterator[str]:
    core = client.CoreV1Api(kube)
    with contextlib.suppress(client.ApiException):
        await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        with contextlib.suppress(client.ApiException):
            await core.delete_namespace(name)


async def _synced_from_loopback(
    kube: client.ApiClient, namespace: str, tmp_path: Path, target: str
) -> GitHttpServer:
    """A Git server with basic auth holding a ConfigMap for ``target``; the instance's sync
    points at it with the ``flux-system`` pull secret."""
    server = GitHttpServer(tmp_path / "git", basic_auth=("git", "fleet-token")).start()
    repo = server.create_repo("etherwurst-fleet.git", default_branch="main")
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "from-the-fleet", "namespace": target},
        "data": {"synced": "yes"},
    }
    repo.commit({"clusters/etherwurst/cm.yaml": yaml.safe_dump(configmap)}, "fleet")
    await _secret(kube, namespace, "flux-system", {"username": "git", "password": "fleet-token"})
    return server


@pytest.mark.skipif(
    "notification" not in REGISTRY.names(),
    reason="the guide's manifest lists notification-controller: needs weir's notification "
    "controller (branch notify)",
)
async def test_the_guides_manifest_applied_verbatim(
    kwok_cluster: object,
    kube: client.ApiClient,
    kubeconfig: str,
    flux_crds: None,
    controllers: Manager,
    tmp_path: Path,
) -> None:
    async with _namespace(kube, "flux-system") as ns:
        await kapi.apply(kube, yaml.safe_load(GUIDE), "kubectl", force=True)
        async with running_operator(
            kubeconfig, tmp_path / "storage", ns, mode="cluster", watch_namespace=ns
        ) as manager:
            components = [
                "source-controller",
                "kustomize-controller",
                "helm-controller",
                "notification-controller",
            ]
            await _deployments_available(kube, ns, components)
            # GitHub is out of reach here: the instance says the sync source fails, and why
            got = await wait_for(
                kube, INSTANCES, ns, "flux", failed_with("HealthCheckFailed"), "sync failing"
            )
            assert "sync source GitRepository/flux-system/flux-system" in condition(got)["message"]
            assert [c["name"] for c in got["status"]["components"]] == components
            git = await kapi.get(kube, KINDS["GitRepository"].resource, ns, "flux-system")
            assert git["spec"]["url"] == "https://github.com/YOUR_ORG/etherwurst-fleet.git"
            assert git["spec"]["ref"] == {"name": "refs/heads/main"}
            assert git["spec"]["secretRef"] == {"name": "flux-system"}

            # the same manifest with a reachable URL syncs
            server = await _synced_from_loopback(kube, ns, tmp_path, ns)
            try:
                url = server.url("etherwurst-fleet.git")
                await kapi.patch(kube, INSTANCES, ns, "flux", {"spec": {"sync": {"url": url}}})
                got = await wait_for(kube, INSTANCES, ns, "flux", ready, "the guide Ready", 120)
                await wait_for(
                    kube, CONFIG_MAPS, ns, "from-the-fleet", lambda o: True, "the synced object"
                )
                report = await _report_with(kube, ns, lambda s: len(s.get("components", [])) == 4)
                for component in report["spec"]["components"]:
                    assert component["ready"] is True, component
                    assert component["status"] == "Current Deployment is available. Replicas: 1"
                    assert component["image"].startswith(IMAGE_REPOSITORY + ":")
                metrics = await scrape(manager)
                [info] = [s for s in metrics["flux_instance_info"] if s["exported_namespace"] == ns]
                assert info["ready"] == "True"
            finally:
                server.stop()
            await kapi.delete(kube, INSTANCES, ns, "flux")
            await wait_until(lambda: gone(kube, "Deployment", ns, "helm-controller"), "uninstall")


@pytest.fixture(scope="module")
def browser_ready() -> None:
    """Debian's chromium (installed when missing) and the UI bundle (built when stale)."""
    if not Path(CHROMIUM).exists():
        subprocess.run([str(ROOT / "scripts" / "install-chromium.sh")], check=True)
    subprocess.run([str(ROOT / "scripts" / "build-ui.sh")], check=True)


async def _dashboard_shows_units(
    kube: client.ApiClient, ns: str, controller: str, suffixes: list[str], tmp_path: Path
) -> None:
    async with (
        running_ui(kube, WebSettings(addr="127.0.0.1:0"), namespace=ns) as ui,
        async_playwright() as pw,
    ):
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page()
            await page.goto(f"{ui.url}/")
            item = page.locator(f"[data-controller={controller}]")
            for suffix in suffixes:
                unit = item.locator(f"[data-unit={controller}{suffix}]")
                await expect(unit).to_have_attribute("data-ready", "true", timeout=30_000)
                await expect(unit).to_contain_text("Deployment is available")
            await page.screenshot(path=str(tmp_path / "dashboard-report.png"))
        finally:
            await browser.close()


async def _report_with(kube: client.ApiClient, namespace: str, check: Any) -> Obj:
    async def probe() -> Obj | None:
        try:
            report = await kapi.get(kube, REPORTS, namespace, "flux")
        except ApiError:
            return None
        if check(report.get("spec") or {}):
            return report
        stamp = uuid.uuid4().hex
        await kapi.patch(
            kube,
            REPORTS,
            namespace,
            "flux",
            {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": stamp}}},
        )
        return None

    found: Obj = await wait_until(probe, "the report", 120)
    return found


async def test_cluster_mode_installs_upgrades_shards_and_collects_garbage(
    kwok_cluster: object,
    kube: client.ApiClient,
    kubeconfig: str,
    flux_crds: None,
    controllers: Manager,
    namespace: str,
    tmp_path: Path,
    browser_ready: None,
) -> None:
    ns = namespace
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        yaml.safe_dump(
            {
                "releases": [
                    {"flux": "2.8.4", "weir": "0.0.9"},
                    {"flux": FLUX_VERSION, "weir": "0.1.0", "digest": "sha256:" + "a" * 64},
                ]
            }
        )
    )
    server = await _synced_from_loopback(kube, ns, tmp_path, ns)
    spec: Obj = {
        "distribution": {"version": "2.8.x", "registry": "ghcr.io/fluxcd"},
        "components": ["source-controller", "kustomize-controller", "helm-controller"],
        "cluster": {"size": "medium"},
        "sync": {
            "kind": "GitRepository",
            "url": server.url("etherwurst-fleet.git"),
            "ref": "refs/heads/main",
            "path": "clusters/etherwurst",
            "pullSecret": "flux-system",
        },
    }
    try:
        await kapi.apply(kube, instance(ns, spec), "test", force=True)
        async with running_operator(
            kubeconfig,
            tmp_path / "storage",
            ns,
            mode="cluster",
            watch_namespace=ns,
            catalog=catalog,
        ):
            got = await wait_for(kube, INSTANCES, ns, "flux", ready, "installed", 120)
            await _deployments_available(kube, ns, spec["components"])
            status = got["status"]
            assert status["lastAppliedRevision"].startswith("v2.8.4@sha256:")
            assert {c["tag"] for c in status["components"]} == {"0.0.9"}
            assert {c["repository"] for c in status["components"]} == {IMAGE_REPOSITORY}
            ids = {e["id"] for e in status["inventory"]["entries"]}
            assert f"{ns}_kustomize-controller_apps_Deployment" in ids
            assert f"{ns}_source-controller__Service" in ids
            assert f"_cluster-reconciler-{ns}_rbac.authorization.k8s.io_ClusterRoleBinding" in ids
            await wait_for(kube, CONFIG_MAPS, ns, "from-the-fleet", lambda o: True, "synced")
            dep = await kapi.get(kube, DEPLOYMENTS, ns, "kustomize-controller")
            container = dep["spec"]["template"]["spec"]["containers"][0]
            assert container["image"] == f"{IMAGE_REPOSITORY}:0.0.9"
            assert f"--plan-configmap={ns}/kustomize-controller-settings" in container["args"]

            # upgrade: 2.x picks the newer release; the Deployments roll to its image
            await kapi.patch(
                kube, INSTANCES, ns, "flux", {"spec": {"distribution": {"version": "2.x"}}}
            )
            got = await wait_for(
                kube,
                INSTANCES,
                ns,
                "flux",
                lambda o: (
                    ready(o) and o["status"]["lastAppliedRevision"].startswith(f"v{FLUX_VERSION}@")
                ),
                "upgraded",
                120,
            )
            assert [h["metadata"]["flux"] for h in got["status"]["history"][:2]] == [
                f"v{FLUX_VERSION}",
                "v2.8.4",
            ]
            dep = await kapi.get(kube, DEPLOYMENTS, ns, "kustomize-controller")
            image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
            assert image == f"{IMAGE_REPOSITORY}:0.1.0@sha256:{'a' * 64}"

            # size: the settings the pods read live change; the new limits roll the pods
            await kapi.patch(kube, INSTANCES, ns, "flux", {"spec": {"cluster": {"size": "large"}}})
            await wait_for(
                kube,
                CONFIG_MAPS,
                ns,
                "kustomize-controller-settings",
                lambda o: o["data"].get("concurrent") == "20",
                "the large settings",
            )
            await wait_for(
                kube,
                DEPLOYMENTS,
                ns,
                "kustomize-controller",
                lambda d: (
                    d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
                    == {"cpu": "3", "memory": "3Gi"}
                ),
                "the large limits",
            )

            # two shards: a Deployment and settings per shard, each watching its label
            await kapi.patch(
                kube, INSTANCES, ns, "flux", {"spec": {"sharding": {"shards": ["s1", "s2"]}}}
            )
            shards = [f"{c}-{s}" for c in spec["components"] for s in ("s1", "s2")]
            await _deployments_available(kube, ns, shards)
            for name in shards:
                cm = await kapi.get(kube, CONFIG_MAPS, ns, f"{name}-settings")
                shard = name.rsplit("-", 1)[1]
                assert cm["data"]["watch-label-selector"] == f"sharding.fluxcd.io/key in ({shard})"
            main = await kapi.get(kube, CONFIG_MAPS, ns, "kustomize-controller-settings")
            assert main["data"]["watch-label-selector"] == "!sharding.fluxcd.io/key"
            await wait_for(kube, INSTANCES, ns, "flux", ready, "sharded Ready", 120)

            # the dashboard's controller panel shows the report's units, in a browser
            await _report_with(
                kube,
                ns,
                lambda s: (
                    len(s.get("components", [])) == 9 and all(c["ready"] for c in s["components"])
                ),
            )
            await _dashboard_shows_units(
                kube, ns, "kustomize-controller", ["", "-s1", "-s2"], tmp_path
            )

            # a component removed: its Deployments, Services, settings and account go
            await kapi.patch(
                kube,
                INSTANCES,
                ns,
                "flux",
                {"spec": {"components": ["source-controller", "kustomize-controller"]}},
            )
            got = await wait_for(
                kube,
                INSTANCES,
                ns,
                "flux",
                lambda o: ready(o) and len(o["status"]["components"]) == 2,
                "helm-controller removed",
                120,
            )
            for name in ("helm-controller", "helm-controller-s1", "helm-controller-s2"):
                assert await gone(kube, "Deployment", ns, name)
                assert await gone(kube, "ConfigMap", ns, f"{name}-settings")
            assert await gone(kube, "ServiceAccount", ns, "helm-controller")
            crd = await kapi.get(kube, CRDS, None, KINDS["HelmRelease"].crd_name)
            assert crd["metadata"]["name"] == "helmreleases.helm.toolkit.fluxcd.io", "CRDs stay"

            # uninstall: controllers first, then the rest; what the fleet applied stays
            await kapi.delete(kube, INSTANCES, ns, "flux")
            await wait_until(lambda: gone(kube, "Deployment", ns, "kustomize-controller"), "gone")
            await wait_until(lambda: gone(kube, "Kustomization", ns, ns), "sync objects gone")
            assert not await gone(kube, "ConfigMap", ns, "from-the-fleet")
    finally:
        server.stop()
