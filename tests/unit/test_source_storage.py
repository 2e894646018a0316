"""The artifact storage: archive, paths and URLs, GC, locks."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from weir.source.errors import StorageError
from weir.source.ignore import IgnoreRules
from weir.source.storage import Storage, extract

REV = "main@sha1:" + "a" * 40


def src_tree(root: Path, content: str = "x") -> Path:
    (root / "deploy").mkdir(parents=True, exist_ok=True)
    (root / "deploy" / "app.yaml").write_text(content)
    (root / "logo.png").write_bytes(b"png")
    return root


async def test_archive_returns_the_flux_artifact(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data", "source-controller.flux-system.svc.cluster.local.")
    src = src_tree(tmp_path / "src")
    art = await storage.archive(
        src,
        kind="GitRepository",
        namespace="flux-system",
        name="podinfo",
        revision=REV,
        ignore=IgnoreRules.defaults(),
    )
    hexdigest = art["digest"].removeprefix("sha256:")
    assert art["path"] == f"gitrepository/flux-system/podinfo/{hexdigest}.tar.gz"
    assert art["url"] == ("http://source-controller.flux-system.svc.cluster.local./" + art["path"])
    assert art["revision"] == REV
    assert art["size"] == storage.local_path(art).stat().st_size
    assert art["lastUpdateTime"].endswith("Z")
    assert storage.exists(art)
    assert storage.verify(art)
    assert storage.digest(art) == art["digest"]
    out = tmp_path / "out"
    extract(storage.local_path(art), out, art["digest"])
    assert (out / "deploy" / "app.yaml").read_text() == "x"
    assert not (out / "logo.png").exists()
    # no temporary files left behind
    assert [p.name for p in storage.local_path(art).parent.iterdir()] == [f"{hexdigest}.tar.gz"]


async def test_archive_same_content_same_file_and_custom_name(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data", "localhost:9090")
    src = src_tree(tmp_path / "src")
    a = await storage.archive(src, kind="Bucket", namespace="ns", name="b", revision="r")
    b = await storage.archive(src, kind="Bucket", namespace="ns", name="b", revision="r")
    assert a["path"] == b["path"]
    assert a["digest"] == b["digest"]
    c = await storage.archive(
        src,
        kind="GitRepository",
        namespace="ns",
        name="g",
        revision=REV,
        filename="a" * 40 + ".tar.gz",
    )
    assert c["path"] == f"gitrepository/ns/g/{'a' * 40}.tar.gz"
    assert c["url"].startswith("http://localhost:9090/")
    with pytest.raises(StorageError, match="invalid artifact file name"):
        await storage.archive(
            src, kind="GitRepository", namespace="ns", name="g", revision=REV, filename="../x"
        )


async def test_verify_detects_tampering_and_remove(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data", "h:1")
    art = await storage.archive(
        src_tree(tmp_path / "src"), kind="GitRepository", namespace="n", name="a", revision=REV
    )
    storage.local_path(art).write_bytes(b"tampered")
    assert not storage.verify(art)
    storage.remove(art)
    assert not storage.exists(art)
    storage.remove(art)  # idempotent


@pytest.mark.parametrize(
    "path", ["../etc/passwd", "gitrepository/../../x", "/", ".locks/x", "a/./b", ""]
)
def test_local_path_refuses_escapes(tmp_path: Path, path: str) -> None:
    storage = Storage(tmp_path, "h:1")
    with pytest.raises(StorageError):
        storage.local_path(path)


@pytest.mark.parametrize(("ns", "name"), [("../x", "a"), ("a", "b/c"), ("A", "b"), ("a", "")])
def test_object_dir_validates_names(ns: str, name: str) -> None:
    with pytest.raises(StorageError):
        Storage.object_dir("GitRepository", ns, name)


def test_adv_addr_forms_and_set_url(tmp_path: Path) -> None:
    storage = Storage(tmp_path, "https://artifacts.example/")
    art = {"path": "gitrepository/a/b/c.tar.gz", "url": "http://old/x"}
    storage.set_artifact_url(art)
    assert art["url"] == "https://artifacts.example/gitrepository/a/b/c.tar.gz"


def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


async def test_garbage_collection_keeps_current_and_records(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data", "h:1", retention_records=2, retention_ttl=3600)
    arts = []
    for i in range(4):
        src = src_tree(tmp_path / f"src{i}", f"v{i}")
        arts.append(
            await storage.archive(
                src, kind="GitRepository", namespace="n", name="a", revision=str(i)
            )
        )
        _age(storage.local_path(arts[-1]), 100 - i)  # older first
    removed = await storage.garbage_collect("GitRepository", "n", "a", arts[3])
    assert sorted(removed) == sorted([arts[0]["path"], arts[1]["path"]])
    assert storage.exists(arts[2])
    assert storage.exists(arts[3])


async def test_garbage_collection_ttl_and_current_survives(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data", "h:1", retention_records=5, retention_ttl=60)
    old = await storage.archive(
        src_tree(tmp_path / "s1", "1"), kind="GitRepository", namespace="n", name="a", revision="1"
    )
    cur = await storage.archive(
        src_tree(tmp_path / "s2", "2"), kind="GitRepository", namespace="n", name="a", revision="2"
    )
    _age(storage.local_path(old), 120)
    _age(storage.local_path(cur), 120)  # the current artifact is kept whatever its age
    assert await storage.garbage_collect("GitRepository", "n", "a", cur) == [old["path"]]
    assert storage.exists(cur)
    assert await storage.garbage_collect("GitRepository", "n", "missing", None) == []


async def test_remove_all(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data", "h:1")
    await storage.archive(
        src_tree(tmp_path / "s"), kind="GitRepository", namespace="n", name="a", revision="1"
    )
    assert await storage.remove_all("GitRepository", "n", "a")
    assert not (tmp_path / "data" / "gitrepository" / "n" / "a").exists()
    assert not await storage.remove_all("GitRepository", "n", "a")


async def test_lock_is_exclusive_per_object(tmp_path: Path) -> None:
    storage = Storage(tmp_path, "h:1")
    order: list[str] = []

    async def hold(tag: str, name: str) -> None:
        async with storage.lock("GitRepository", "n", name):
            order.append(f"{tag}+")
            await asyncio.sleep(0.05)
            order.append(f"{tag}-")

    await asyncio.gather(hold("a", "x"), hold("b", "x"))
    assert order in (["a+", "a-", "b+", "b-"], ["b+", "b-", "a+", "a-"])
    order.clear()
    await asyncio.gather(hold("a", "x"), hold("c", "y"))
    assert order[:2] == ["a+", "c+"]  # different objects do not wait for each other


async def test_archive_of_a_missing_dir_fails(tmp_path: Path) -> None:
    storage = Storage(tmp_path, "h:1")
    with pytest.raises(StorageError, match="not a directory"):
        await storage.archive(
            tmp_path / "nope", kind="GitRepository", namespace="n", name="a", revision="1"
        )


def test_retention_records_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        Storage(tmp_path, "h:1", retention_records=0)
