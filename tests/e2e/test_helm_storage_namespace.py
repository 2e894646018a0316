"""A HelmRelease whose Helm storage namespace is neither its own nor the target namespace,
reconciled by weir's controllers: install, upgrade and uninstall with the records in the
storage namespace (Flux's placement), the objects in the target namespace."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import eventually, wait_for, wait_gone
from weir.api.kinds import lookup
from weir.helm.storage import SecretsStorage
from weir.kube import apply as kapi
from weir.kube.resources import CONFIG_MAPS, ResourceRef
from weir.runtime import conditions
from weir.testing.gitrepo import GitRepoFixture
from weir.types import Obj

pytestmark = pytest.mark.usefixtures("controllers")

HR = lookup("HelmRelease").resource
NAMESPACES = ResourceRef("", "v1", "namespaces", False, "Namespace")
MANAGER = "weir-e2e"
CHART = {
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    "charts/web/values.yaml": "message: hello\n",
    "charts/web/templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\n"
        "data:\n  message: {{ .Values.message | quote }}\n"
        "  namespace: {{ .Release.Namespace | quote }}\n"
    ),
}


@pytest.fixture
async def extra_namespaces(kube: ApiClient, namespace: str) -> AsyncIterator[tuple[str, str]]:
    suffix = uuid.uuid4().hex[:6]
    names = (f"{namespace}-target-{suffix}", f"{namespace}-store-{suffix}")
    for name in names:
        await kapi.create(kube, NAMESPACES, {"metadata": {"name": name}})
    try:
        yield names
    finally:
        for name in names:
            with contextlib.suppress(Exception):
                await kapi.delete(kube, NAMESPACES, None, name, missing_ok=True)


def released(reason: str, version: int) -> Callable[[Obj], bool]:
    def check(obj: Obj) -> bool:
        history = (obj.get("status") or {}).get("history") or []
        return (
            (conditions.get(obj, "Ready") or {}).get("reason") == reason
            and bool(history)
            and history[0].get("version") == version
        )

    return check


async def records(api: ApiClient, ns: str, release: str) -> list[str]:
    return sorted(s["metadata"]["name"] for s in await SecretsStorage().records(api, release, ns))


async def test_storage_namespace_differs_from_the_target_namespace(
    kube: ApiClient,
    namespace: str,
    git_repo: GitRepoFixture,
    extra_namespaces: tuple[str, str],
) -> None:
    api, ns = kube, namespace
    target, storage = extra_namespaces
    git_repo.commit(CHART, "a chart")
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "charts", "namespace": ns},
            "spec": {"url": git_repo.url, "interval": "1m", "ref": {"branch": "master"}},
        },
        MANAGER,
    )

    async def release(message: str) -> None:
        await kapi.apply(
            api,
            {
                "apiVersion": "helm.toolkit.fluxcd.io/v2",
                "kind": "HelmRelease",
                "metadata": {"name": "web", "namespace": ns},
                "spec": {
                    "interval": "10m",
                    "releaseName": "web",
                    "targetNamespace": target,
                    "storageNamespace": storage,
                    "chart": {
                        "spec": {
                            "chart": "./charts/web",
                            "sourceRef": {"kind": "GitRepository", "name": "charts"},
                        }
                    },
                    "values": {"message": message},
                },
            },
            MANAGER,
            force=True,
        )

    await release("one")
    hr = await wait_for(
        api, HR, ns, "web", released("InstallSucceeded", 1), "installed", timeout=120
    )
    assert hr["status"]["storageNamespace"] == storage
    assert hr["status"]["history"][0]["namespace"] == target
    cm = await kapi.get(api, CONFIG_MAPS, target, "web-config")
    assert cm["data"] == {"message": "one", "namespace": target}
    assert await records(api, storage, "web") == ["sh.helm.release.v1.web.v1"]
    assert await records(api, target, "web") == []
    assert await records(api, ns, "web") == []

    await release("two")
    await wait_for(api, HR, ns, "web", released("UpgradeSucceeded", 2), "upgraded")
    assert (await kapi.get(api, CONFIG_MAPS, target, "web-config"))["data"]["message"] == "two"
    assert await records(api, storage, "web") == [
        "sh.helm.release.v1.web.v1",
        "sh.helm.release.v1.web.v2",
    ]
    assert await records(api, target, "web") == []

    await kapi.delete(api, HR, ns, "web")
    await wait_gone(api, HR, ns, "web")
    await wait_gone(api, CONFIG_MAPS, target, "web-config")

    async def uninstalled() -> bool:
        return await records(api, storage, "web") == []

    await eventually(uninstalled, "the records uninstalled")
