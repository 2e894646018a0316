"""The artifact server and the consumer download, end to end: git checkout -> archive -> HTTP
-> fetch_artifact with digest check -> safe extraction."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from weir.source.errors import ArtifactFetchError, DigestMismatchError
from weir.source.git import checkout, resolve_remote
from weir.source.ignore import IgnoreRules
from weir.source.revision import GitRef
from weir.source.server import ArtifactServer, advertised_addr, fetch_artifact, parse_addr
from weir.source.storage import Artifact, Storage
from weir.testing.gitrepo import GitRepoFixture


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Storage, ArtifactServer]]:
    server = ArtifactServer(tmp_path / "data")
    (tmp_path / "data").mkdir()
    async with server:
        yield Storage(tmp_path / "data", server.addr), server


async def _artifact(storage: Storage, src: Path) -> Artifact:
    return await storage.archive(
        src,
        kind="GitRepository",
        namespace="default",
        name="app",
        revision="main@sha1:" + "0" * 40,
        ignore=IgnoreRules.defaults(),
    )


async def test_git_to_consumer_round_trip(
    git_repo: GitRepoFixture, served: tuple[Storage, ArtifactServer], tmp_path: Path
) -> None:
    storage, _ = served
    git_repo.commit(
        {"deploy/app.yaml": "kind: ConfigMap\n", "logo.png": "png", ".sourceignore": "*.md\n"}
    )
    git_repo.commit({"README.md": "docs"})
    remote = await resolve_remote(git_repo.url, GitRef())
    commit = await checkout(git_repo.url, GitRef(), None, tmp_path / "co", remote=remote)
    artifact = await storage.archive(
        tmp_path / "co",
        kind="GitRepository",
        namespace="default",
        name="app",
        revision=commit.revision,
        ignore=IgnoreRules.for_directory(tmp_path / "co"),
        filename=f"{commit.hash}.tar.gz",
    )
    out = await fetch_artifact(artifact["url"], artifact["digest"], tmp_path / "out")
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    # .sourceignore replaced the defaults (logo.png stays), *.md and .git are excluded
    assert files == [".sourceignore", "deploy", "deploy/app.yaml", "logo.png"]


async def test_http_semantics(served: tuple[Storage, ArtifactServer], tmp_path: Path) -> None:
    storage, server = served
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.yaml").write_text("a")
    art = await _artifact(storage, tmp_path / "src")
    hexdigest = art["digest"].removeprefix("sha256:")
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.get("/" + art["path"])
        assert r.status_code == 200
        assert r.headers["content-length"] == str(art["size"])
        assert r.headers["etag"] == f'"{hexdigest}"'
        assert r.headers["content-type"] == "application/gzip"
        assert hashlib.sha256(r.content).hexdigest() == hexdigest
        assert r.headers["content-digest"].startswith("sha-256=:")
        head = await http.head("/" + art["path"])
        assert head.status_code == 200
        assert head.headers["content-length"] == str(art["size"])
        assert head.content == b""
        cached = await http.get("/" + art["path"], headers={"If-None-Match": f'"{hexdigest}"'})
        assert cached.status_code == 304
        for path in (
            "/",
            "/gitrepository",
            "/gitrepository/default/app",
            "/gitrepository/default/app/",
            "/gitrepository/default/app/missing.tar.gz",
            "/.locks/gitrepository_default_app",
            "/gitrepository/default/app/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
            "/gitrepository/default/app/..%2f..%2f..%2f..%2fetc%2fpasswd",
        ):
            resp = await http.get(path)
            assert resp.status_code == 404, path


async def test_raw_traversal_requests_are_refused(
    served: tuple[Storage, ArtifactServer], tmp_path: Path
) -> None:
    _, server = served
    (tmp_path / "secret.txt").write_text("outside the storage")
    for target in ("/../secret.txt", "/%2e%2e/secret.txt", "//etc/passwd", "/./../secret.txt"):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        response = await reader.read()
        writer.close()
        await writer.wait_closed()
        assert b"outside the storage" not in response
        assert response.split(b"\r\n", 1)[0].split()[1] in (b"404", b"400"), target


async def test_symlinks_in_storage_are_not_followed(
    served: tuple[Storage, ArtifactServer], tmp_path: Path
) -> None:
    storage, server = served
    (tmp_path / "secret.txt").write_text("outside")
    link_dir = storage.root / "gitrepository" / "default" / "app"
    link_dir.mkdir(parents=True)
    (link_dir / "leak.tar.gz").symlink_to(tmp_path / "secret.txt")
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/gitrepository/default/app/leak.tar.gz")).status_code == 404


async def test_fetch_errors(served: tuple[Storage, ArtifactServer], tmp_path: Path) -> None:
    storage, server = served
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a").write_text("a")
    art = await _artifact(storage, tmp_path / "src")
    with pytest.raises(DigestMismatchError):
        await fetch_artifact(art["url"], "sha256:" + "1" * 64, tmp_path / "o1")
    assert not any((tmp_path / "o1").iterdir())
    with pytest.raises(ArtifactFetchError, match="HTTP 404"):
        await fetch_artifact(server.url + "/nope.tar.gz", art["digest"], tmp_path / "o2")
    with pytest.raises(ArtifactFetchError, match="larger than"):
        await fetch_artifact(art["url"], art["digest"], tmp_path / "o3", max_size=10)
    storage.remove(art)
    with pytest.raises(ArtifactFetchError, match="garbage-collected"):
        await fetch_artifact(art["url"], art["digest"], tmp_path / "o4")


async def test_fetch_from_a_dead_server(tmp_path: Path) -> None:
    server = ArtifactServer(tmp_path)
    await server.start()
    url = server.url
    await server.stop()
    with pytest.raises(ArtifactFetchError, match="reachable"):
        await fetch_artifact(url + "/x.tar.gz", "sha256:" + "0" * 64, tmp_path / "o")


def test_addresses() -> None:
    assert parse_addr(":9090") == ("", 9090)
    assert parse_addr("[::1]:80") == ("::1", 80)
    with pytest.raises(ValueError, match="host:port"):
        parse_addr("9090")
    assert advertised_addr("127.0.0.1:9090") == "127.0.0.1:9090"
    assert advertised_addr(":9090", "source-controller.flux-system.svc.cluster.local.") == (
        "source-controller.flux-system.svc.cluster.local."
    )
    assert advertised_addr(":9090").endswith(":9090")
