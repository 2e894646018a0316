"""The ArtifactGenerator controller end to end, as source-watcher behaves: composition of a Git
repository and a Bucket with a ``revision: "@alias"`` override, failures and their reasons,
drift (a deleted ExternalArtifact comes back), an artifact leaving the spec, and deletion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import wait_for, wait_gone
from weir.api.kinds import lookup
from weir.kube import apply as kapi
from weir.runtime import conditions
from weir.testing.gitrepo import GitRepoFixture
from weir.testing.s3 import S3Server
from weir.types import Obj

pytestmark = pytest.mark.usefixtures("controllers")

GIT = lookup("GitRepository").resource
BUCKET = lookup("Bucket").resource
AG = lookup("ArtifactGenerator").resource
EA = lookup("ExternalArtifact").resource
MANAGER = "weir-e2e"


async def apply(api: ApiClient, obj: Obj) -> None:
    await kapi.apply(api, obj, MANAGER, force=True)


def generator(ns: str, artifacts: list[dict[str, Any]], **meta: Any) -> Obj:
    return {
        "apiVersion": "source.extensions.fluxcd.io/v1beta1",
        "kind": "ArtifactGenerator",
        "metadata": {"name": "gen", "namespace": ns, **meta},
        "spec": {
            "sources": [
                {"alias": "repo", "kind": "GitRepository", "name": "repo"},
                {"alias": "cfg", "kind": "Bucket", "name": "cfg"},
            ],
            "artifacts": artifacts,
        },
    }


def ready_reason(reason: str, generation: int | None = None) -> Callable[[Obj], bool]:
    def check(obj: Obj) -> bool:
        ready = conditions.get(obj, "Ready") or {}
        if generation is not None and ready.get("observedGeneration") != generation:
            return False
        return ready.get("reason") == reason

    return check


async def test_composition_failures_drift_and_deletion(
    kube: ApiClient,
    namespace: str,
    git_repo: GitRepoFixture,
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    api, ns = kube, namespace
    sha = git_repo.commit({"deploy/app.yaml": "app: 1\n", "deploy/README.md": "doc\n"}, "app")
    s3_server.put_objects(s3_bucket, {"envs/prod.yaml": "env: prod\n"})
    await apply(
        api,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s3", "namespace": ns},
            "stringData": s3_server.credentials.secret_data(),
        },
    )
    await apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "repo", "namespace": ns},
            "spec": {"url": git_repo.url, "interval": "1m", "ref": {"branch": "master"}},
        },
    )

    composite = {
        "name": "composite",
        "revision": "@repo",
        "copy": [
            {"from": "@repo/deploy/**", "to": "@artifact/app/", "exclude": ["*.md"]},
            {"from": "@cfg/envs/prod.yaml", "to": "@artifact/env.yaml"},
        ],
    }
    extra = {"name": "extra", "copy": [{"from": "@repo/deploy/app.yaml", "to": "@artifact/"}]}
    await apply(api, generator(ns, [composite, extra]))

    # The Bucket does not exist yet: SourceFetchFailed, retried.
    missing = f"get sources failed: Bucket '{ns}/cfg' not found"
    gen = await wait_for(
        api,
        AG,
        ns,
        "gen",
        lambda o: (conditions.get(o, "Ready") or {}).get("message") == missing,
        "no bucket yet",
    )
    ready = conditions.get(gen, "Ready") or {}
    assert (ready["status"], ready["reason"]) == ("False", "SourceFetchFailed")

    await apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "Bucket",
            "metadata": {"name": "cfg", "namespace": ns},
            "spec": {
                "interval": "10m",
                "bucketName": s3_bucket,
                "endpoint": s3_server.endpoint,
                "insecure": True,
                "secretRef": {"name": "s3"},
            },
        },
    )
    gen = await wait_for(api, AG, ns, "gen", ready_reason("Succeeded"), "generated")
    assert (conditions.get(gen, "Ready") or {})["message"] == (
        "reconciliation succeeded, generated 2 artifact(s)"
    )
    ea = await kapi.get(api, EA, ns, "composite")
    # revision "@repo": the Git revision instead of latest@<digest>
    assert ea["status"]["artifact"]["revision"] == f"master@sha1:{sha}"
    assert "metadata" not in ea["status"]["artifact"]  # no originRevision asked for

    # Drift: a deleted ExternalArtifact is generated again, with the same artifact.
    digest = ea["status"]["artifact"]["digest"]
    await kapi.delete(api, EA, ns, "extra")
    back = await wait_for(
        api, EA, ns, "extra", lambda o: bool((o.get("status") or {}).get("artifact")), "regenerated"
    )
    assert back["status"]["artifact"]["revision"].startswith("latest@sha256:")
    assert (await kapi.get(api, EA, ns, "composite"))["status"]["artifact"]["digest"] == digest

    # An artifact that leaves the spec is deleted.
    await apply(api, generator(ns, [composite]))
    await wait_gone(api, EA, ns, "extra")
    gen = await wait_for(api, AG, ns, "gen", ready_reason("Succeeded", 2), "one artifact left")
    assert [r["name"] for r in gen["status"]["inventory"]] == ["composite"]

    # A copy that cannot be done: BuildFailed, naming the operation.
    broken = {**composite, "copy": [{"from": "@repo/missing.yaml", "to": "@artifact/"}]}
    await apply(api, generator(ns, [broken]))
    gen = await wait_for(api, AG, ns, "gen", ready_reason("BuildFailed", 3), "BuildFailed")
    assert (conditions.get(gen, "Ready") or {})["message"] == (
        "composite build failed: failed to apply copy operation from '@repo/missing.yaml' to "
        "'@artifact/': source 'missing.yaml' does not exist"
    )

    # A spec error stalls.
    dup = {**extra, "name": "composite"}
    await apply(api, generator(ns, [composite, dup]))
    gen = await wait_for(api, AG, ns, "gen", ready_reason("ValidationFailed", 4), "stalled")
    assert conditions.is_true(gen, "Stalled")
    assert (conditions.get(gen, "Ready") or {})["message"] == (
        "duplicate artifact name 'composite' found"
    )

    # Fixing the spec recovers.
    await apply(api, generator(ns, [composite]))
    await wait_for(api, AG, ns, "gen", ready_reason("Succeeded", 5), "recovered")

    # Deleting the generator deletes what it generated.
    await kapi.delete(api, AG, ns, "gen")
    await wait_gone(api, AG, ns, "gen")
    await wait_gone(api, EA, ns, "composite")
