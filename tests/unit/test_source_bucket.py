"""Bucket sources without a server: the revision (source-controller's etag index digest), which
keys may become paths, and the settings weir refuses with a reason."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from weir.runtime.result import Stalled
from weir.source.bucket import BucketReconciler, index_revision, safe_key_path
from weir.source.s3 import S3Settings
from weir.source.storage import Storage


def test_index_revision_is_sha256_of_sorted_key_etag_lines() -> None:
    index = {"b.yaml": "2", "a/x.yaml": "1", "ä.yaml": "3", "B.yaml": "0"}
    text = "B.yaml 0\na/x.yaml 1\nb.yaml 2\nä.yaml 3\n"  # byte order, as Go's sort.Strings
    assert index_revision(index) == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert index_revision({}) == (
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("a.yaml", "a.yaml"),
        ("apps/x/a.yaml", "apps/x/a.yaml"),
        ("apps//a.yaml", "apps/a.yaml"),
        ("apps/./a.yaml", "apps/a.yaml"),
        ("apps/../a.yaml", "a.yaml"),
        ("../a.yaml", None),
        ("apps/../../a.yaml", None),
        ("/etc/passwd", None),
        ("..", None),
        (".", None),
        ("", None),
        ("a\x00b", None),
    ],
)
def test_safe_key_path(key: str, path: str | None) -> None:
    assert safe_key_path(key) == path


def test_addressing_style() -> None:
    assert S3Settings("s3.amazonaws.com").virtual_host
    assert S3Settings("s3.eu-west-1.amazonaws.com:443").virtual_host
    assert not S3Settings("127.0.0.1:9000").virtual_host
    assert not S3Settings("minio.minio.svc.cluster.local:9000").virtual_host
    assert S3Settings("minio:9000", insecure=True).url == "http://minio:9000"
    assert S3Settings("minio:9000").url == "https://minio:9000"


@pytest.mark.parametrize(
    ("spec", "reason", "message"),
    [
        ({"provider": "gcp"}, "ProviderNotSupported", "provider 'gcp' is not supported"),
        ({"provider": "azure"}, "ProviderNotSupported", "provider 'azure' is not supported"),
        (
            {"provider": "aws", "secretRef": None},
            "ProviderNotSupported",
            "provider 'aws' without spec.secretRef",
        ),
        (
            {"sts": {"provider": "ldap", "endpoint": "https://ldap.example"}},
            "InvalidSTSConfiguration",
            "spec.sts",
        ),
        ({"endpoint": "http://s3.example"}, "InsecureConnectionsDisallowed", "spec.insecure"),
        ({"endpoint": "ftp://s3.example"}, "URLInvalid", "host"),
        ({"endpoint": "https://s3.example/path"}, "URLInvalid", "host"),
    ],
)
async def test_unsupported_settings_stall(
    tmp_path: Path, spec: dict[str, Any], reason: str, message: str
) -> None:
    base: dict[str, Any] = {
        "interval": "1m",
        "bucketName": "b",
        "endpoint": "s3.example",
        "secretRef": {"name": "keys"},
    }
    base.update(spec)
    obj = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "Bucket",
        "metadata": {"name": "x", "namespace": "apps", "generation": 1},
        "spec": {k: v for k, v in base.items() if v is not None},
        "status": {},
    }
    rec = BucketReconciler(None, Storage(tmp_path, "storage.invalid"))  # type: ignore[arg-type]
    with pytest.raises(Stalled, match=message) as stalled:
        await rec.reconcile(obj)
    assert stalled.value.reason == reason
