"""The git client against real Git servers on loopback (git http-backend, asyncssh)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from weir.source.errors import (
    EmptyRepositoryError,
    GitAuthError,
    GitError,
    GitNetworkError,
    GitNotFoundError,
    GitTimeoutError,
    HostKeyError,
    InvalidAuthError,
    InvalidRefError,
)
from weir.source.git import checkout, resolve_remote
from weir.source.gitauth import GitAuth
from weir.source.revision import GitRef
from weir.testing.certs import SSHKeyPair, make_ssh_keypair, make_tls
from weir.testing.gitrepo import GITLINK, SYMLINK, GitRepoFixture
from weir.testing.gitserver import GitHttpServer
from weir.testing.gitssh import GitSshServer


def git_out(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, check=True, text=True
    ).stdout.strip()


# ------------------------------------------------------------------------------ refs
async def test_ls_remote_no_op_downloads_nothing(
    git_server: GitHttpServer, git_repo: GitRepoFixture, tmp_path: Path
) -> None:
    sha = git_repo.commit({"app.yaml": "a: 1\n"}, "first")
    first = await resolve_remote(git_repo.url, GitRef())
    second = await resolve_remote(git_repo.url, GitRef())
    assert first == second
    assert first.revision == f"master@sha1:{sha}"
    assert git_server.fetches(git_repo.name) == 0  # only ls-refs, no object negotiation
    commit = await checkout(git_repo.url, GitRef(), None, tmp_path / "co", remote=first)
    assert commit.revision == first.revision
    fetches = git_server.fetches(git_repo.name)
    assert fetches >= 1
    # unchanged upstream: the next check is a single ls-refs again
    assert (await resolve_remote(git_repo.url, GitRef())).revision == first.revision
    assert git_server.fetches(git_repo.name) == fetches
    # a new commit is seen
    new = git_repo.commit({"app.yaml": "a: 2\n"}, "second")
    assert (await resolve_remote(git_repo.url, GitRef())).hash == new


async def test_branch_tag_semver_name_and_commit_refs(
    git_repo: GitRepoFixture, tmp_path: Path
) -> None:
    c1 = git_repo.commit({"v.txt": "1"}, "one", branch="main")
    git_repo.tag("v1.0.0", "main", annotated=True)
    c2 = git_repo.commit({"v.txt": "2"}, "two", branch="main")
    git_repo.tag("v1.1.0", "main")
    git_repo.tag("v2.0.0-rc.1", "main")
    c3 = git_repo.commit({"v.txt": "3"}, "three", branch="main")
    git_repo.set_ref("refs/pull/7/head", c2)
    git_repo.branch("feature/x", c1)

    cases: list[tuple[GitRef, str, str]] = [
        (GitRef(branch="main"), f"main@sha1:{c3}", "3"),
        (GitRef(branch="feature/x"), f"feature/x@sha1:{c1}", "1"),
        (GitRef(tag="v1.0.0"), f"v1.0.0@sha1:{c1}", "1"),  # annotated: peeled to the commit
        (GitRef(tag="v1.1.0", branch="main"), f"v1.1.0@sha1:{c2}", "2"),
        (GitRef(semver=">=1.0.0 <2.0.0"), f"v1.1.0@sha1:{c2}", "2"),
        (GitRef(semver="~1.0"), f"v1.0.0@sha1:{c1}", "1"),
        (GitRef(semver=">=2.0.0-0"), f"v2.0.0-rc.1@sha1:{c2}", "2"),
        (GitRef(name="refs/pull/7/head"), f"refs/pull/7/head@sha1:{c2}", "2"),
        (GitRef(name="refs/tags/v1.0.0"), f"refs/tags/v1.0.0@sha1:{c1}", "1"),
        (GitRef(name="refs/heads/main", tag="v1.0.0"), f"refs/heads/main@sha1:{c3}", "3"),
        (GitRef(commit=c2), f"sha1:{c2}", "2"),
        (GitRef(commit=c1, branch="main"), f"main@sha1:{c1}", "1"),
    ]
    for i, (ref, revision, content) in enumerate(cases):
        remote = await resolve_remote(git_repo.url, ref)
        assert remote.revision == revision, ref
        commit = await checkout(git_repo.url, ref, None, tmp_path / f"co{i}")
        assert commit.revision == revision, ref
        assert (tmp_path / f"co{i}" / "v.txt").read_text() == content, ref


async def test_default_branch_is_master(git_server: GitHttpServer, tmp_path: Path) -> None:
    repo = git_server.create_repo("only-main.git", default_branch="main")
    repo.commit({"a": "a"})
    with pytest.raises(GitNotFoundError, match="default branch 'master'"):
        await resolve_remote(repo.url, None)


async def test_not_found_and_empty(git_server: GitHttpServer, git_repo: GitRepoFixture) -> None:
    with pytest.raises(EmptyRepositoryError, match="is empty"):
        await resolve_remote(git_repo.url, GitRef())
    git_repo.commit({"a": "a"})
    with pytest.raises(GitNotFoundError, match="branch 'nope' not found"):
        await resolve_remote(git_repo.url, GitRef(branch="nope"))
    with pytest.raises(GitNotFoundError, match="tag 'v9' not found"):
        await resolve_remote(git_repo.url, GitRef(tag="v9"))
    with pytest.raises(GitNotFoundError, match=r"no tag .* matches semver range"):
        await resolve_remote(git_repo.url, GitRef(semver=">=1.0.0"))
    with pytest.raises(GitNotFoundError, match="not found"):
        await resolve_remote(git_server.url("missing.git"), GitRef())
    with pytest.raises(InvalidRefError, match="invalid semver range"):
        await resolve_remote(git_repo.url, GitRef(semver="not a range"))
    with pytest.raises(InvalidRefError, match="full commit sha"):
        await resolve_remote(git_repo.url, GitRef(commit="abc"))
    with pytest.raises(InvalidRefError, match="not a valid git reference"):
        await resolve_remote(git_repo.url, GitRef(branch="--upload-pack=evil"))


async def test_missing_commit(git_repo: GitRepoFixture, tmp_path: Path) -> None:
    git_repo.commit({"a": "a"})
    with pytest.raises(GitNotFoundError, match="not our ref"):
        await checkout(git_repo.url, GitRef(commit="0" * 40), None, tmp_path / "co")


async def test_shallow_depth_one_and_full_history(git_repo: GitRepoFixture, tmp_path: Path) -> None:
    for i in range(3):
        git_repo.commit({"n": str(i)}, f"c{i}")
    await checkout(git_repo.url, GitRef(), None, tmp_path / "shallow")
    assert git_out(tmp_path / "shallow", "rev-parse", "--is-shallow-repository") == "true"
    assert git_out(tmp_path / "shallow", "rev-list", "--count", "HEAD") == "1"
    await checkout(git_repo.url, GitRef(), None, tmp_path / "full", depth=0)
    assert git_out(tmp_path / "full", "rev-list", "--count", "HEAD") == "3"
    # the remote URL is not stored in the checkout
    assert "remote" not in (tmp_path / "shallow" / ".git" / "config").read_text()


async def test_commit_metadata(git_repo: GitRepoFixture, tmp_path: Path) -> None:
    sha = git_repo.commit({"a": "a"}, "Add the app\n\nLonger body.")
    commit = await checkout(git_repo.url, GitRef(), None, tmp_path / "co")
    assert commit.hash == sha
    assert commit.reference == "refs/heads/master"
    assert commit.short_message == "Add the app"
    assert commit.author is not None
    assert commit.author.email == "test@weir.invalid"
    assert commit.signature == ""


async def test_checkout_into_non_empty_dir_fails(git_repo: GitRepoFixture, tmp_path: Path) -> None:
    git_repo.commit({"a": "a"})
    (tmp_path / "co").mkdir()
    (tmp_path / "co" / "x").write_text("x")
    with pytest.raises(GitError, match="not empty"):
        await checkout(git_repo.url, GitRef(), None, tmp_path / "co")


async def test_sparse_checkout(git_repo: GitRepoFixture, tmp_path: Path) -> None:
    git_repo.commit({"apps/a.yaml": "a", "infra/b.yaml": "b", "root.yaml": "r"})
    await checkout(git_repo.url, GitRef(), None, tmp_path / "co", sparse_checkout=["./apps"])
    assert (tmp_path / "co" / "apps" / "a.yaml").exists()
    assert not (tmp_path / "co" / "infra").exists()


async def test_submodules(
    git_server: GitHttpServer, git_repo: GitRepoFixture, tmp_path: Path
) -> None:
    sub = git_server.create_repo(f"sub-{git_repo.name}")
    sub_sha = sub.commit({"lib.yaml": "lib"})
    gitmodules = f'[submodule "lib"]\n\tpath = lib\n\turl = {sub.url}\n'
    git_repo.commit(
        {".gitmodules": gitmodules, "lib": sub_sha, "main.yaml": "m"}, modes={"lib": GITLINK}
    )
    await checkout(git_repo.url, GitRef(), None, tmp_path / "plain")
    assert not (tmp_path / "plain" / "lib" / "lib.yaml").exists()
    await checkout(git_repo.url, GitRef(), None, tmp_path / "co", recurse_submodules=True)
    assert (tmp_path / "co" / "lib" / "lib.yaml").read_text() == "lib"


async def test_push_through_the_http_server(git_repo: GitRepoFixture, tmp_path: Path) -> None:
    git_repo.commit({"a": "a"})
    work = tmp_path / "work"
    git_out(tmp_path, "clone", "-q", git_repo.url, str(work))
    (work / "b").write_text("b")
    git_out(work, "add", "b")
    git_out(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "b")
    git_out(work, "push", "-q", "origin", "HEAD:master")
    assert git_repo.rev("master") == git_out(work, "rev-parse", "HEAD")


# ------------------------------------------------------------------------ HTTP(S) auth
@pytest.fixture(scope="module")
def basic_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHttpServer]:
    root = tmp_path_factory.mktemp("basic")
    with GitHttpServer(root, basic_auth=("bob", "hunter2-secret")) as server:
        server.create_repo("app.git").commit({"a": "basic"})
        yield server


@pytest.fixture(scope="module")
def bearer_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHttpServer]:
    root = tmp_path_factory.mktemp("bearer")
    with GitHttpServer(root, bearer_token="tok-abcdef") as server:
        server.create_repo("app.git").commit({"a": "bearer"})
        yield server


@pytest.fixture
def recorded_argv(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Every argv the git client starts (to prove that no secret is in it)."""
    seen: list[tuple[str, ...]] = []
    real = asyncio.create_subprocess_exec

    async def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(tuple(str(a) for a in args))
        return await real(*args, **kwargs)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)
    return seen


