"""Which Kustomizations a new artifact touches (weir.kustomize.touched): what a path's build
reads, what changed between two artifacts, and the queued Kustomizations moved ahead."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from weir.kustomize.generate import BuildSpec
from weir.kustomize.touched import Touched, changes, file_digests, reads_job
from weir.runtime.workqueue import WorkQueue
from weir.types import Obj

SOURCE = "GitRepository/ns/fleet"


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


def tree(tmp: Path, name: str, files: dict[str, str]) -> Path:
    root = tmp / name
    write(root, files)
    return root


BASE = {
    "plain/a.yaml": cm("a"),
    "plain/b.yaml": cm("b"),
    "plain/README.md": "not read",
    "app/kustomization.yaml": "resources:\n- ../base\n- cm.yaml\n",
    "app/cm.yaml": cm("app"),
    "base/kustomization.yaml": "resources:\n- svc.yaml\n",
    "base/svc.yaml": cm("svc"),
    "other/x.yaml": cm("x"),
}


def test_reads_lists_the_closure_files_and_the_directories_listed(tmp_path: Path) -> None:
    root = tree(tmp_path, "v1", BASE)
    plain = reads_job(str(root), BuildSpec(path="./plain"), True)
    assert {"plain/a.yaml", "plain/b.yaml"} <= plain.files
    assert "plain/README.md" not in plain.files
    assert "plain" in plain.dirs, "a generated kustomization lists its directory"
    app = reads_job(str(root), BuildSpec(path="./app"), True)
    assert {"app/kustomization.yaml", "app/cm.yaml", "base/svc.yaml"} <= app.files
    assert {"app", "base"} <= app.dirs
    assert "other/x.yaml" not in app.files
    assert "." not in app.dirs


def test_changes_are_changed_files_and_the_directories_above_added_or_removed_ones(
    tmp_path: Path,
) -> None:
    v1 = tree(tmp_path, "v1", BASE)
    v2 = tree(tmp_path, "v2", {**BASE, "base/svc.yaml": cm("svc2"), "plain/new/c.yaml": cm("c")})
    (v2 / "other/x.yaml").unlink()
    os.symlink("a.yaml", v2 / "plain/link.yml")
    files, dirs = changes(file_digests(v1), file_digests(v2))
    assert files == {"base/svc.yaml", "plain/new/c.yaml", "other/x.yaml", "plain/link.yml"}
    assert dirs == {".", "plain", "plain/new", "other"}
    same_files, same_dirs = changes(file_digests(v1), file_digests(v1))
    assert not same_files
    assert not same_dirs


def obj(name: str, generation: int = 1) -> Obj:
    return {"metadata": {"namespace": "ns", "name": name, "generation": generation}}


async def test_a_new_artifact_moves_the_touched_kustomizations_ahead(tmp_path: Path) -> None:
    v1 = tree(tmp_path, "v1", BASE)
    specs = {"plain": "./plain", "app": "./app", "other": "./other", "fresh": "./other"}
    queue = WorkQueue()
    touched = Touched()
    touched.promote = queue.promote
    objects = [obj(name) for name in specs]
    touched.dependents = lambda ref: objects if ref == SOURCE else []
    await touched.seen(SOURCE, "sha256:v1", v1)
    for name, path in specs.items():
        if name != "fresh":  # never ran: no memory
            touched.remember(
                f"ns/{name}", "sha256:v1", 1, reads_job(str(v1), BuildSpec(path), True)
            )

    # base/svc.yaml changes: app reads it through ../base; plain and other do not
    v2 = tree(tmp_path, "v2", {**BASE, "base/svc.yaml": cm("svc2")})
    for name in ("other", "plain", "app", "fresh"):
        queue.add(f"ns/{name}")
    await touched.seen(SOURCE, "sha256:v2", v2)
    assert queue.pending() == ["ns/app", "ns/fresh", "ns/other", "ns/plain"]
    assert touched.promoted == 2
    await touched.seen(SOURCE, "sha256:v2", v2)  # later runs of the same artifact: nothing
    assert touched.promoted == 2


async def test_doubt_means_ahead(tmp_path: Path) -> None:
    v1 = tree(tmp_path, "v1", BASE)
    queue = WorkQueue()
    touched = Touched()
    touched.promote = queue.promote
    objects = [obj("plain", generation=2), obj("other"), obj("listed")]
    touched.dependents = lambda ref: objects
    await touched.seen(SOURCE, "sha256:v1", v1)
    touched.remember("ns/plain", "sha256:v1", 1, reads_job(str(v1), BuildSpec("./plain"), True))
    touched.remember("ns/other", "sha256:v0", 1, reads_job(str(v1), BuildSpec("./other"), True))
    touched.remember("ns/listed", "sha256:v1", 1, reads_job(str(v1), BuildSpec("./plain"), True))

    # a file added next to plain's YAML: plain lists that directory; the new file is read
    v2 = tree(tmp_path, "v2", {**BASE, "plain/c.yaml": cm("c"), "unrelated.txt": "x"})
    for name in ("plain", "other", "listed", "idle"):
        queue.add(f"ns/{name}")
    await touched.seen(SOURCE, "sha256:v2", v2)
    # plain: its spec changed since (generation 2); other: its artifact's files are forgotten;
    # listed: a file appeared in a directory it lists
    assert queue.pending() == ["ns/plain", "ns/other", "ns/listed", "ns/idle"]
    assert touched.promoted == 3


async def test_the_first_artifact_seen_promotes_nothing(tmp_path: Path) -> None:
    v1 = tree(tmp_path, "v1", BASE)
    queue = WorkQueue()
    touched = Touched()
    touched.promote = queue.promote
    touched.dependents = lambda ref: [obj("a"), obj("b")]
    queue.add("ns/a")
    queue.add("ns/b")
    await touched.seen(SOURCE, "sha256:v1", v1)
    assert touched.promoted == 0
    shutil.rmtree(v1)


def test_a_path_that_is_missing_watches_the_directory_it_was_looked_for_in(
    tmp_path: Path,
) -> None:
    root = tree(
        tmp_path,
        "v1",
        {**BASE, "opt/kustomization.yaml": "resources:\n- ../extra/cm.yaml\n- ../base/no.yaml\n"},
    )
    reads = reads_job(str(root), BuildSpec(path="./opt"), True)
    assert "." in reads.dirs, "extra/ does not exist: it would appear in the root"
    assert "base" in reads.dirs


async def test_other_runs_of_the_new_artifact_wait_until_the_touched_ones_are_ahead(
    tmp_path: Path,
) -> None:
    v1 = tree(tmp_path, "v1", BASE)
    v2 = tree(tmp_path, "v2", {**BASE, "base/svc.yaml": cm("svc2")})
    release = asyncio.Event()

    async def slow_digests(root: Path, artifact: str) -> dict[str, bytes]:
        if root == v2:
            await release.wait()
        return file_digests(root)

    queue = WorkQueue()
    touched = Touched(slow_digests)
    touched.promote = queue.promote
    touched.dependents = lambda ref: [obj("plain"), obj("app")]
    await touched.seen(SOURCE, "sha256:v1", v1)
    for name in ("plain", "app"):
        spec = BuildSpec(path=f"./{name}")
        touched.remember(f"ns/{name}", "sha256:v1", 1, reads_job(str(v1), spec, True))
        queue.add(f"ns/{name}")
    first = asyncio.create_task(touched.seen(SOURCE, "sha256:v2", v2))
    second = asyncio.create_task(touched.seen(SOURCE, "sha256:v2", v2))
    await asyncio.sleep(0.01)
    assert not first.done()
    assert not second.done(), "waits for the first run's promotions"
    release.set()
    await second
    assert queue.pending() == ["ns/app", "ns/plain"]
    await first
