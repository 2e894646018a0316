"""Flux revision strings, GitRef precedence and commit parsing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from weir.api.source import GitRepositoryRef
from weir.source.errors import InvalidRefError
from weir.source.git import parse_commit
from weir.source.revision import (
    GitRef,
    format_revision,
    hash_digest,
    revision_hash,
    short_ref,
)

SHA = "450796ddb2ab6724ee1cc32a4be56da032d1cca0"


@pytest.mark.parametrize(
    ("reference", "absolute", "expected"),
    [
        ("refs/heads/main", False, f"main@sha1:{SHA}"),
        ("refs/heads/feature/x", False, f"feature/x@sha1:{SHA}"),
        ("refs/tags/v1.0.0", False, f"v1.0.0@sha1:{SHA}"),
        ("refs/heads/main", True, f"refs/heads/main@sha1:{SHA}"),
        ("refs/pull/420/head", True, f"refs/pull/420/head@sha1:{SHA}"),
        ("", False, f"sha1:{SHA}"),
        ("", True, f"sha1:{SHA}"),
    ],
)
def test_format_revision(reference: str, absolute: bool, expected: str) -> None:
    assert format_revision(reference, SHA, absolute=absolute) == expected


def test_sha256_and_bad_hashes() -> None:
    assert hash_digest("a" * 64) == "sha256:" + "a" * 64
    with pytest.raises(ValueError, match="full git object id"):
        hash_digest("abc")


def test_short_ref_and_revision_hash() -> None:
    assert short_ref("refs/heads/a/b") == "a/b"
    assert short_ref("HEAD") == "HEAD"
    assert revision_hash(f"main@sha1:{SHA}") == SHA
    assert revision_hash(f"sha1:{SHA}") == SHA
    assert revision_hash(f"main/{SHA}") == SHA  # legacy format


@pytest.mark.parametrize(
    ("ref", "kind"),
    [
        (GitRef(), "branch"),
        (GitRef(branch="dev"), "branch"),
        (GitRef(branch="dev", tag="v1"), "tag"),
        (GitRef(tag="v1", semver="^1"), "semver"),
        (GitRef(semver="^1", name="refs/heads/x"), "name"),
        (GitRef(name="refs/heads/x", commit=SHA, branch="dev"), "commit"),
    ],
)
def test_precedence(ref: GitRef, kind: str) -> None:
    assert ref.kind == kind


def test_from_spec_accepts_dicts_models_and_none() -> None:
    assert GitRef.from_spec(None) == GitRef()
    assert GitRef.from_spec({"branch": "main", "tag": ""}) == GitRef(branch="main")
    model = GitRepositoryRef(semver=">=1.0.0")
    assert GitRef.from_spec(model) == GitRef(semver=">=1.0.0")
    assert GitRef().effective_branch == "master"
    assert str(GitRef()) == "branch 'master'"
    assert str(GitRef(commit=SHA, branch="x")) == f"commit '{SHA}' on branch 'x'"


@pytest.mark.parametrize(
    "ref",
    [GitRef(commit="abc123"), GitRef(commit=SHA.upper()), GitRef(name="heads/main")],
)
def test_validate_rejects_malformed_refs(ref: GitRef) -> None:
    with pytest.raises(InvalidRefError):
        ref.validate()


def test_parse_commit_splits_signature_from_encoded_body() -> None:
    raw = (
        b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
        b"author A U Thor <a@example.com> 1700000000 +0200\n"
        b"committer C O Mitter <c@example.com> 1700000100 -0130\n"
        b"gpgsig -----BEGIN PGP SIGNATURE-----\n"
        b" \n"
        b" abcdef\n"
        b" -----END PGP SIGNATURE-----\n"
        b"\n"
        b"Subject line that is rather long and goes on beyond fifty characters\n\nbody\n"
    )
    c = parse_commit(raw, SHA, "refs/heads/main", f"main@sha1:{SHA}")
    assert c.author is not None
    assert c.author.name == "A U Thor"
    assert c.author.when.utcoffset() == timedelta(hours=2)
    assert c.committer is not None
    assert c.committer.when.utcoffset() == -timedelta(hours=1, minutes=30)
    assert c.signature.startswith("-----BEGIN PGP SIGNATURE-----\n\nabcdef\n")
    assert b"gpgsig" not in c.encoded
    assert c.encoded.endswith(
        b"\n\nSubject line that is rather long and goes on beyond fifty characters\n\nbody\n"
    )
    assert c.short_message == "Subject line that is rather long and goes on beyon..."
