"""ResourceSetInputProviders against real peers: a Gitea (pull requests, branches, tags,
labels, tokens) and the loopback OCI registry (tags and digests), each provider reconciled by
``weir run --controllers=resourcesets`` in-process."""

from __future__ import annotations

import socket
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client

from tests.support.operator import condition
from tests.support.waiting import wait_for
from weir.api.kinds import lookup
from weir.kube import apply as kapi
from weir.oci.artifact import push_artifact
from weir.oci.client import RegistryClient
from weir.oci.reference import parse_url
from weir.runtime.manager import Manager
from weir.testing.controllers import running_resourcesets
from weir.testing.gitea import GiteaServer
from weir.testing.gitea_api import GiteaRepo, GiteaUser
from weir.testing.ociregistry import Registry

Obj = dict[str, Any]
RSIPS = lookup("ResourceSetInputProvider").resource


@pytest.fixture
async def operator(
    kubeconfig: str, flux_crds: None, namespace: str, tmp_path: Path
) -> AsyncIterator[Manager]:
    async with running_resourcesets(kubeconfig, tmp_path, watch_namespace=namespace) as m:
        yield m


async def apply(kube: client.ApiClient, obj: Obj) -> Obj:
    return await kapi.apply(kube, obj, "test", force=True)


def provider(namespace: str, name: str, spec: Obj) -> Obj:
    return {
        "apiVersion": "fluxcd.controlplane.io/v1",
        "kind": "ResourceSetInputProvider",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


async def token_secret(kube: client.ApiClient, namespace: str, user: GiteaUser, name: str) -> None:
    await apply(
        kube,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "stringData": {"username": user.username, "password": user.token},
        },
    )


def ready_with(check: Any = None) -> Any:
    def done(obj: Obj) -> bool:
        cond = condition(obj)
        gen = (obj.get("metadata") or {}).get("generation")
        ok = cond.get("status") == "True" and cond.get("observedGeneration") == gen
        return ok and (check is None or check(obj))

    return done


def failing(obj: Obj) -> bool:
    cond = condition(obj)
    return cond.get("status") == "False" and cond.get("reason") == "ReconciliationFailed"


