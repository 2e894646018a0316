"""A fleet in the Flux 2.7 layout (tests/e2e/fleets/flux27, after
fluxcd/flux2-kustomize-helm-example): ArtifactGenerator -> ExternalArtifacts -> Kustomizations and
a HelmRelease with ``chartRef.kind: ExternalArtifact``, reconciled to Ready by weir's
controllers from a Git server on loopback; then a change under ``apps/`` gives the ``apps``
artifact alone a new revision (decomposition), which reaches the cluster."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import wait_for
from weir.api.kinds import lookup
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.resources import CONFIG_MAPS, ResourceRef
from weir.runtime import conditions
from weir.testing.gitrepo import GitRepoFixture
from weir.types import Obj

pytestmark = pytest.mark.usefixtures("controllers")

FLEET = Path(__file__).parent / "fleets" / "flux27"
GIT = lookup("GitRepository").resource
KS = lookup("Kustomization").resource
HR = lookup("HelmRelease").resource
AG = lookup("ArtifactGenerator").resource
EA = lookup("ExternalArtifact").resource
NAMESPACES = ResourceRef("", "v1", "namespaces", False, "Namespace")
DEPLOYMENTS = ResourceRef("apps", "v1", "deployments", True, "Deployment")
MANAGER = "weir-e2e"


def fleet_files(ns: str, app_ns: str) -> dict[str, str]:
    """The fleet with its namespaces renamed for this test."""
    files: dict[str, str] = {}
    for path in sorted(FLEET.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text()
        text = text.replace("namespace: flux-system", f"namespace: {ns}")
        text = text.replace("namespace: podinfo", f"namespace: {app_ns}")
        text = text.replace(
            "kind: Namespace\nmetadata:\n  name: podinfo",
            f"kind: Namespace\nmetadata:\n  name: {app_ns}",
        )
        files[path.relative_to(FLEET).as_posix()] = text
    return files


def ready(obj: Obj) -> bool:
    return conditions.is_true(obj, "Ready") and obj["metadata"].get("generation") == (
        obj.get("status") or {}
    ).get("observedGeneration", (conditions.get(obj, "Ready") or {}).get("observedGeneration"))


def applied(revision: str) -> Callable[[Obj], bool]:
    return lambda o: ready(o) and (o.get("status") or {}).get("lastAppliedRevision") == revision


async def bootstrap(api: ApiClient, ns: str, repo: GitRepoFixture) -> None:
    """What ``flux bootstrap`` writes into clusters/staging/flux-system."""
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "flux-system", "namespace": ns},
            "spec": {"interval": "1m", "url": repo.url, "ref": {"branch": "master"}},
        },
        MANAGER,
    )
    await kapi.apply(
        api,
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "flux-system", "namespace": ns},
            "spec": {
                "interval": "10m",
                "path": "./clusters/staging",
                "prune": True,
                "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
            },
        },
        MANAGER,
    )


async def test_flux27_fleet_reconciles_to_ready(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture
) -> None:
    api, ns = kube, namespace
    app_ns = f"{ns}-podinfo"
    sha = git_repo.commit(fleet_files(ns, app_ns), "the Flux 2.7 fleet")
    git_revision = f"master@sha1:{sha}"
    try:
        await bootstrap(api, ns, git_repo)
        await check_fleet(api, ns, app_ns, git_repo, git_revision)
    finally:
        with contextlib.suppress(NotFoundError):
            await kapi.delete(api, NAMESPACES, None, app_ns)


async def check_fleet(
    api: ApiClient, ns: str, app_ns: str, repo: GitRepoFixture, git_revision: str
) -> None:
    # The generator splits the repository into three ExternalArtifacts.
    gen = await wait_for(api, AG, ns, "flux-system", ready, "ArtifactGenerator Ready", timeout=120)
    ready_cond = conditions.get(gen, "Ready") or {}
    assert (ready_cond["reason"], ready_cond["message"]) == (
        "Succeeded",
        "reconciliation succeeded, generated 3 artifact(s)",
    )
    inventory = {ref["name"]: ref for ref in gen["status"]["inventory"]}
    assert set(inventory) == {"infrastructure", "apps", "podinfo-chart"}
    assert gen["status"]["observedSourcesDigest"].startswith("sha256:")

    infra = await kapi.get(api, EA, ns, "infrastructure")
    artifact = infra["status"]["artifact"]
    assert artifact["revision"] == f"latest@{artifact['digest']}"
    assert artifact["digest"] == inventory["infrastructure"]["digest"]
    assert artifact["path"] == (
        f"externalartifact/{ns}/infrastructure/{inventory['infrastructure']['filename']}"
    )
    assert artifact["metadata"] == {"org.opencontainers.image.revision": git_revision}
    assert infra["spec"]["sourceRef"] == {
        "apiVersion": "source.extensions.fluxcd.io/v1beta1",
        "kind": "ArtifactGenerator",
        "name": "flux-system",
        "namespace": ns,
    }
    labels = infra["metadata"]["labels"]
    assert labels["source.extensions.fluxcd.io/generator"] == gen["metadata"]["uid"]
    assert labels["app.kubernetes.io/managed-by"] == "source-watcher"
    ea_ready = conditions.get(infra, "Ready") or {}
    assert (ea_ready["status"], ea_ready["reason"], ea_ready["message"]) == (
        "True",
        "Succeeded",
        "Artifact is ready",
    )

    # The Kustomizations apply the ExternalArtifacts in dependsOn order.
    infra_rev = artifact["revision"]
    for name in ("infra-controllers", "infra-configs"):
        ks = await wait_for(api, KS, ns, name, applied(infra_rev), f"{name} applied", timeout=180)
        assert ks["status"]["lastAppliedOriginRevision"] == git_revision
    apps_rev = (await kapi.get(api, EA, ns, "apps"))["status"]["artifact"]["revision"]
    await wait_for(api, KS, ns, "apps", applied(apps_rev), "apps applied", timeout=300)

    # The HelmRelease installed the chart from its ExternalArtifact, staging values merged.
    hr = await wait_for(api, HR, app_ns, "podinfo", ready, "HelmRelease Ready")
    assert (conditions.get(hr, "Ready") or {})["reason"] == "InstallSucceeded"
    assert hr["status"]["lastAttemptedRevision"] == "6.9.0"
    ui = (await kapi.get(api, CONFIG_MAPS, app_ns, "podinfo-ui"))["data"]
    assert ui == {"color": "#2f855a", "message": "hello from staging", "replicas": "2"}
    deployment = await kapi.get(api, DEPLOYMENTS, app_ns, "podinfo")
    assert deployment["spec"]["replicas"] == 2

    # A change under apps/ only: a new apps revision, the same infrastructure revision.
    sha2 = repo.commit(
        {
            "apps/staging/podinfo-values.yaml": (FLEET / "apps/staging/podinfo-values.yaml")
            .read_text()
            .replace("hello from staging", "second revision")
        },
        "new staging message",
    )
    await kapi.patch(
        api,
        GIT,
        ns,
        "flux-system",
        {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "t1"}}},
    )
    apps_ea = await wait_for(
        api,
        EA,
        ns,
        "apps",
        lambda o: (o.get("status") or {}).get("artifact", {}).get("revision") != apps_rev,
        "a new apps revision",
    )
    new_apps_rev = apps_ea["status"]["artifact"]["revision"]
    assert apps_ea["status"]["artifact"]["metadata"] == {
        "org.opencontainers.image.revision": f"master@sha1:{sha2}"
    }
    await wait_for(api, KS, ns, "apps", applied(new_apps_rev), "the new apps revision applied")
    infra_now = await kapi.get(api, EA, ns, "infrastructure")
    assert infra_now["status"]["artifact"]["revision"] == infra_rev
    await wait_for(
        api,
        CONFIG_MAPS,
        app_ns,
        "podinfo-ui",
        lambda o: (o.get("data") or {}).get("message") == "second revision",
        "the upgraded release",
    )
