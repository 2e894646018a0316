"""OpenPGP verification of Git commits and tags (weir.source.verify), with keys made by GnuPG
and history signed by git, fetched from the loopback Git server (no API server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from weir.source.git import checkout
from weir.source.revision import GitRef
from weir.source.verify import VerificationError, split_tag, verify_signature
from weir.testing.gitrepo import GitRepoFixture
from weir.testing.gpg import GpgKey


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[GpgKey, GpgKey]:
    root = tmp_path_factory.mktemp("gpg")
    return (
        GpgKey.generate(root / "ops", "Fleet Ops <ops@weir.invalid>"),
        GpgKey.generate(root / "other", "Someone Else <else@weir.invalid>"),
    )


async def test_signed_commit_and_tag(
    git_repo: GitRepoFixture, tmp_path: Path, keys: tuple[GpgKey, GpgKey]
) -> None:
    ops, other = keys
    git_repo.sign_with(ops)
    sha = git_repo.commit({"a.yaml": "kind: ConfigMap\n"}, "signed")
    git_repo.tag("v1.0.0", annotated=True)
    commit = await checkout(
        git_repo.url, GitRef(tag="v1.0.0"), None, tmp_path / "c", tag_object=True
    )
    assert commit.hash == sha
    good = await verify_signature(commit.encoded, commit.signature, [ops.public], what="commit")
    assert good.key == ops.fingerprint
    payload, signature = split_tag(commit.tag_object, "v1.0.0")
    tagged = await verify_signature(payload, signature, [ops.public], what="tag 'v1.0.0'")
    assert tagged.key == ops.fingerprint

    # Someone else's key alone: refused, and the message says which key signed.
    with pytest.raises(VerificationError, match=f"signed with key .*{ops.fingerprint[-16:]}"):
        await verify_signature(commit.encoded, commit.signature, [other.public], what="commit")
    # A changed payload: the signature does not match.
    with pytest.raises(VerificationError, match="does not match the content"):
        await verify_signature(
            commit.encoded.replace(b"signed", b"forged"),
            commit.signature,
            [other.public, ops.public],
            what="commit",
        )


async def test_unsigned_and_lightweight(
    git_repo: GitRepoFixture, tmp_path: Path, keys: tuple[GpgKey, GpgKey]
) -> None:
    ops, _ = keys
    git_repo.commit({"a.yaml": "kind: ConfigMap\n"}, "not signed")
    git_repo.tag("light")
    commit = await checkout(
        git_repo.url, GitRef(tag="light"), None, tmp_path / "c", tag_object=True
    )
    with pytest.raises(VerificationError, match="commit 'x' is not signed"):
        await verify_signature(commit.encoded, commit.signature, [ops.public], what="commit 'x'")
    assert commit.tag_object == b""
    with pytest.raises(VerificationError, match="'light' is a lightweight tag"):
        split_tag(commit.tag_object, "light")
    with pytest.raises(VerificationError, match="cannot be imported"):
        await verify_signature(b"x", "-----BEGIN PGP SIGNATURE-----\n", ["junk"], what="c")