async def test_gitea_pull_requests_branches_tags_and_refused_tokens(
    kube: client.ApiClient,
    namespace: str,
    operator: Manager,
    gitea: GiteaServer,
    gitea_user: GiteaUser,
    gitea_repo: GiteaRepo,
) -> None:
    repo = gitea_repo
    repo.commit({"README.md": "hello\n"}, "init")
    feat = repo.commit({"a.txt": "a\n"}, "feature a", branch="feat/a")
    repo.commit({"b.txt": "b\n"}, "feature b", branch="feat/b")
    repo.commit({"c.txt": "c\n"}, "fix c", branch="fix/c")
    pr_a = repo.open_pull_request("feat/a", title="Feature A", labels=["preview"])
    repo.open_pull_request("feat/b", title="Feature B")
    repo.open_pull_request("fix/c", title="Fix C", labels=["preview"])
    v1 = repo.tag("v1.0.0")
    repo.tag("v1.1.0")
    repo.tag("v2.0.0-rc.1")
    await token_secret(kube, namespace, gitea_user, "gitea-token")
    url = repo.html_url

    await apply(
        kube,
        provider(
            namespace,
            "prs",
            {
                "type": "GiteaPullRequest",
                "url": url,
                "secretRef": {"name": "gitea-token"},
                "filter": {"labels": ["preview"], "includeBranch": "^feat/"},
                "defaultValues": {"chart": "charts/app", "branch": "not-overridden"},
            },
        ),
    )
    prs = await wait_for(kube, RSIPS, namespace, "prs", ready_with(), "the PR provider")
    exported = prs["status"]["exportedInputs"]
    assert exported == [
        {
            "id": str(pr_a.number),
            "sha": feat,
            "branch": "feat/a",
            "author": gitea_user.username,
            "title": "Feature A",
            "labels": ["preview"],
            "chart": "charts/app",
        }
    ]

    await apply(
        kube,
        provider(
            namespace,
            "branches",
            {
                "type": "GiteaBranch",
                "url": url,
                "secretRef": {"name": "gitea-token"},
                "filter": {"excludeBranch": "^fix/"},
            },
        ),
    )
    branches = await wait_for(kube, RSIPS, namespace, "branches", ready_with(), "branches")
    names = sorted(i["branch"] for i in branches["status"]["exportedInputs"])
    assert names == ["feat/a", "feat/b", "main"]
    by_name = {i["branch"]: i for i in branches["status"]["exportedInputs"]}
    assert by_name["feat/a"]["id"] == str(zlib.adler32(b"feat/a"))
    assert by_name["feat/a"]["sha"] == feat

    await apply(
        kube,
        provider(
            namespace,
            "tags",
            {
                "type": "GiteaTag",
                "url": url,
                "secretRef": {"name": "gitea-token"},
                "filter": {"semver": ">=1.0.0", "limit": 2},
            },
        ),
    )
    tags = await wait_for(kube, RSIPS, namespace, "tags", ready_with(), "tags")
    assert [i["tag"] for i in tags["status"]["exportedInputs"]] == ["v1.1.0", "v1.0.0"]
    assert tags["status"]["exportedInputs"][1] == {
        "id": str(zlib.adler32(b"v1.0.0")),
        "tag": "v1.0.0",
        "sha": v1,
    }

    # a refused token: Ready=False, the exported inputs stay
    await apply(
        kube,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "gitea-token", "namespace": namespace},
            "stringData": {"username": gitea_user.username, "password": "not-a-token"},
        },
    )
    await kapi.patch(
        kube,
        RSIPS,
        namespace,
        "prs",
        {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "refused"}}},
    )
    refused = await wait_for(kube, RSIPS, namespace, "prs", failing, "the refused token")
    assert "refused the credentials (401)" in condition(refused)["message"]
    assert refused["status"]["exportedInputs"] == exported

    # a forge that is down: Ready=False, the exported inputs stay
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    await apply(
        kube,
        provider(
            namespace,
            "tags",
            {"type": "GiteaTag", "url": f"http://127.0.0.1:{port}/o/r", "filter": {"limit": 2}},
        ),
    )

    def down(obj: Obj) -> bool:
        return failing(obj) and condition(obj).get("observedGeneration") == 2

    gone = await wait_for(kube, RSIPS, namespace, "tags", down, "the forge down")
    assert "is the forge up" in condition(gone)["message"]
    assert [i["tag"] for i in gone["status"]["exportedInputs"]] == ["v1.1.0", "v1.0.0"]


async def test_oci_tags_with_digests(
    kube: client.ApiClient, namespace: str, operator: Manager, oci_registry: Registry
) -> None:
    base = parse_url(f"{oci_registry.url}/apps/analytics")
    digests = {}
    async with RegistryClient(insecure=True) as oci:
        for tag in ("1.0.0", "1.2.0", "2.0.0", "latest"):
            digests[tag] = await push_artifact(oci, base.with_tag(tag), f"{tag}".encode())
    await apply(
        kube,
        provider(
            namespace,
            "oci",
            {
                "type": "OCIArtifactTag",
                "url": f"{oci_registry.url}/apps/analytics",
                "insecure": True,
                "filter": {"semver": "1.x"},
                "defaultValues": {"env": "staging"},
            },
        ),
    )
    done = await wait_for(kube, RSIPS, namespace, "oci", ready_with(), "the OCI provider")
    assert done["status"]["exportedInputs"] == [
        {
            "id": str(zlib.adler32(tag.encode())),
            "tag": tag,
            "digest": digests[tag],
            "env": "staging",
        }
        for tag in ("1.2.0", "1.0.0")
    ]
