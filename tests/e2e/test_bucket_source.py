"""A Bucket source end to end: weir's controllers in-process sync a Kustomization from a bucket
on the real S3 server (versitygw on loopback): Ready, a changed object applied as a new
revision, wrong keys reported with the S3 error, and TLS with certSecretRef."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import wait_for
from weir.api.kinds import lookup
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.resources import CONFIG_MAPS
from weir.runtime import conditions
from weir.testing.certs import make_tls
from weir.testing.s3 import S3Credentials, S3Server
from weir.types import Obj

pytestmark = pytest.mark.usefixtures("controllers")

BUCKET = lookup("Bucket").resource
KS = lookup("Kustomization").resource
MANAGER = "weir-e2e"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"


def configmap(name: str, value: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v: {value!r}\n"


async def apply(api: ApiClient, obj: Obj) -> None:
    await kapi.apply(api, obj, MANAGER, force=True)


async def secret(api: ApiClient, ns: str, name: str, data: dict[str, str]) -> None:
    await apply(
        api,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": ns},
            "stringData": data,
        },
    )


async def bucket(
    api: ApiClient, ns: str, name: str, s3: S3Server, bucket_name: str, **spec: object
) -> None:
    await apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "Bucket",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "interval": "10m",
                "bucketName": bucket_name,
                "endpoint": s3.endpoint,
                "insecure": s3.tls is None,
                **spec,
            },
        },
    )


async def kustomization(api: ApiClient, ns: str, name: str, source: str, path: str) -> None:
    await apply(
        api,
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "interval": "10m",
                "prune": True,
                "path": path,
                "targetNamespace": ns,
                "sourceRef": {"kind": "Bucket", "name": source},
            },
        },
    )


def ready_with(revision_part: str) -> Callable[[Obj], bool]:
    def check(obj: Obj) -> bool:
        ready = conditions.get(obj, "Ready") or {}
        applied = str((obj.get("status") or {}).get("lastAppliedRevision") or "")
        return ready.get("status") == "True" and revision_part in applied

    return check


async def data(api: ApiClient, ns: str, name: str) -> dict[str, str] | None:
    try:
        return dict((await kapi.get(api, CONFIG_MAPS, ns, name)).get("data") or {})
    except NotFoundError:
        return None


async def request(api: ApiClient, ns: str, name: str, token: str) -> None:
    await kapi.patch(api, BUCKET, ns, name, {"metadata": {"annotations": {REQUESTED_AT: token}}})


async def test_kustomization_syncs_from_a_bucket(
    kube: ApiClient, namespace: str, s3_server: S3Server, s3_bucket: str
) -> None:
    api, ns = kube, namespace
    s3_server.put_objects(
        s3_bucket,
        {
            "deploy/apps/a.yaml": configmap("a", "1"),
            "deploy/apps/b.yaml": configmap("b", "1"),
            "other/ignored.yaml": configmap("other", "1"),
        },
    )
    await secret(api, ns, "s3-keys", s3_server.credentials.secret_data())
    await bucket(
        api, ns, "fleet", s3_server, s3_bucket, prefix="deploy/", secretRef={"name": "s3-keys"}
    )
    await kustomization(api, ns, "apps", "fleet", "./deploy/apps")

    src = await wait_for(
        api, BUCKET, ns, "fleet", lambda o: conditions.is_true(o, "Ready"), "Bucket Ready"
    )
    revision = src["status"]["artifact"]["revision"]
    assert revision.startswith("sha256:")
    ready = conditions.get(src, "Ready") or {}
    assert ready["message"] == f"stored artifact for revision '{revision}'"
    ks = await wait_for(api, KS, ns, "apps", ready_with(revision), "first revision applied")
    assert (conditions.get(ks, "Ready") or {})["message"] == f"Applied revision: {revision}"
    assert await data(api, ns, "a") == {"v": "1"}
    assert await data(api, ns, "other") is None

    # A changed object is a new revision, applied; a deleted one is pruned.
    s3_server.put_object(s3_bucket, "deploy/apps/a.yaml", configmap("a", "2"))
    s3_server.delete_object(s3_bucket, "deploy/apps/b.yaml")
    await request(api, ns, "fleet", "t1")
    src = await wait_for(
        api,
        BUCKET,
        ns,
        "fleet",
        lambda o: (o.get("status") or {}).get("artifact", {}).get("revision") != revision,
        "a new revision",
    )
    second = src["status"]["artifact"]["revision"]
    await wait_for(api, KS, ns, "apps", ready_with(second), "second revision applied")
    assert await data(api, ns, "a") == {"v": "2"}
    assert await data(api, ns, "b") is None

    # Wrong keys: the Bucket says what S3 answered; what was applied stays.
    wrong = S3Credentials(s3_server.credentials.access_key, "not-the-secret")
    await secret(api, ns, "wrong-keys", wrong.secret_data())
    await bucket(
        api, ns, "fleet", s3_server, s3_bucket, prefix="deploy/", secretRef={"name": "wrong-keys"}
    )
    src = await wait_for(
        api,
        BUCKET,
        ns,
        "fleet",
        lambda o: (conditions.get(o, "Ready") or {}).get("reason") == "BucketOperationFailed",
        "Ready=False BucketOperationFailed",
    )
    ready = conditions.get(src, "Ready") or {}
    assert ready["status"] == "False"
    assert "SignatureDoesNotMatch" in ready["message"]
    assert (conditions.get(src, "FetchFailed") or {}).get("status") == "True"
    assert src["status"]["artifact"]["revision"] == second
    assert await data(api, ns, "a") == {"v": "2"}


@pytest.fixture(scope="module")
def tls_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with S3Server(tmp_path_factory.mktemp("s3-tls-e2e"), tls=make_tls()) as server:
        yield server


async def test_bucket_over_tls_with_cert_secret_ref(
    kube: ApiClient, namespace: str, tls_s3: S3Server
) -> None:
    api, ns = kube, namespace
    name = tls_s3.create_bucket()
    tls_s3.put_object(name, "app/cm.yaml", configmap("tls", "yes"))
    assert tls_s3.ca_pem is not None
    await secret(api, ns, "s3-keys", tls_s3.credentials.secret_data())
    await secret(api, ns, "s3-ca", {"ca.crt": tls_s3.ca_pem.decode()})

    # without the CA the handshake fails, and the message names the fix
    await bucket(api, ns, "tls", tls_s3, name, secretRef={"name": "s3-keys"})
    src = await wait_for(
        api,
        BUCKET,
        ns,
        "tls",
        lambda o: conditions.is_false(o, "Ready"),
        "Ready=False without the CA",
    )
    assert "spec.certSecretRef" in (conditions.get(src, "Ready") or {})["message"]

    await bucket(
        api, ns, "tls", tls_s3, name, secretRef={"name": "s3-keys"}, certSecretRef={"name": "s3-ca"}
    )
    await kustomization(api, ns, "tls-app", "tls", "./app")
    src = await wait_for(
        api, BUCKET, ns, "tls", lambda o: conditions.is_true(o, "Ready"), "Bucket Ready over TLS"
    )
    await wait_for(
        api, KS, ns, "tls-app", ready_with(src["status"]["artifact"]["revision"]), "applied"
    )
    assert await data(api, ns, "tls") == {"v": "yes"}