async def test_basic_auth(
    basic_server: GitHttpServer, tmp_path: Path, recorded_argv: list[tuple[str, ...]]
) -> None:
    url = basic_server.url("app.git")
    good = GitAuth.from_secret_data({"username": "bob", "password": "hunter2-secret"}, url)
    commit = await checkout(url, GitRef(), good, tmp_path / "co")
    assert (tmp_path / "co" / "a").read_text() == "basic"
    assert commit.revision.startswith("master@sha1:")
    bad = GitAuth.from_secret_data({"username": "bob", "password": "wrong-password"}, url)
    with pytest.raises(GitAuthError, match="credentials") as info:
        await resolve_remote(url, GitRef(), bad)
    assert "wrong-password" not in str(info.value)
    assert info.value.reason == "AuthenticationFailed"
    with pytest.raises(GitAuthError):
        await resolve_remote(url, GitRef(), None)
    # credentials in the URL work too, and never reach argv
    userinfo = url.replace("http://", "http://bob:hunter2-secret@")
    assert (await resolve_remote(userinfo, GitRef())).hash == commit.hash
    flat = " ".join(" ".join(a) for a in recorded_argv)
    assert "hunter2" not in flat
    assert "wrong-password" not in flat


async def test_bearer_auth(bearer_server: GitHttpServer, tmp_path: Path) -> None:
    url = bearer_server.url("app.git")
    good = GitAuth.from_secret_data({"bearerToken": "tok-abcdef"}, url)
    await checkout(url, GitRef(), good, tmp_path / "co")
    assert (tmp_path / "co" / "a").read_text() == "bearer"
    bad = GitAuth.from_secret_data({"bearerToken": "tok-wrong"}, url)
    with pytest.raises(GitAuthError) as info:
        await resolve_remote(url, GitRef(), bad)
    assert "tok-wrong" not in str(info.value)


