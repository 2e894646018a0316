"""SOPS-encrypted Secrets in a fleet repository, end to end: encrypted by the real sops CLI,
pushed to the loopback Git server, decrypted by weir's kustomize controller with the age key
of ``spec.decryption.secretRef``; without decryption (or with the wrong key) nothing is applied
and Ready says why."""

from __future__ import annotations

import base64

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.e2e.test_gitops_core import KS, MANAGER, applied, create_git, create_ks
from tests.support.sops import SOPS_AGE_SECRET
from tests.support.waiting import wait_for
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.resources import SECRETS
from weir.runtime import conditions
from weir.testing import sops as sops_cli
from weir.testing.gitrepo import GitRepoFixture
from weir.testing.sops import AgeKey

pytestmark = pytest.mark.usefixtures("controllers")


def secret(name: str, password: str) -> str:
    # No namespace: the Kustomization's targetNamespace sets it after encryption, which is
    # why decryption (as in Flux) does not check the MAC of the whole document.
    return f"""apiVersion: v1
kind: Secret
metadata:
  name: {name}
type: Opaque
stringData:
  password: {password}
"""


async def key_secret(api: ApiClient, ns: str, name: str, key: AgeKey) -> None:
    await kapi.apply(
        api,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": ns},
            "stringData": {"identity.agekey": f"# created by the test\n{key.identity}\n"},
        },
        MANAGER,
    )


async def controller_key(api: ApiClient, key: AgeKey) -> None:
    """The controllers' ``--sops-age-secret`` (see tests/conftest.py) holds ``key``."""
    namespace, name = SOPS_AGE_SECRET
    await kapi.apply(
        api,
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        MANAGER,
    )
    await key_secret(api, namespace, name, key)


async def password(api: ApiClient, ns: str, name: str) -> str | None:
    try:
        found = await kapi.get(api, SECRETS, ns, name)
    except NotFoundError:
        return None
    return base64.b64decode(found["data"]["password"]).decode()


async def test_sops_secrets_are_decrypted_with_the_age_key(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture
) -> None:
    api, ns = kube, namespace
    key, controller = AgeKey.generate(), AgeKey.generate()
    await controller_key(api, controller)
    sha = git_repo.commit(
        {
            "secrets/db.yaml": sops_cli.encrypt(secret("db", "s3cr3t"), key.recipient),
            "plain/api.yaml": sops_cli.encrypt(secret("api", "hunter2"), key.recipient),
            "global/ops.yaml": sops_cli.encrypt(secret("ops", "global"), controller.recipient),
        },
        "encrypted secrets",
    )
    await create_git(api, ns, git_repo)
    await key_secret(api, ns, "sops-age", key)
    await create_ks(
        api,
        ns,
        "secrets",
        path="./secrets",
        decryption={"provider": "sops", "secretRef": {"name": "sops-age"}},
    )
    await wait_for(api, KS, ns, "secrets", applied(sha), "decrypted and applied")
    assert await password(api, ns, "db") == "s3cr3t"
    live = await kapi.get(api, SECRETS, ns, "db")
    assert "sops" not in live

    # Without spec.decryption: Flux's error, and nothing applied.
    await create_ks(api, ns, "plain", path="./plain")
    ks = await wait_for(
        api,
        KS,
        ns,
        "plain",
        lambda o: (conditions.get(o, "Ready") or {}).get("reason") == "BuildFailed",
        "refused",
    )
    ready = conditions.get(ks, "Ready") or {}
    assert ready["status"] == "False"
    assert f"Secret/{ns}/api is SOPS encrypted, configuring decryption is required" in str(
        ready["message"]
    )
    assert await password(api, ns, "api") is None

    # With the wrong key: the recipients are named, still nothing applied.
    await key_secret(api, ns, "wrong-age", AgeKey.generate())
    await kapi.patch(
        api,
        KS,
        ns,
        "plain",
        {"spec": {"decryption": {"provider": "sops", "secretRef": {"name": "wrong-age"}}}},
    )
    ks = await wait_for(
        api,
        KS,
        ns,
        "plain",
        lambda o: "age identities" in str((conditions.get(o, "Ready") or {}).get("message")),
        "wrong key reported",
    )
    assert key.recipient in str((conditions.get(ks, "Ready") or {}).get("message"))
    assert await password(api, ns, "api") is None

    # The right key: applied.
    await kapi.patch(
        api, KS, ns, "plain", {"spec": {"decryption": {"secretRef": {"name": "sops-age"}}}}
    )
    await wait_for(api, KS, ns, "plain", applied(sha), "decrypted after the fix")
    assert await password(api, ns, "api") == "hunter2"

    # No secretRef: the controller-level key (--sops-age-secret) decrypts, as in Flux 2.7.
    await create_ks(api, ns, "global", path="./global", decryption={"provider": "sops"})
    await wait_for(api, KS, ns, "global", applied(sha), "decrypted with the controller's key")
    assert await password(api, ns, "ops") == "global"
