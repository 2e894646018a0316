"""Pull-request preview environments, end to end: a ResourceSetInputProvider lists the pull
requests of a real Gitea, a ResourceSet turns each into a preview environment, and weir's
operator controllers (``--controllers=resourcesets``) reconcile both.

- a pull request opened with the ``preview`` label -> its environment appears, pinned to the
  head commit;
- labelled ``hold`` (``spec.skip``) -> a new commit changes nothing; label removed -> it does;
- closed -> the environment is garbage-collected;
- a deployment window that is closed now -> a new pull request changes nothing until the
  window opens (within the test), then its environment appears.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client
from mcp import Client

from tests.support.cli import weir
from tests.support.operator import condition
from tests.support.waiting import eventually, wait_for
from weir.api.kinds import lookup
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.resources import CONFIG_MAPS
from weir.mcp import McpSettings, build_server
from weir.runtime.manager import Manager
from weir.testing.controllers import running_resourcesets
from weir.testing.gitea_api import GiteaRepo, GiteaUser

Obj = dict[str, Any]
RSETS = lookup("ResourceSet").resource
RSIPS = lookup("ResourceSetInputProvider").resource


@pytest.fixture
async def operator(
    kubeconfig: str, flux_crds: None, namespace: str, tmp_path: Path
) -> AsyncIterator[Manager]:
    async with running_resourcesets(kubeconfig, tmp_path, watch_namespace=namespace) as m:
        yield m


async def apply(kube: client.ApiClient, obj: Obj) -> Obj:
    return await kapi.apply(kube, obj, "test", force=True)


def provider(namespace: str, url: str, schedule: list[Obj] | None = None) -> Obj:
    spec: Obj = {
        "type": "GiteaPullRequest",
        "url": url,
        "secretRef": {"name": "gitea-token"},
        "filter": {"labels": ["preview"]},
        "skip": {"labels": ["hold"]},
        "defaultValues": {"layer": "analytics"},
    }
    if schedule:
        spec["schedule"] = schedule
    return {
        "apiVersion": "fluxcd.controlplane.io/v1",
        "kind": "ResourceSetInputProvider",
        "metadata": {
            "name": "analytics-prs",
            "namespace": namespace,
            "annotations": {
                "fluxcd.controlplane.io/reconcileEvery": "1h",
                "fluxcd.controlplane.io/reconcileTimeout": "10s",
            },
        },
        "spec": spec,
    }


def previews(namespace: str) -> Obj:
    return {
        "apiVersion": "fluxcd.controlplane.io/v1",
        "kind": "ResourceSet",
        "metadata": {"name": "analytics-previews", "namespace": namespace},
        "spec": {
            "inputsFrom": [{"name": "analytics-prs"}],
            "resourcesTemplate": (
                "apiVersion: v1\n"
                "kind: ConfigMap\n"
                "metadata:\n"
                "  name: << inputs.layer >>-pr-<< inputs.id >>\n"
                f"  namespace: {namespace}\n"
                "data:\n"
                "  branch: << inputs.branch | quote >>\n"
                "  sha: << inputs.sha | quote >>\n"
                "  title: << inputs.title | quote >>\n"
            ),
        },
    }


async def env(kube: client.ApiClient, namespace: str, number: int) -> Obj | None:
    try:
        return await kapi.get(kube, CONFIG_MAPS, namespace, f"analytics-pr-{number}")
    except NotFoundError:
        return None


async def request(kube: client.ApiClient, namespace: str, token: str) -> Obj:
    """``weir reconcile rsip``: ask for a run and wait until it was handled."""
    await kapi.patch(
        kube,
        RSIPS,
        namespace,
        "analytics-prs",
        {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": token}}},
    )
    return await wait_for(
        kube,
        RSIPS,
        namespace,
        "analytics-prs",
        lambda o: (o.get("status") or {}).get("lastHandledReconcileAt") == token,
        f"request {token} handled",
    )


async def test_pull_request_previews(
    kubeconfig: str,
    kube: client.ApiClient,
    namespace: str,
    operator: Manager,
    gitea_user: GiteaUser,
    gitea_repo: GiteaRepo,
) -> None:
    repo = gitea_repo
    repo.commit({"README.md": "analytics\n"}, "init")
    await apply(
        kube,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "gitea-token", "namespace": namespace},
            "stringData": {"username": gitea_user.username, "password": gitea_user.token},
        },
    )
    await apply(kube, provider(namespace, repo.html_url))
    await apply(kube, previews(namespace))

    # a pull request opened with the preview label: its environment appears
    first = repo.commit({"query.sql": "select 1\n"}, "faster query", branch="feat/query")
    pr = repo.open_pull_request("feat/query", title="Faster query", labels=["preview"])
    await request(kube, namespace, "opened")

    async def env_at(sha: str) -> bool:
        found = await env(kube, namespace, pr.number)
        return found is not None and found["data"]["sha"] == sha

    await eventually(lambda: env_at(first), "the preview environment", 60)
    rset = await kapi.get(kube, RSETS, namespace, "analytics-previews")
    assert condition(rset)["reason"] == "ReconciliationSucceeded"

    # as a person sees it: weir get rset|rsip, and the MCP tools through the SDK's client
    listed = await weir("get", "rset", "-n", namespace, "-o", "json", kubeconfig=kubeconfig)
    assert listed.code == 0, listed.stderr
    assert "analytics-previews" in listed.stdout
    providers = await weir("get", "rsip", "-n", namespace, kubeconfig=kubeconfig)
    assert providers.code == 0, providers.stderr
    assert "analytics-prs" in providers.stdout
    async with Client(build_server(McpSettings(kubeconfig=kubeconfig))) as mcp:
        result = await mcp.call_tool(
            "explain_resourceset", {"name": "analytics-previews", "namespace": namespace}
        )
        assert not result.is_error
        answer = result.structured_content
        assert isinstance(answer, dict)
        assert answer["inventory"] == [f"{namespace}_analytics-pr-{pr.number}__ConfigMap"]
        assert answer["providers"][0]["inputs"][0]["sha"] == first
        overview = await mcp.call_tool("get_resourcesets", {"namespace": namespace})
        rows = (overview.structured_content or {})["resourceSets"]
        assert rows[0]["providers"] == [f"{namespace}/analytics-prs"]

    # labelled hold: a new commit on the branch changes nothing
    repo.add_labels(pr.number, ["hold"])
    second = repo.commit({"query.sql": "select 2\n"}, "even faster", branch="feat/query")
    held = await request(kube, namespace, "held")
    assert held["status"]["exportedInputs"][0]["sha"] == first
    assert condition(held)["status"] == "True"
    assert await env_at(first)

    # the label removed: the environment follows the branch again
    repo.remove_label(pr.number, "hold")
    await request(kube, namespace, "released")
    await eventually(lambda: env_at(second), "the preview at the new commit", 60)

    # closed: the environment is garbage-collected
    repo.close_pull_request(pr.number)
    closed = await request(kube, namespace, "closed")
    assert closed["status"]["exportedInputs"] == []

    async def gone() -> bool:
        return await env(kube, namespace, pr.number) is None

    await eventually(gone, "the preview to be garbage-collected", 60)

    # a deployment window that is closed now: nothing changes until it opens
    now = datetime.now(UTC)
    opens = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if (opens - now).total_seconds() < 25:
        opens += timedelta(minutes=1)
    cron = f"{opens.minute} {opens.hour} * * *"
    schedule = [{"cron": cron, "timeZone": "UTC", "window": "2m"}]
    await apply(kube, provider(namespace, repo.html_url, schedule))
    repo.commit({"dash.json": "{}\n"}, "dashboard", branch="feat/dash")
    late = repo.open_pull_request("feat/dash", title="Dashboard", labels=["preview"])
    waiting = await request(kube, namespace, "outside-window")
    assert waiting["status"]["exportedInputs"] == []
    assert waiting["status"]["nextSchedule"]["when"] == opens.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert waiting["status"]["nextSchedule"]["cron"] == cron
    assert datetime.now(UTC) < opens, "the window opened before the check; the test is too slow"
    assert await env(kube, namespace, late.number) is None

    async def appeared() -> bool:
        return await env(kube, namespace, late.number) is not None

    await eventually(appeared, "the preview once the window opened", 150)
    assert datetime.now(UTC) >= opens
    inside = await kapi.get(kube, RSIPS, namespace, "analytics-prs")
    assert [i["id"] for i in inside["status"]["exportedInputs"]] == [str(late.number)]
