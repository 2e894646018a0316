"""GitRepository ``spec.verify`` end to end: commits and tags signed with a GnuPG key, the
public key in a Secret, weir's source controller syncing only what verifies."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.e2e.test_gitops_core import (
    GIT,
    KS,
    MANAGER,
    applied,
    cm_data,
    configmap,
    create_ks,
)
from tests.support.waiting import wait_for
from weir.kube import apply as kapi
from weir.runtime import conditions
from weir.testing.gitrepo import GitRepoFixture
from weir.testing.gpg import GpgKey

pytestmark = pytest.mark.usefixtures("controllers")


async def keys_secret(api: ApiClient, ns: str, key: GpgKey) -> None:
    await kapi.apply(
        api,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "gpg-keys", "namespace": ns},
            # An SSH key beside the OpenPGP one, as Flux allows: it is not given to GnuPG.
            "stringData": {"ops.asc": key.public, "ops.sshpub": "ssh-ed25519 AAAAC3Nz ops"},
        },
        MANAGER,
    )


async def test_only_signed_commits_are_synced(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture, tmp_path: Path
) -> None:
    api, ns = kube, namespace
    key = GpgKey.generate(tmp_path / "gnupg", "Fleet Ops <ops@weir.invalid>")
    await keys_secret(api, ns, key)
    git_repo.sign_with(key)
    signed = git_repo.commit({"apps/a.yaml": configmap("a", v="1")}, "signed")
    # Verification from the start: no unverified artifact is ever stored.
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": ns},
            "spec": {
                "url": git_repo.url,
                "interval": "1m",
                "ref": {"branch": "master"},
                "verify": {"mode": "HEAD", "secretRef": {"name": "gpg-keys"}},
            },
        },
        MANAGER,
    )
    await create_ks(api, ns, "apps", path="./apps")
    await wait_for(api, KS, ns, "apps", applied(signed), "the signed commit applied")
    git = await wait_for(
        api, GIT, ns, "fleet", lambda o: conditions.is_true(o, "SourceVerified"), "verified"
    )
    verified = conditions.get(git, "SourceVerified") or {}
    assert verified.get("status") == "True"
    assert f"commit '{signed}' with key '{key.fingerprint}'" in str(verified.get("message"))
    assert git["status"]["sourceVerificationMode"] == "HEAD"

    # An unsigned commit on top: refused, the verified artifact stays, nothing changes.
    git_repo.sign_with(None)
    unsigned = git_repo.commit({"apps/a.yaml": configmap("a", v="2")}, "unsigned")
    await kapi.patch(
        api,
        GIT,
        ns,
        "fleet",
        {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "u"}}},
    )
    git = await wait_for(
        api,
        GIT,
        ns,
        "fleet",
        lambda o: (conditions.get(o, "SourceVerified") or {}).get("status") == "False",
        "verification refused",
    )
    ready = conditions.get(git, "Ready") or {}
    assert (ready.get("status"), ready.get("reason")) == ("False", "VerificationError")
    assert f"commit '{unsigned}' is not signed" in str(ready.get("message"))
    assert signed in git["status"]["artifact"]["revision"]
    assert await cm_data(api, ns, "a") == {"v": "1"}


async def test_a_signed_tag(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture, tmp_path: Path
) -> None:
    api, ns = kube, namespace
    key = GpgKey.generate(tmp_path / "gnupg", "Release Bot <release@weir.invalid>")
    await keys_secret(api, ns, key)
    git_repo.sign_with(key)
    sha = git_repo.commit({"apps/a.yaml": configmap("a", v="1")}, "release")
    git_repo.tag("v1.0.0", annotated=True, message="release 1.0.0")
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "release", "namespace": ns},
            "spec": {
                "url": git_repo.url,
                "interval": "10m",
                "ref": {"tag": "v1.0.0"},
                "verify": {"mode": "TagAndHEAD", "secretRef": {"name": "gpg-keys"}},
            },
        },
        MANAGER,
    )
    git = await wait_for(
        api, GIT, ns, "release", lambda o: conditions.is_true(o, "Ready"), "the tag verified"
    )
    message = str((conditions.get(git, "SourceVerified") or {}).get("message"))
    assert f"tag 'v1.0.0' with key '{key.fingerprint}'" in message
    assert f"commit '{sha}'" in message
    assert git["status"]["artifact"]["revision"] == f"v1.0.0@sha1:{sha}"
