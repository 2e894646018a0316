"""Attacks through repository content and artifacts. Each test is one attack that must fail:

- Git content with symlinks to the controller's files (``/etc/passwd``, ``../../..``, a
  directory link), through the real checkout and archive of a GitRepository: nothing of the
  host reaches the artifact;
- crafted tarballs given to a consumer: ``..`` and absolute names, symlinks out (directly,
  chained, redirected late, written through), hard links out, to absolute paths or to
  symlinks, device files and FIFOs, duplicates, a decompression bomb, too many entries -- each
  refused with nothing written outside the destination;
- the artifact server asked for ``..``, encoded ``..``, ``//etc/passwd``, a hidden lock file, a
  symlink planted in the storage, a directory listing: 404;
- a consumer led to read the controller's files through a forged ``status.artifact.url`` of its
  own storage address (``..``, encoded ``..``, hidden files, symlinks): refused, downloaded
  instead of read;
- an include of a GitRepository copied to ``../..``: refused;
- a ``.sourceignore`` glob that backtracks exponentially (``*a*a*a...b``) on a long file name:
  the artifact is still made (it once stalled the source controller);
- YAML bombs in a values ConfigMap, a chart index or a manifest: an anchor holding an alias of
  itself (a cyclic object), a billion laughs (10^9 nodes from 1 KB): refused, as go-yaml does;
- a chart that fails to package: the message names no host path of the controller.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import tarfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import yaml

from weir import yamlio
from weir.artifact.errors import UnsafeArchiveError
from weir.artifact.local import LocalArtifacts
from weir.artifact.tarball import extract, extract_tree
from weir.helmengine.errors import ChartError, ValuesError
from weir.helmengine.sdk import SdkEngine
from weir.helmengine.values import read_values
from weir.runtime.result import Stalled
from weir.source.git import checkout, resolve_remote
from weir.source.gitrepository import _inside
from weir.source.ignore import IgnoreRules
from weir.source.revision import GitRef
from weir.source.server import ArtifactServer
from weir.source.storage import Storage
from weir.testing.gitrepo import SYMLINK, GitRepoFixture
from weir.yamlio import KubeLoader

HOST_SECRET = "the controller's own file"

# ---------------------------------------------------------------------------- Git content


async def test_git_symlinks_out_of_the_repository_do_not_reach_the_artifact(
    git_repo: GitRepoFixture, tmp_path: Path
) -> None:
    secret = tmp_path / "controller" / "kubeconfig"
    secret.parent.mkdir()
    secret.write_text(HOST_SECRET)
    git_repo.commit(
        {
            "app/cm.yaml": "kind: ConfigMap\n",
            "app/passwd": "/etc/passwd",
            "app/kubeconfig": str(secret),
            "app/up": "../../../../../../..",
            "app/etc": "/etc",
            "app/inside": "cm.yaml",
        },
        modes=dict.fromkeys(
            ("app/passwd", "app/kubeconfig", "app/up", "app/etc", "app/inside"), SYMLINK
        ),
    )
    storage = Storage(tmp_path / "storage", "127.0.0.1:1")
    remote = await resolve_remote(git_repo.url, GitRef())
    commit = await checkout(git_repo.url, GitRef(), None, tmp_path / "co", remote=remote)
    artifact = await storage.archive(
        tmp_path / "co",
        kind="GitRepository",
        namespace="tenant",
        name="repo",
        revision=commit.revision,
        ignore=IgnoreRules.for_directory(tmp_path / "co"),
    )
    out = tmp_path / "out"
    extract(storage.local_path(artifact), out, artifact["digest"])
    found = {p.relative_to(out).as_posix(): p for p in out.rglob("*")}
    assert sorted(found) == ["app", "app/cm.yaml", "app/inside"]
    assert os.readlink(found["app/inside"]) == "cm.yaml"
    for path in found.values():
        if path.is_file():
            assert HOST_SECRET not in path.read_text(errors="replace")
            assert "root:" not in path.read_text(errors="replace")


def test_an_include_cannot_be_copied_out_of_the_repository(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    for escape in ("../..", "../x", "/etc", "a/../../b"):
        with pytest.raises(Stalled, match="outside the repository"):
            _inside(tmp_path / "src", escape)


@pytest.mark.timeout(120)
async def test_a_hostile_sourceignore_does_not_stall_the_archive(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".sourceignore").write_text("*a" * 30 + "b\n" + "**/" + "*a" * 30 + "c\n")
    (repo / ("a" * 250)).write_text("kept")
    (repo / "deploy").mkdir()
    (repo / "deploy" / ("a" * 200 + "c")).write_text("ignored")
    storage = Storage(tmp_path / "storage", "127.0.0.1:1")
    artifact = await storage.archive(
        repo,
        kind="GitRepository",
        namespace="tenant",
        name="repo",
        revision="main@sha1:" + "0" * 40,
        ignore=IgnoreRules.for_directory(repo),
    )
    out = tmp_path / "out"
    extract(storage.local_path(artifact), out, artifact["digest"])
    assert sorted(p.name for p in out.iterdir()) == sorted([".sourceignore", "a" * 250, "deploy"])
    assert list((out / "deploy").iterdir()) == []


def _laughs(levels: int = 9) -> str:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("bomb", "refusal"),
    [
        (_laughs(), "excessive aliasing"),
        ("values: &v {nested: [*v]}\n", "contains an alias of itself"),
        ("a: &a {<<: *a}\n", "contains an alias of itself"),
    ],
    ids=["billion laughs", "anchor containing itself", "merge key of itself"],
)
def test_yaml_bombs_are_refused(bomb: str, refusal: str) -> None:
    with pytest.raises(yamlio.YAMLError, match=refusal):
        yamlio.load(bomb)
    with pytest.raises(ValuesError, match=refusal):  # a valuesFrom ConfigMap of a tenant
        read_values(bomb.encode())
    with pytest.raises(yaml.YAMLError, match=refusal):  # a chart repository's index.yaml
        yaml.load(bomb, Loader=KubeLoader)


# ----------------------------------------------------------------------------- tarballs
Entry = Callable[[tarfile.TarFile], None]


def _file(name: str, data: bytes = b"x", size: int | None = None) -> Entry:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data) if size is None else size
        tar.addfile(info, io.BytesIO(data) if size is None else _Zeros(size))

    return add


class _Zeros(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n

    def readable(self) -> bool:
        return True


def _special(name: str, kind: bytes, linkname: str = "") -> Entry:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        tar.addfile(info)

    return add


SYM, HARD = tarfile.SYMTYPE, tarfile.LNKTYPE
TARBALL_ATTACKS: dict[str, tuple[Entry, ...]] = {
    "dotdot name": (_file("../evil"),),
    "nested dotdot name": (_file("a/../../evil"),),
    "absolute name": (_file("/tmp/weir-attack-absolute"),),
    "symlink to an absolute path": (_special("l", SYM, "/etc"),),
    "symlink climbing out": (_special("l", SYM, "../.."),),
    "nested symlink climbing out": (_special("a/b/l", SYM, "../../../x"),),
    "file written through a symlinked directory": (_special("d", SYM, "."), _file("d/x")),
    "symlink replaced by a file": (_special("f", SYM, "g"), _file("f")),
    "symlink chain resolving out": (_special("x", SYM, "."), _special("y", SYM, "x/..")),
    "symlink redirected after use": (_special("y", SYM, "x/.."), _special("x", SYM, ".")),
    "symlink loop": (_special("a", SYM, "b"), _special("b", SYM, "a")),
    "symlink to itself": (_special("a", SYM, "a"),),
    "hard link out": (_special("h", HARD, "../../etc/passwd"),),
    "hard link to an absolute path": (_special("h", HARD, "/etc/passwd"),),
    "hard link to nothing": (_special("h", HARD, "nothing"),),
    "hard link to a symlink": (_special("s", SYM, "."), _special("h", HARD, "s")),
    "character device": (_special("null", tarfile.CHRTYPE),),
    "block device": (_special("sda", tarfile.BLKTYPE),),
    "FIFO": (_special("pipe", tarfile.FIFOTYPE),),
    "duplicate file": (_file("a"), _file("a")),
    "file over a directory": (_file("a/b"), _file("a")),
    "decompression bomb": (_file("zeros", size=64 << 20),),
    "too many entries": tuple(_file(f"f{i}") for i in range(60)),
}


@pytest.mark.parametrize("attack", list(TARBALL_ATTACKS))
def test_crafted_tarball_is_refused(attack: str, tmp_path: Path) -> None:
    box = tmp_path / "box"
    (box / "dest").mkdir(parents=True)
    tarball = tmp_path / "evil.tgz"
    with tarfile.open(tarball, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for add in TARBALL_ATTACKS[attack]:
            add(tar)
    digest = "sha256:" + hashlib.sha256(tarball.read_bytes()).hexdigest()
    with pytest.raises(UnsafeArchiveError):
        extract(tarball, box / "dest", digest, max_size=32 << 20, max_files=50)
    assert [p.name for p in box.iterdir()] == ["dest"]
    assert list((box / "dest").iterdir()) == []
    assert not Path("/tmp/weir-attack-absolute").exists()


# The same attacks against an in-place update (extract_tree with the tree of an earlier artifact
# already in the directory), plus those that aim at what the earlier tree holds: replacing its
# directory by a link and writing through it, turning its file into a link out.
UPDATE_ATTACKS: dict[str, tuple[Entry, ...]] = {
    **TARBALL_ATTACKS,
    "base directory replaced by a link out, then written through": (
        _special("dir", SYM, "../.."),
        _file("dir/x"),
    ),
    "base directory replaced by a link inside, then written through": (
        _special("dir", SYM, "."),
        _file("dir/x"),
    ),
    "base file turned into a link out": (_special("file", SYM, "../../etc/passwd"),),
    "base link retargeted out": (_special("link", SYM, "../../.."),),
    "file written through the base's link, kept": (
        _special("dirlink", SYM, "dir"),
        _file("dirlink/x"),
    ),
    "base file kept, then duplicated": (_file("file", b"base\n"), _file("file", b"base\n")),
}


def _base_tarball(path: Path) -> None:
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("dir")
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        _file("dir/inner", b"inner\n")(tar)
        _file("file", b"base\n")(tar)
        _special("link", SYM, "file")(tar)
        _special("dirlink", SYM, "dir")(tar)


@pytest.mark.parametrize("attack", list(UPDATE_ATTACKS))
def test_crafted_tarball_is_refused_by_an_in_place_update(attack: str, tmp_path: Path) -> None:
    box = tmp_path / "box"
    dest = box / "dest"
    dest.mkdir(parents=True)
    (tmp_path / "base.tgz").touch()
    _base_tarball(tmp_path / "base.tgz")
    base = extract_tree(tmp_path / "base.tgz", dest, None)
    tarball = tmp_path / "evil.tgz"
    with tarfile.open(tarball, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for add in UPDATE_ATTACKS[attack]:
            add(tar)
    digest = "sha256:" + hashlib.sha256(tarball.read_bytes()).hexdigest()
    with pytest.raises(UnsafeArchiveError):
        extract_tree(tarball, dest, digest, base=base, max_size=32 << 20, max_files=50)
    assert [p.name for p in box.iterdir()] == ["dest"]
    assert list(dest.iterdir()) == []
    assert not Path("/tmp/weir-attack-absolute").exists()
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------------------- artifact server
@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[Path, ArtifactServer]]:
    root = tmp_path / "storage"
    folder = root / "gitrepository" / "tenant" / "repo"
    folder.mkdir(parents=True)
    (folder / "abc.tar.gz").write_bytes(b"artifact")
    (root / ".locks").mkdir()
    (root / ".locks" / "gitrepository_tenant_repo").write_text("lock")
    (tmp_path / "secret.txt").write_text(HOST_SECRET)
    (folder / "leak.tar.gz").symlink_to(tmp_path / "secret.txt")
    async with ArtifactServer(root) as started:
        yield root, started


async def _raw_get(port: int, target: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    return response


async def test_artifact_server_traversal(server: tuple[Path, ArtifactServer]) -> None:
    _, srv = server
    for target in (
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/gitrepository/tenant/repo/../../../../secret.txt",
        "/gitrepository/tenant/repo/..%2f..%2f..%2f..%2fsecret.txt",
        "//etc/passwd",
        "/./../secret.txt",
        "/.locks/gitrepository_tenant_repo",
        "/gitrepository/tenant/repo/leak.tar.gz",
        "/gitrepository/tenant/repo/",
        "/gitrepository/",
    ):
        response = await _raw_get(srv.port, target)
        status = response.split(b"\r\n", 1)[0].split()[1]
        assert status in (b"404", b"400"), (target, response[:200])
        assert HOST_SECRET.encode() not in response
        assert b"root:" not in response
    async with httpx.AsyncClient(base_url=srv.url) as http:
        assert (await http.get("/gitrepository/tenant/repo/abc.tar.gz")).content == b"artifact"


async def test_a_forged_artifact_url_does_not_read_the_controllers_files(
    server: tuple[Path, ArtifactServer],
) -> None:
    root, srv = server
    local = LocalArtifacts()
    local.register(srv.url, root)
    assert local.path(f"{srv.url}/gitrepository/tenant/repo/abc.tar.gz") is not None
    for forged in (
        "/gitrepository/tenant/repo/../../../../secret.txt",
        "/gitrepository/tenant/repo/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt",
        "/gitrepository/tenant/repo/..%2f..%2f..%2f..%2fsecret.txt",
        "/.locks/gitrepository_tenant_repo",
        "/gitrepository/tenant/repo/leak.tar.gz",
    ):
        assert local.path(srv.url + forged) is None, forged


# ---------------------------------------------------------------------------- messages
async def test_chart_packaging_errors_name_no_host_path(tmp_path: Path) -> None:
    chart = tmp_path / "controller-work" / "chart"
    chart.mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v9\nname: c\nversion: 1.0.0\n")
    engine = SdkEngine(concurrency=1)
    try:
        with pytest.raises(ChartError) as failed:
            await engine.package(chart, tmp_path / "out")
    finally:
        await engine.aclose()
    assert str(tmp_path) not in str(failed.value)
    assert "/tmp" not in str(failed.value)
