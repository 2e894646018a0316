"""weir.oci: references, tag selection, revisions, credentials and auth challenges."""

from __future__ import annotations

import base64
import json

import pytest

from weir.oci.auth import (
    Credentials,
    credentials_from_dockerconfig,
    credentials_from_secret,
    parse_challenge,
)
from weir.oci.errors import OCIAuthError, OCINotFoundError, OCIReferenceError
from weir.oci.reference import Reference, parse_reference, parse_url, revision, select_tag


def test_parse_url() -> None:
    ref = parse_url("oci://ghcr.io/stefanprodan/manifests/podinfo")
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        "ghcr.io",
        "stefanprodan/manifests/podinfo",
        None,
        None,
    )
    assert parse_url("oci://127.0.0.1:5000/a/b/").name == "127.0.0.1:5000/a/b"
    assert parse_url("oci://docker.io/nginx").repository == "library/nginx"
    assert parse_url("oci://docker.io/nginx").api_host == "registry-1.docker.io"
    for bad in (
        "https://ghcr.io/x",
        "oci://ghcr.io",
        "oci://ghcr.io/x:1.0",
        "oci://nohost/x",
        "oci://ghcr.io/UPPER",
        "oci://ghcr.io/x@sha256:ab",
    ):
        with pytest.raises(OCIReferenceError):
            parse_url(bad)


def test_parse_reference() -> None:
    ref = parse_reference("oci://localhost:5000/charts/podinfo:6.5.3")
    assert (ref.registry, ref.repository, ref.tag) == ("localhost:5000", "charts/podinfo", "6.5.3")
    digest = "sha256:" + "a" * 64
    ref = parse_reference(f"ghcr.io/x/y:v1@{digest}")
    assert (ref.tag, ref.digest, ref.ref) == ("v1", digest, digest)
    assert str(ref) == f"ghcr.io/x/y:v1@{digest}"
    with pytest.raises(OCIReferenceError, match="neither a tag nor a digest"):
        _ = Reference("ghcr.io", "x").ref
    with pytest.raises(OCIReferenceError, match="not a digest"):
        parse_reference("ghcr.io/x@nodigest")


def test_select_tag_semver_filter_and_underscores() -> None:
    tags = ["latest", "1.0.0", "1.2.0", "1.10.0-rc.1", "2.0.0", "1.3.0_build.7", "v1.4.0-dev"]
    assert select_tag(tags, ">=1.0.0 <2.0.0") == "1.3.0_build.7"
    assert select_tag(tags, ">=1.0.0-0 <2.0.0") == "1.3.0_build.7"  # "<2.0.0" refuses pre-releases
    assert select_tag(tags, ">=1.0.0-0 <2.0.0-0") == "1.10.0-rc.1"
    assert select_tag(tags, "*") == "2.0.0"
    assert select_tag(tags, ">=1.0.0-0", ".*-dev$") == "v1.4.0-dev"
    with pytest.raises(OCINotFoundError, match="no tag matches"):
        select_tag(tags, ">=3.0.0")
    with pytest.raises(OCIReferenceError):
        select_tag(tags, "not a range")
    with pytest.raises(OCIReferenceError, match="semverFilter"):
        select_tag(tags, "*", "(")


def test_revision() -> None:
    assert revision("latest", "sha256:abc") == "latest@sha256:abc"
    assert revision(None, "sha256:abc") == "sha256:abc"


def test_dockerconfig_credentials() -> None:
    auth = base64.b64encode(b"alice:pa:ss").decode()
    doc = json.dumps(
        {
            "auths": {
                "https://ghcr.io": {"auth": auth},
                "index.docker.io": {"username": "u", "password": "p"},
            }
        }
    )
    creds = credentials_from_dockerconfig(doc, "ghcr.io")
    assert creds == Credentials("alice", "pa:ss")
    assert "pa:ss" not in repr(creds)
    assert credentials_from_dockerconfig(doc, "docker.io") == Credentials("u", "p")
    assert credentials_from_dockerconfig(doc, "quay.io") is None
    with pytest.raises(OCIAuthError, match="not JSON"):
        credentials_from_dockerconfig("{", "x")
    assert credentials_from_secret({"username": b"a", "password": b"b"}, "x") == Credentials(
        "a", "b"
    )
    assert credentials_from_secret({".dockerconfigjson": doc.encode()}, "ghcr.io") == creds
    assert credentials_from_secret({}, "x") is None
    assert Credentials("a", "b").basic_header() == "Basic " + base64.b64encode(b"a:b").decode()


def test_parse_challenge() -> None:
    challenge = parse_challenge(
        'Bearer realm="https://auth.example/token",service="registry.example",'
        'scope="repository:a/b:pull,push"'
    )
    assert challenge is not None
    assert challenge.scheme == "bearer"
    assert challenge.params == {
        "realm": "https://auth.example/token",
        "service": "registry.example",
        "scope": "repository:a/b:pull,push",
    }
    basic = parse_challenge('Basic realm="Registry Realm"')
    assert basic is not None
    assert basic.scheme == "basic"
    assert parse_challenge("") is None