async def test_https_with_custom_ca(tmp_path: Path) -> None:
    tls = make_tls()
    with GitHttpServer(tmp_path / "srv", tls=tls, basic_auth=("u", "p-secret")) as server:
        repo = server.create_repo("app.git")
        sha = repo.commit({"a": "tls"})
        url = repo.url
        assert url.startswith("https://127.0.0.1:")
        auth = GitAuth.from_secret_data(
            {"username": "u", "password": "p-secret", "ca.crt": tls.ca_pem}, url
        )
        assert (await resolve_remote(url, GitRef(), auth)).hash == sha
        await checkout(url, GitRef(), auth, tmp_path / "co")
        assert (tmp_path / "co" / "a").read_text() == "tls"
        no_ca = GitAuth.from_secret_data({"username": "u", "password": "p-secret"}, url)
        with pytest.raises(GitNetworkError, match=r"ca\.crt"):
            await resolve_remote(url, GitRef(), no_ca)
        other_ca = GitAuth.from_secret_data(
            {"username": "u", "password": "p-secret", "ca.crt": make_tls().ca_pem}, url
        )
        with pytest.raises(GitNetworkError):
            await resolve_remote(url, GitRef(), other_ca)


# ---------------------------------------------------------------------------------- SSH
@pytest.fixture(scope="module")
def ssh_keys() -> SSHKeyPair:
    return make_ssh_keypair()


