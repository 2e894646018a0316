"""The S3 fixture against the real versitygw: buckets, objects, prefixes, SigV4 enforced, TLS."""

from __future__ import annotations

import ssl

import httpx
import pytest
from botocore.exceptions import ClientError

from weir.testing.certs import make_tls
from weir.testing.s3 import S3Credentials, S3Server


def test_bucket_objects_and_prefix_listing(s3_server: S3Server, s3_bucket: str) -> None:
    etags = s3_server.put_objects(
        s3_bucket,
        {
            "apps/app.yaml": "kind: ConfigMap\n",
            "apps/nested/deep.yaml": "kind: Secret\n",
            "infra/crds.yaml": b"kind: CustomResourceDefinition\n",
        },
    )

    assert s3_server.list_keys(s3_bucket) == [
        "apps/app.yaml",
        "apps/nested/deep.yaml",
        "infra/crds.yaml",
    ]
    assert s3_server.list_keys(s3_bucket, "apps/") == ["apps/app.yaml", "apps/nested/deep.yaml"]
    assert s3_server.get_object(s3_bucket, "infra/crds.yaml") == b"kind: CustomResourceDefinition\n"
    head = s3_server.client().head_object(Bucket=s3_bucket, Key="apps/app.yaml")
    assert head["ETag"].strip('"') == etags["apps/app.yaml"]

    s3_server.delete_object(s3_bucket, "apps/app.yaml")
    assert s3_server.list_keys(s3_bucket, "apps/") == ["apps/nested/deep.yaml"]
    names = [b["Name"] for b in s3_server.client().list_buckets()["Buckets"]]
    assert s3_bucket in names


def test_unsigned_and_wrongly_signed_requests_are_refused(
    s3_server: S3Server, s3_bucket: str
) -> None:
    s3_server.put_object(s3_bucket, "a.yaml", "a: 1\n")

    assert httpx.get(f"{s3_server.url}/{s3_bucket}/a.yaml").status_code == 403
    assert httpx.get(f"{s3_server.url}/{s3_bucket}").status_code == 403

    wrong = S3Credentials(s3_server.credentials.access_key, "not-the-secret")
    with pytest.raises(ClientError) as refused:
        s3_server.client(wrong).get_object(Bucket=s3_bucket, Key="a.yaml")
    assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"

    unknown = S3Credentials("nobody", "nothing-at-all")
    with pytest.raises(ClientError) as refused:
        s3_server.client(unknown).list_objects_v2(Bucket=s3_bucket)
    # AWS answers 403 InvalidAccessKeyId; versitygw answers 404 XAdminUserNotFound.
    assert refused.value.response["Error"]["Code"] in ("InvalidAccessKeyId", "XAdminUserNotFound")


def test_tls(tmp_path_factory: pytest.TempPathFactory) -> None:
    tls = make_tls()
    with S3Server(tmp_path_factory.mktemp("s3-tls"), tls=tls) as server:
        assert server.url.startswith("https://127.0.0.1:")
        bucket = server.create_bucket()
        server.put_object(bucket, "x.yaml", "x: 1\n")
        assert server.list_keys(bucket) == ["x.yaml"]

        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{server.url}/{bucket}")  # the system trust store does not know our CA
        trusting = ssl.create_default_context(cadata=tls.ca_pem.decode())
        assert httpx.get(f"{server.url}/{bucket}", verify=trusting).status_code == 403
