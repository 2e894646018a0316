"""Consumers read the artifacts of their own process's storage from disk (weir.artifact.local):
the URL must be one of a registered storage and the path a file inside it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from weir.artifact.cache import ArtifactCache
from weir.artifact.local import LocalArtifacts
from weir.artifact.tarball import write_tarball


def _storage(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "storage"
    folder = root / "gitrepository" / "apps" / "fleet"
    folder.mkdir(parents=True)
    src = tmp_path / "src"
    src.mkdir()
    (src / "cm.yaml").write_text("kind: ConfigMap\n")
    tarball = folder / "abc.tar.gz"
    with tarball.open("wb") as out:
        write_tarball(src, out)
    return root, tarball


def test_only_files_of_a_registered_storage(tmp_path: Path) -> None:
    root, tarball = _storage(tmp_path)
    (root / ".locks").mkdir()
    (root / ".locks" / "x").write_text("")
    (tmp_path / "outside.tar.gz").write_text("")
    os.symlink(tmp_path / "outside.tar.gz", root / "gitrepository" / "apps" / "fleet" / "out")
    local = LocalArtifacts()
    local.register("http://weir-source.flux-system.svc.cluster.local./", root)
    base = "http://WEIR-source.flux-system.svc.cluster.local."
    assert local.path(f"{base}/gitrepository/apps/fleet/abc.tar.gz") == tarball.resolve()
    for refused in (
        "http://other:9090/gitrepository/apps/fleet/abc.tar.gz",
        f"{base}:8080/gitrepository/apps/fleet/abc.tar.gz",
        f"{base}/gitrepository/apps/fleet/../fleet/abc.tar.gz",
        f"{base}/gitrepository/apps/fleet/%2e%2e/fleet/abc.tar.gz",
        f"{base}/gitrepository/apps/fleet/abc.tar.gz?x=1",
        f"{base}/.locks/x",
        f"{base}/gitrepository/apps/fleet/out",  # a symlink out of the storage
        f"{base}/gitrepository/apps/fleet",  # a directory
        f"{base}/gitrepository/apps/fleet/missing.tar.gz",
        f"{base}/",
    ):
        assert local.path(refused) is None, refused


async def test_the_cache_unpacks_own_artifacts_without_a_server(tmp_path: Path) -> None:
    root, tarball = _storage(tmp_path)
    local = LocalArtifacts()
    local.register("http://127.0.0.1:1", root)  # nothing listens there
    cache = ArtifactCache(tmp_path / "cache", local=local)
    with tarball.open("rb") as fh:
        digest = "sha256:" + hashlib.sha256(fh.read()).hexdigest()
    try:
        url = "http://127.0.0.1:1/gitrepository/apps/fleet/abc.tar.gz"
        async with cache.extracted(url, digest) as path:
            assert (path / "cm.yaml").read_text() == "kind: ConfigMap\n"
    finally:
        await cache.close()
