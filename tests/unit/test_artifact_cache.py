"""The consumer-side artifact cache: a source's new artifact updates the tree of its previous
one in place when no run reads that tree, and the result is what a full extraction gives."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from weir.artifact.cache import ArtifactCache
from weir.artifact.errors import DigestMismatchError
from weir.artifact.local import LocalArtifacts
from weir.artifact.tarball import extract_tree, write_tarball

BASE = "http://127.0.0.1:1"  # nothing listens there: every artifact is read from disk


def _store(root: Path, src: Path, name: str, files: dict[str, str]) -> tuple[str, str]:
    """Write ``files`` as the tree ``src`` and archive it as ``name``: (url, digest)."""
    if src.exists():
        for path in sorted(src.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
    for rel, text in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    folder = root / "gitrepository" / "apps" / "fleet"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("wb") as out:
        info = write_tarball(src, out)
    return f"{BASE}/gitrepository/apps/fleet/{name}", info.digest


def _snapshot(dest: Path) -> dict[str, str]:
    return {
        str(p.relative_to(dest)): "dir" if p.is_dir() else p.read_text() + oct(p.stat().st_mode)
        for p in dest.rglob("*")
    }


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, ArtifactCache]:
    local = LocalArtifacts()
    local.register(BASE, tmp_path / "storage")
    return tmp_path, ArtifactCache(tmp_path / "cache", local=local)


V1 = {f"app{k}/cm-{i}.yaml": f"v1 {k} {i}\n" for k in range(5) for i in range(3)}
V2 = {**V1, "app0/cm-0.yaml": "v2\n", "app9/new.yaml": "new\n"}
del V2["app4/cm-2.yaml"]
del V2["app3/cm-0.yaml"], V2["app3/cm-1.yaml"], V2["app3/cm-2.yaml"]


async def test_a_new_artifact_updates_the_previous_tree_in_place(
    setup: tuple[Path, ArtifactCache],
) -> None:
    tmp, cache = setup
    try:
        url1, d1 = _store(tmp / "storage", tmp / "src", "one.tar.gz", V1)
        async with cache.extracted(url1, d1) as path1:
            assert (path1 / "app0" / "cm-0.yaml").read_text() == "v1 0 0\n"
        files1 = cache.files(d1)
        assert files1 is not None
        assert len(files1) == 15
        url2, d2 = _store(tmp / "storage", tmp / "src", "two.tar.gz", V2)
        async with cache.extracted(url2, d2) as path2:
            full = tmp / "full"
            extract_tree(tmp / "storage" / "gitrepository/apps/fleet/two.tar.gz", full, d2)
            assert _snapshot(path2) == _snapshot(full)
            assert not (path2 / "app3").exists()
        assert cache.updates == 1
        assert not path1.exists(), "the previous tree became the new one"
        assert cache.files(d1) is None
        files2 = cache.files(d2)
        assert files2 is not None
        changed = {p for p in files1.keys() | files2.keys() if files1.get(p) != files2.get(p)}
        assert changed == {
            "app0/cm-0.yaml",
            "app9/new.yaml",
            "app4/cm-2.yaml",
            "app3/cm-0.yaml",
            "app3/cm-1.yaml",
            "app3/cm-2.yaml",
        }
        # the previous artifact again (a run still on it): extracted in full, as before
        async with cache.extracted(url1, d1) as again:
            extract_tree(tmp / "storage" / "gitrepository/apps/fleet/one.tar.gz", tmp / "f1", d1)
            assert _snapshot(again) == _snapshot(tmp / "f1")
            assert (again / "app3" / "cm-0.yaml").read_text() == "v1 3 0\n"
    finally:
        await cache.close()


async def test_a_tree_in_use_is_not_updated(setup: tuple[Path, ArtifactCache]) -> None:
    tmp, cache = setup
    try:
        url1, d1 = _store(tmp / "storage", tmp / "src", "one.tar.gz", V1)
        async with cache.extracted(url1, d1) as path1:
            before = _snapshot(path1)
            url2, d2 = _store(tmp / "storage", tmp / "src", "two.tar.gz", V2)
            async with cache.extracted(url2, d2) as path2:
                assert (path2 / "app0" / "cm-0.yaml").read_text() == "v2\n"
            assert _snapshot(path1) == before, "a tree being read is never changed"
        assert cache.updates == 0
    finally:
        await cache.close()


async def test_a_bad_new_artifact_fails_and_the_old_one_can_be_read_again(
    setup: tuple[Path, ArtifactCache],
) -> None:
    tmp, cache = setup
    try:
        url1, d1 = _store(tmp / "storage", tmp / "src", "one.tar.gz", V1)
        async with cache.extracted(url1, d1):
            pass
        url2, _ = _store(tmp / "storage", tmp / "src", "two.tar.gz", V2)
        wrong = "sha256:" + hashlib.sha256(b"something else").hexdigest()
        with pytest.raises(DigestMismatchError):
            async with cache.extracted(url2, wrong):
                pass
        assert [p for p in os.listdir(cache.root) if not p.startswith(".")] == []
        async with cache.extracted(url1, d1) as path1:
            assert (path1 / "app3" / "cm-0.yaml").read_text() == "v1 3 0\n"
    finally:
        await cache.close()
