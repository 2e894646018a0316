"""`weir reconcile`, `suspend` and `resume` in a subprocess, with a fake controller in the test
answering the requestedAt / lastHandledReconcileAt handshake: success, `--with-source`
ordering, failure (exit 1), timeout (exit 3), suspended objects."""

from __future__ import annotations

import asyncio

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support import flux
from tests.support.cli import weir
from tests.support.fake_controller import Behaviour, FakeController
from weir.api import KINDS
from weir.kube import apply
from weir.types import Obj

REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"


@pytest.fixture
async def fleet(kube: ApiClient, namespace: str) -> str:
    await flux.install_crds(kube)
    await flux.populate(kube, namespace)
    return namespace


async def _get(kube: ApiClient, kind: str, namespace: str, name: str) -> Obj:
    return await apply.get(kube, flux.resource(KINDS[kind]), namespace, name)


async def test_reconcile_with_source_and_failure(
    kube: ApiClient, kubeconfig: str, fleet: str
) -> None:
    ns = fleet
    async with FakeController(kube, ns) as controller:
        controller.set("Kustomization", "infra", Behaviour(ready=False, message="boom: bad patch"))
        controller.set("Kustomization", "apps", Behaviour(progressing_first=True))
        ks, hr, failed = await asyncio.gather(
            weir("reconcile", "ks", "apps", "-n", ns, "--with-source", kubeconfig=kubeconfig),
            weir(
                "reconcile",
                "hr",
                "podinfo",
                "-n",
                ns,
                "--with-source",
                "-o",
                "json",
                kubeconfig=kubeconfig,
            ),
            weir("reconcile", "kustomization", "infra", "-n", ns, kubeconfig=kubeconfig),
        )

    assert ks.code == 0, ks
    assert f"✔ fetched revision {flux.REVISION}" in ks.stdout
    assert f"✔ applied revision {flux.REVISION}" in ks.stdout
    assert f"► annotated Kustomization {ns}/apps" in ks.stderr
    order = [(k, n) for k, n, _ in controller.handled]
    assert order.index(("GitRepository", "fleet")) < order.index(("Kustomization", "apps"))

    assert hr.code == 0, hr
    outcomes = hr.json()
    assert [(o["kind"], o["name"], o["ready"]) for o in outcomes] == [
        ("HelmRepository", "charts", True),
        ("HelmChart", f"{ns}-podinfo", True),
        ("HelmRelease", "podinfo", True),
    ]

    assert failed.code == 1, failed
    assert "✗ Kustomization reconciliation failed: boom: bad patch" in failed.stderr
    assert "Traceback" not in failed.stderr

    apps = await _get(kube, "Kustomization", ns, "apps")
    token = apps["metadata"]["annotations"][REQUESTED_AT]
    assert apps["status"]["lastHandledReconcileAt"] == token


async def test_reconcile_timeout_and_missing(kubeconfig: str, fleet: str) -> None:
    ns = fleet  # no controller runs: nobody handles the request
    timeout, missing = await asyncio.gather(
        weir("reconcile", "ks", "apps", "-n", ns, "--timeout", "1s", kubeconfig=kubeconfig),
        weir("reconcile", "hr", "nope", "-n", ns, kubeconfig=kubeconfig),
    )
    assert timeout.code == 3, timeout
    assert "did not finish within 1s" in timeout.stderr
    assert "is a controller running" in timeout.stderr
    assert missing.code == 1, missing
    assert f"HelmRelease {ns}/nope not found" in missing.stderr


async def test_suspend_resume(kube: ApiClient, kubeconfig: str, fleet: str) -> None:
    ns = fleet
    suspended = await weir("suspend", "ks", "--all", "-n", ns, "-o", "json", kubeconfig=kubeconfig)
    assert suspended.code == 0, suspended
    assert sorted(o["name"] for o in suspended.json()) == ["apps", "infra"]
    apps = await _get(kube, "Kustomization", ns, "apps")
    assert apps["spec"]["suspend"] is True

    refused = await weir("reconcile", "ks", "apps", "-n", ns, kubeconfig=kubeconfig)
    assert refused.code == 1, refused
    assert "is suspended: resume it with `weir resume ks apps" in refused.stderr

    async with FakeController(kube, ns) as controller:
        resumed, nowait = await asyncio.gather(
            weir("resume", "ks", "apps", "-n", ns, "--timeout", "60s", kubeconfig=kubeconfig),
            weir("resume", "ks", "infra", "-n", ns, "--no-wait", kubeconfig=kubeconfig),
        )
    assert resumed.code == 0, resumed
    assert f"✔ Kustomization {ns}/apps resumed" in resumed.stdout
    assert f"✔ applied revision {flux.REVISION}" in resumed.stdout
    assert nowait.code == 0, nowait
    for name in ("apps", "infra"):
        obj = await _get(kube, "Kustomization", ns, name)
        assert "suspend" not in obj["spec"]
    assert ("Kustomization", "apps") in [(k, n) for k, n, _ in controller.handled]