@pytest.fixture(scope="module")
def ssh_server(
    tmp_path_factory: pytest.TempPathFactory, ssh_keys: SSHKeyPair
) -> Iterator[GitSshServer]:
    root = tmp_path_factory.mktemp("ssh")
    with GitSshServer(root, authorized_keys=[ssh_keys.public_openssh]) as server:
        GitRepoFixture.create(root / "app.git").commit({"a": "ssh"})
        yield server


async def test_ssh_with_known_host_key(
    ssh_server: GitSshServer, ssh_keys: SSHKeyPair, tmp_path: Path
) -> None:
    url = ssh_server.url("app.git")
    auth = GitAuth.from_secret_data(
        {"identity": ssh_keys.private_openssh, "known_hosts": ssh_server.known_hosts}, url
    )
    remote = await resolve_remote(url, GitRef(), auth)
    commit = await checkout(url, GitRef(), auth, tmp_path / "co", remote=remote)
    assert commit.hash == remote.hash
    assert (tmp_path / "co" / "a").read_text() == "ssh"
    assert git_out(tmp_path / "co", "rev-parse", "--is-shallow-repository") == "true"


async def test_ssh_wrong_host_key_is_refused(
    ssh_server: GitSshServer, ssh_keys: SSHKeyPair, tmp_path: Path
) -> None:
    url = ssh_server.url("app.git")
    impostor = make_ssh_keypair().public_openssh  # a different host key for the same address
    known_hosts = f"[127.0.0.1]:{ssh_server.port} {impostor}\n"
    auth = GitAuth.from_secret_data(
        {"identity": ssh_keys.private_openssh, "known_hosts": known_hosts}, url
    )
    with pytest.raises(HostKeyError, match="known_hosts"):
        await resolve_remote(url, GitRef(), auth)
    unknown = GitAuth.from_secret_data(
        {"identity": ssh_keys.private_openssh, "known_hosts": f"[127.0.0.2]:1 {impostor}\n"}, url
    )
    with pytest.raises(HostKeyError):
        await checkout(url, GitRef(), unknown, tmp_path / "co")


