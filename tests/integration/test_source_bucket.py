"""The Bucket reconciler against the real S3 server (versitygw on loopback) and the real API
server (for the Secrets): index and revision as source-controller computes them, prefix,
.sourceignore and spec.ignore, changes, credentials, TLS, and the bounds."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kapi
from weir.runtime import conditions
from weir.runtime.result import ReconcileError, Stalled
from weir.source.bucket import BucketReconciler, index_revision
from weir.source.storage import Storage, extract
from weir.testing.certs import make_tls
from weir.testing.s3 import S3Credentials, S3Server
from weir.types import Obj

MANAGER = "weir-test"


def bucket_obj(ns: str, bucket: str, endpoint: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "Bucket",
        "metadata": {"name": "fleet", "namespace": ns, "generation": 1},
        "spec": {
            "interval": "1m",
            "bucketName": bucket,
            "endpoint": endpoint,
            "insecure": True,
            "secretRef": {"name": "s3-keys"},
            **spec,
        },
        "status": {},
    }


async def put_secret(api: ApiClient, ns: str, name: str, data: dict[str, str]) -> None:
    await kapi.apply(
        api,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": ns},
            "stringData": data,
        },
        MANAGER,
        force=True,
    )


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(tmp_path / "storage", "storage.invalid")


def files_of(storage: Storage, artifact: Obj, dest: Path) -> dict[str, str]:
    extract(storage.local_path(artifact), dest, str(artifact["digest"]))
    return {
        p.relative_to(dest).as_posix(): p.read_text()
        for p in sorted(dest.rglob("*"))
        if p.is_file()
    }


def etag_index(s3: S3Server, bucket: str, keys: list[str]) -> dict[str, str]:
    client = s3.client()
    return {k: client.head_object(Bucket=bucket, Key=k)["ETag"].strip('"') for k in keys}


async def test_revision_is_the_digest_of_the_etag_index(
    kube: ApiClient,
    namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
    storage: Storage,
    tmp_path: Path,
) -> None:
    s3_server.put_objects(
        s3_bucket,
        {
            "apps/app.yaml": "kind: ConfigMap\n",
            "apps/nested/deep.yaml": "kind: Secret\n",
            "infra/crds.yaml": "kind: CustomResourceDefinition\n",
            "apps/placeholder/": "",  # a "directory" object: not indexed
        },
    )
    await put_secret(kube, namespace, "s3-keys", s3_server.credentials.secret_data())
    rec = BucketReconciler(kube, storage)
    obj = bucket_obj(namespace, s3_bucket, s3_server.endpoint, prefix="apps/")

    result = await rec.reconcile(obj)

    index = etag_index(s3_server, s3_bucket, ["apps/app.yaml", "apps/nested/deep.yaml"])
    lines = "".join(f"{k} {index[k]}\n" for k in sorted(index))
    revision = "sha256:" + hashlib.sha256(lines.encode()).hexdigest()
    assert revision == index_revision(index)
    artifact = obj["status"]["artifact"]
    assert artifact["revision"] == revision
    assert artifact["path"] == f"bucket/{namespace}/fleet/{revision[7:]}.tar.gz"
    assert obj["status"]["url"] == artifact["url"]
    assert result.message == f"stored artifact for revision '{revision}'"
    assert (conditions.get(obj, "ArtifactInStorage") or {}).get("status") == "True"
    assert files_of(storage, artifact, tmp_path / "a") == {
        "apps/app.yaml": "kind: ConfigMap\n",
        "apps/nested/deep.yaml": "kind: Secret\n",
    }

    # Nothing changed: the same artifact, not rebuilt.
    again = await rec.reconcile(obj)
    assert again.message == result.message
    assert obj["status"]["artifact"] == artifact

    # A changed object is a new revision.
    s3_server.put_object(s3_bucket, "apps/app.yaml", "kind: ConfigMap\ndata: {a: b}\n")
    await rec.reconcile(obj)
    changed = obj["status"]["artifact"]
    assert changed["revision"] != revision
    assert files_of(storage, changed, tmp_path / "b")["apps/app.yaml"].endswith("{a: b}\n")


async def test_empty_bucket_has_the_empty_digest(
    kube: ApiClient, namespace: str, s3_server: S3Server, s3_bucket: str, storage: Storage
) -> None:
    await put_secret(kube, namespace, "s3-keys", s3_server.credentials.secret_data())
    obj = bucket_obj(namespace, s3_bucket, s3_server.endpoint)
    await BucketReconciler(kube, storage).reconcile(obj)
    # the revision Flux's documentation shows for an empty bucket
    assert obj["status"]["artifact"]["revision"] == (
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


async def test_sourceignore_and_spec_ignore(
    kube: ApiClient,
    namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
    storage: Storage,
    tmp_path: Path,
) -> None:
    s3_server.put_objects(
        s3_bucket,
        {
            ".sourceignore": "*.md\ndocs/\n",
            "README.md": "read me\n",
            "docs/guide.yaml": "a: 1\n",
            "deploy/app.yaml": "b: 2\n",
            "deploy/notes.txt": "c\n",
            "deploy/keep.txt": "d\n",
            "logo.png": "png",  # no default exclusions for Buckets (source-controller's code)
        },
    )
    await put_secret(kube, namespace, "s3-keys", s3_server.credentials.secret_data())
    obj = bucket_obj(namespace, s3_bucket, s3_server.endpoint, ignore="*.txt\n!keep.txt\n")
    await BucketReconciler(kube, storage).reconcile(obj)

    artifact = obj["status"]["artifact"]
    assert set(files_of(storage, artifact, tmp_path / "x")) == {
        "deploy/app.yaml",
        "deploy/keep.txt",
        "logo.png",
    }
    index = etag_index(s3_server, s3_bucket, ["deploy/app.yaml", "deploy/keep.txt", "logo.png"])
    assert artifact["revision"] == index_revision(index)
    assert obj["status"]["observedIgnore"] == "*.txt\n!keep.txt\n"


async def test_credentials_errors_say_what_is_wrong(
    kube: ApiClient, namespace: str, s3_server: S3Server, s3_bucket: str, storage: Storage
) -> None:
    rec = BucketReconciler(kube, storage)
    wrong = S3Credentials(s3_server.credentials.access_key, "not-the-secret")
    await put_secret(kube, namespace, "s3-keys", wrong.secret_data())
    obj = bucket_obj(namespace, s3_bucket, s3_server.endpoint)
    with pytest.raises(ReconcileError) as failed:
        await rec.reconcile(obj)
    assert failed.value.reason == "BucketOperationFailed"
    assert f"failed to confirm existence of '{s3_bucket}' bucket" in failed.value.message
    assert "SignatureDoesNotMatch" in failed.value.message
    fetch = conditions.get(obj, "FetchFailed") or {}
    assert (fetch.get("status"), fetch.get("reason")) == ("True", "BucketOperationFailed")

    await put_secret(kube, namespace, "half-keys", {"accesskey": "only-one"})
    with pytest.raises(ReconcileError, match="required fields 'accesskey' and 'secretkey'") as bad:
        await rec.reconcile(
            bucket_obj(namespace, s3_bucket, s3_server.endpoint, secretRef={"name": "half-keys"})
        )
    assert bad.value.reason == "AuthenticationFailed"

    await put_secret(kube, namespace, "good-keys", s3_server.credentials.secret_data())
    with pytest.raises(ReconcileError, match="bucket 'no-such-bucket-x' not found"):
        await rec.reconcile(
            bucket_obj(
                namespace, "no-such-bucket-x", s3_server.endpoint, secretRef={"name": "good-keys"}
            )
        )

    with pytest.raises(ReconcileError, match="secret not found"):
        await rec.reconcile(
            bucket_obj(namespace, s3_bucket, s3_server.endpoint, secretRef={"name": "missing"})
        )


@pytest.fixture(scope="module")
def tls_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with S3Server(tmp_path_factory.mktemp("s3-tls"), tls=make_tls()) as server:
        yield server


async def test_tls_with_cert_secret_ref(
    kube: ApiClient, namespace: str, tls_s3: S3Server, storage: Storage, tmp_path: Path
) -> None:
    bucket = tls_s3.create_bucket()
    tls_s3.put_object(bucket, "app.yaml", "kind: ConfigMap\n")
    await put_secret(kube, namespace, "s3-keys", tls_s3.credentials.secret_data())
    rec = BucketReconciler(kube, storage)

    untrusted = bucket_obj(namespace, bucket, tls_s3.endpoint, insecure=False)
    with pytest.raises(ReconcileError, match="TLS") as refused:
        await rec.reconcile(untrusted)
    assert "spec.certSecretRef" in refused.value.message

    assert tls_s3.ca_pem is not None
    await put_secret(kube, namespace, "s3-ca", {"ca.crt": tls_s3.ca_pem.decode()})
    obj = bucket_obj(
        namespace, bucket, tls_s3.endpoint, insecure=False, certSecretRef={"name": "s3-ca"}
    )
    await rec.reconcile(obj)
    assert files_of(storage, obj["status"]["artifact"], tmp_path / "t") == {
        "app.yaml": "kind: ConfigMap\n"
    }

    await put_secret(kube, namespace, "s3-ca-empty", {"other": "x"})
    with pytest.raises(ReconcileError, match="does not contain any TLS configuration"):
        await rec.reconcile(
            bucket_obj(
                namespace,
                bucket,
                tls_s3.endpoint,
                insecure=False,
                certSecretRef={"name": "s3-ca-empty"},
            )
        )


async def test_bounds(
    kube: ApiClient, namespace: str, s3_server: S3Server, s3_bucket: str, storage: Storage
) -> None:
    s3_server.put_objects(s3_bucket, {f"f{i}.yaml": f"i: {i}\n" for i in range(3)})
    await put_secret(kube, namespace, "s3-keys", s3_server.credentials.secret_data())
    with pytest.raises(Stalled, match="3 objects to fetch, more than the 2"):
        await BucketReconciler(kube, storage, max_files=2).reconcile(
            bucket_obj(namespace, s3_bucket, s3_server.endpoint)
        )
    with pytest.raises(Stalled, match="add up to 15 bytes, more than the 10"):
        await BucketReconciler(kube, storage, max_size=10).reconcile(
            bucket_obj(namespace, s3_bucket, s3_server.endpoint)
        )
