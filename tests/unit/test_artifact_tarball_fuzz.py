"""Fuzzing tar extraction (what every consumer does with an artifact): for any archive, made
of entries with hostile names, link targets and types, or of corrupted bytes, ``extract``
either unpacks it inside the destination -- only directories, regular files and symlinks that
resolve inside, within the size and count limits -- or refuses it with an ``ArtifactError``,
leaving the destination empty. Nothing is ever written outside it, and no other exception
escapes."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from tests.support.fuzzing import fuzz
from weir.artifact.errors import ArtifactError
from weir.artifact.tarball import extract, extract_tree

MAX_SIZE, MAX_FILES = 4096, 12
COMPONENTS = ["a", "b", "..", ".", "", "c d", "/", "a/..", "\\", "x" * 20]
TYPES = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "char": tarfile.CHRTYPE,
    "block": tarfile.BLKTYPE,
    "fifo": tarfile.FIFOTYPE,
    "contiguous": tarfile.CONTTYPE,
}

PATHS = st.lists(st.sampled_from(COMPONENTS), min_size=1, max_size=4).map("/".join)
ENTRY = st.tuples(
    PATHS,
    st.sampled_from(sorted(TYPES)),
    PATHS | st.sampled_from(["/etc/passwd", "/", "../../..", "a"]),
    st.binary(max_size=300),
    st.sampled_from([0o644, 0o755, 0o4755, 0o777, 0o000]),
)


def _archive(entries: list[tuple[str, str, str, bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, link, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.type = TYPES[kind]
            info.mode = mode
            if kind in ("symlink", "hardlink"):
                info.linkname = link
            if kind in ("file", "contiguous"):
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def _check(data: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="weir-fuzz-") as tmp:
        box = Path(tmp) / "box"
        dest = box / "dest"
        dest.mkdir(parents=True)
        tarball = Path(tmp) / "a.tgz"
        tarball.write_bytes(data)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        try:
            extract(tarball, dest, digest, max_size=MAX_SIZE, max_files=MAX_FILES)
        except ArtifactError:
            assert list(dest.iterdir()) == [], "a refused archive leaves nothing behind"
        else:
            _inside_only(dest)
        assert [p.name for p in box.iterdir()] == ["dest"], "nothing outside the destination"
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["a.tgz", "box"]


def _inside_only(dest: Path) -> None:
    real = dest.resolve()
    files = size = 0
    for root, dirs, names in os.walk(dest):
        for name in dirs + names:
            path = Path(root) / name
            if path.is_symlink():
                target = path.resolve()
                assert target == real or real in target.parents, f"{path} -> {target}"
                continue
            mode = path.lstat().st_mode
            assert path.is_dir() or path.is_file(), f"{path} is a special file"
            assert not mode & 0o6000, f"{path} kept a setuid/setgid bit"
            if path.is_file():
                files += 1
                size += path.lstat().st_size
    assert size <= MAX_SIZE


@fuzz(200)
@given(st.lists(ENTRY, max_size=8))
@example([("d", "symlink", ".", b"", 0o777), ("d/x", "file", "", b"x", 0o644)])
@example([("y", "symlink", "x/..", b"", 0o777), ("x", "symlink", ".", b"", 0o777)])
@example([("h", "hardlink", "/etc/passwd", b"", 0o644)])
@example([("s", "symlink", ".", b"", 0o777), ("h", "hardlink", "s", b"", 0o644)])
@example([("a", "symlink", "a", b"", 0o644)])  # found by the fuzzer: a loop was accepted
@example([("b", "file", "", b"", 0o644), ("a", "hardlink", "b/a", b"", 0o644)])  # ditto: an
# OSError (NotADirectoryError) escaped instead of a refusal
@example([("a", "symlink", "b", b"", 0o644), ("b", "symlink", "a", b"", 0o644)])
def test_any_archive_is_unpacked_inside_or_refused(
    entries: list[tuple[str, str, str, bytes, int]],
) -> None:
    _check(_archive(entries))


@fuzz(150)
@given(
    st.lists(ENTRY, min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=6),
    st.integers(min_value=0, max_value=64),
)
def test_corrupted_archives_are_refused_cleanly(
    entries: list[tuple[str, str, str, bytes, int]],
    flips: list[tuple[int, int]],
    cut: int,
) -> None:
    data = bytearray(_archive(entries))
    for at, value in flips:
        data[at % len(data)] = value
    _check(bytes(data[: max(1, len(data) - cut)]))


# In-place updates (extract_tree with ``base``): an earlier artifact's tree is in the directory;
# the update must give exactly what a full extraction of the new archive gives, or refuse it as
# the full extraction does (leaving the directory empty).
NAMES = st.lists(st.sampled_from(["a", "b", "c", ".."]), min_size=1, max_size=3).map("/".join)
BENIGN = st.tuples(
    NAMES,
    st.sampled_from(["file", "file", "file", "dir", "symlink", "hardlink"]),
    NAMES | st.sampled_from(["/etc/passwd", "../.."]),
    st.sampled_from([b"", b"one", b"two"]),
    st.sampled_from([0o644, 0o755]),
)


def _snapshot(dest: Path) -> dict[str, tuple[str, str | bytes, int]]:
    out: dict[str, tuple[str, str | bytes, int]] = {}
    for root, dirs, names in os.walk(dest):
        for name in dirs + names:
            path = Path(root) / name
            rel = str(path.relative_to(dest))
            st_ = path.lstat()
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path), 0)
            elif path.is_dir():
                out[rel] = ("dir", "", 0)
            else:
                out[rel] = ("file", path.read_bytes(), st_.st_mode & 0o777)
    return out


def _full(data: bytes, tmp: Path) -> tuple[object, dict[str, tuple[str, str | bytes, int]]]:
    dest = tmp / "full"
    (tmp / "full.tgz").write_bytes(data)
    try:
        tree = extract_tree(tmp / "full.tgz", dest, None, max_size=MAX_SIZE, max_files=MAX_FILES)
    except ArtifactError:
        return None, {}
    return (tree.files, tree.dirs), _snapshot(dest)


@fuzz(300)
@given(st.lists(BENIGN, max_size=7), st.lists(BENIGN, max_size=7))
@example(
    [("a", "dir", "", b"", 0o644), ("a/b", "file", "", b"one", 0o644)],
    [("a", "symlink", "c", b"", 0o777), ("a/b", "file", "", b"one", 0o644)],
)
@example(
    [("a", "file", "", b"one", 0o644), ("b", "symlink", "a", b"", 0o777)],
    [
        ("a", "file", "", b"two", 0o755),
        ("b", "symlink", "c", b"", 0o777),
        ("c/a", "dir", "", b"", 0),
    ],
)
def test_an_in_place_update_equals_a_full_extraction(
    base_entries: list[tuple[str, str, str, bytes, int]],
    new_entries: list[tuple[str, str, str, bytes, int]],
) -> None:
    with tempfile.TemporaryDirectory(prefix="weir-fuzz-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "base.tgz").write_bytes(_archive(base_entries))
        box = tmp / "box"
        dest = box / "dest"
        try:
            base = extract_tree(
                tmp / "base.tgz", dest, None, max_size=MAX_SIZE, max_files=MAX_FILES
            )
        except ArtifactError:
            return
        new = _archive(new_entries)
        expected_tree, expected = _full(new, tmp)
        (tmp / "new.tgz").write_bytes(new)
        digest = "sha256:" + hashlib.sha256(new).hexdigest()
        try:
            tree = extract_tree(
                tmp / "new.tgz", dest, digest, base=base, max_size=MAX_SIZE, max_files=MAX_FILES
            )
        except ArtifactError:
            assert expected_tree is None, "refused in place, accepted in full"
            assert list(dest.iterdir()) == []
        else:
            assert expected_tree == (tree.files, tree.dirs)
            assert _snapshot(dest) == expected
        assert [p.name for p in box.iterdir()] == ["dest"], "nothing outside the destination"