async def test_ssh_unauthorised_key_and_missing_secret(ssh_server: GitSshServer) -> None:
    url = ssh_server.url("app.git")
    stranger = GitAuth.from_secret_data(
        {"identity": make_ssh_keypair().private_openssh, "known_hosts": ssh_server.known_hosts},
        url,
    )
    with pytest.raises(GitAuthError, match="Permission denied"):
        await resolve_remote(url, GitRef(), stranger)
    with pytest.raises(InvalidAuthError):
        await resolve_remote(url, GitRef(), None)


async def test_ssh_missing_repository(ssh_server: GitSshServer, ssh_keys: SSHKeyPair) -> None:
    url = ssh_server.url("missing.git")
    auth = GitAuth.from_secret_data(
        {"identity": ssh_keys.private_openssh, "known_hosts": ssh_server.known_hosts}, url
    )
    with pytest.raises(GitNotFoundError, match="does not appear to be a git repository"):
        await resolve_remote(url, GitRef(), auth)


# ------------------------------------------------------------------------- network
async def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(GitNetworkError, match="reachable"):
        await resolve_remote(f"http://127.0.0.1:{port}/x.git", GitRef())


async def test_timeout_kills_git() -> None:
    hung: list[asyncio.StreamWriter] = []

    async def never_answer(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        hung.append(w)

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(GitTimeoutError, match="did not finish within 1s"):
            await resolve_remote(f"http://127.0.0.1:{port}/x.git", GitRef(), timeout=1)
        assert loop.time() - start < 10
    finally:
        for w in hung:
            w.close()
        server.close()
        await server.wait_closed()


# ------------------------------------------------------------------------- kept clones
def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): (
            "link:" + str(p.readlink())
            if p.is_symlink()
            else "dir"
            if p.is_dir()
            else p.read_text()
        )
        for p in sorted(root.rglob("*"))
        if ".git" not in p.relative_to(root).parts
    }


async def test_an_updated_checkout_equals_a_new_one(
    git_server: GitHttpServer, git_repo: GitRepoFixture, tmp_path: Path
) -> None:
    big = {f"app{k}/cm.yaml": f"v1 {k}\n" for k in range(30)}
    git_repo.commit({**big, "a": "1", "b/c": "c", "l": "a"}, "v1", modes={"l": SYMLINK})
    kept = tmp_path / "kept"
    await checkout(git_repo.url, GitRef(), None, kept, update=True)
    # whatever happened to the work tree since is undone
    (kept / "stray").write_text("not in the commit")
    (kept / "app3" / "cm.yaml").write_text("edited")
    before = len(git_server.requests)
    sha2 = git_repo.commit({"a": "2", "b/c": None, "d/e": "e", "l": None}, "v2")
    commit = await checkout(git_repo.url, GitRef(), None, kept, update=True)
    assert commit.hash == sha2
    fresh = tmp_path / "fresh"
    await checkout(git_repo.url, GitRef(), None, fresh)
    assert _tree(kept) == _tree(fresh)
    assert "stray" not in _tree(kept)
    assert git_out(kept, "rev-parse", "HEAD") == sha2
    # the update fetched only what the clone lacked: a far smaller pack than the new checkout's
    packs = [r.response_bytes for r in git_server.requests[before:] if r.command == "fetch"]
    assert len(packs) == 2, packs
    assert packs[0] < packs[1] / 2, packs
    # a history rewritten on the remote (a commit unrelated to the clone's) still checks out
    sha3 = git_repo.commit({"only": "x"}, "rewritten", replace=True)
    assert (await checkout(git_repo.url, GitRef(), None, kept, update=True)).hash == sha3
    assert _tree(kept) == {"only": "x"}
