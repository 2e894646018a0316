"""The build attacks through the controller: a real API server, a Git server, weir's
controllers. Nothing may be applied, the status must say why in one line, and no secret value
may reach the status or the Events."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import wait_for
from weir.api.kinds import lookup
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.informer import list_all
from weir.kube.resources import CONFIG_MAPS, SECRETS, ResourceRef
from weir.runtime import conditions
from weir.testing.gitrepo import GitRepoFixture
from weir.types import Obj

pytestmark = pytest.mark.usefixtures("controllers")

GIT = lookup("GitRepository").resource
KS = lookup("Kustomization").resource
EVENTS = ResourceRef("", "v1", "events", True, "Event")
MANAGER = "weir-security"
PASSWORD = "S3cr3tP@ss-xyz"


async def source(api: ApiClient, ns: str, repo: GitRepoFixture) -> None:
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": ns},
            "spec": {"url": repo.url, "interval": "1h", "ref": {"branch": "master"}},
        },
        MANAGER,
    )


async def kustomization(api: ApiClient, ns: str, name: str, path: str, **spec: Any) -> None:
    await kapi.apply(
        api,
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "interval": "1h",
                "prune": True,
                "path": path,
                "targetNamespace": ns,
                "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                **spec,
            },
        },
        MANAGER,
    )


def failed(reason: str) -> Callable[[Obj], bool]:
    def check(obj: Obj) -> bool:
        ready = conditions.get(obj, "Ready") or {}
        return ready.get("status") == "False" and ready.get("reason") == reason

    return check


def ready(obj: Obj) -> bool:
    return conditions.is_true(obj, "Ready")


async def absent(api: ApiClient, ns: str, name: str) -> bool:
    try:
        await kapi.get(api, CONFIG_MAPS, ns, name)
    except NotFoundError:
        return True
    return False


async def test_issue_attacks_fail_with_a_clear_status_and_apply_nothing(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture, kubeconfig: str
) -> None:
    api, ns = kube, namespace
    git_repo.commit(
        {
            # the controller's own (cluster-admin) kubeconfig through a generator config file
            "kubeconfig/kustomization.yaml": "generators: [gen.yaml]\n",
            "kubeconfig/gen.yaml": (
                "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: stolen-kc}\n"
                f"files: [kubeconfig={kubeconfig}]\n"
            ),
            # /etc/passwd through an inline generator
            "passwd/kustomization.yaml": (
                "generators:\n- |\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n"
                "  metadata: {name: stolen-pw}\n  files: [passwd=../../../../etc/passwd]\n"
            ),
            # a repository on the controller's disk
            "local/kustomization.yaml": f"resources: [file://{git_repo.path}]\n",
            "good/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\n",
        },
        "attacks",
    )
    await source(api, ns, git_repo)
    for name in ("kubeconfig", "passwd", "local", "good"):
        await kustomization(api, ns, name, f"./{name}")
    messages = {}
    for name in ("kubeconfig", "passwd", "local"):
        obj = await wait_for(api, KS, ns, name, failed("BuildFailed"), f"{name} refused")
        messages[name] = (conditions.get(obj, "Ready") or {}).get("message", "")
    assert "generators 'gen.yaml' (plugin config) files" in messages["kubeconfig"]
    assert "points outside the source artifact" in messages["kubeconfig"]
    assert "points outside the source artifact" in messages["passwd"]
    assert "file:// URL" in messages["local"]
    for message in messages.values():
        assert "\n" not in message
    # one refused path does not poison the other Kustomizations of the source
    await wait_for(api, KS, ns, "good", ready, "good applied")
    assert await absent(api, ns, "stolen-kc")
    assert await absent(api, ns, "stolen-pw")


async def test_substituted_secret_values_are_redacted(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture
) -> None:
    api, ns = kube, namespace
    await kapi.apply(
        api,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds", "namespace": ns},
            "data": {"password": base64.b64encode(PASSWORD.encode()).decode()},
        },
        MANAGER,
    )
    git_repo.commit(
        {
            "app/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n"
                "  labels:\n    pw: ${password}\n"
            )
        },
        "a label the API server refuses, holding a secret",
    )
    await source(api, ns, git_repo)
    await kustomization(
        api,
        ns,
        "app",
        "./app",
        postBuild={"substituteFrom": [{"kind": "Secret", "name": "creds"}]},
    )
    obj = await wait_for(api, KS, ns, "app", failed("ReconciliationFailed"), "the apply refused")
    message = (conditions.get(obj, "Ready") or {}).get("message", "")
    assert "Invalid value" in message
    assert "***" in message
    assert PASSWORD not in str(obj)
    events, _ = await list_all(api, EVENTS, namespace=ns)
    ours = [e for e in events if (e.get("involvedObject") or {}).get("name") == "app"]
    assert ours
    assert all(PASSWORD not in str(e.get("message")) for e in ours)
    assert (await kapi.get(api, SECRETS, ns, "creds"))["data"]
