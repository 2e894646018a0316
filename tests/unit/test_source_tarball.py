"""Reproducible artifact tarballs and safe extraction, including hand-built malicious tarballs."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from weir.artifact import tarball as t
from weir.artifact.tarball import extract, file_digest, write_tarball
from weir.source.errors import DigestMismatchError, UnsafeArchiveError
from weir.source.ignore import IgnoreRules, parse_patterns


def make_tree(root: Path) -> None:
    (root / "apps" / "base").mkdir(parents=True)
    (root / "apps" / "base" / "deploy.yaml").write_text("kind: Deployment\n")
    (root / "apps" / "run.sh").write_text("#!/bin/sh\n")
    (root / "apps" / "run.sh").chmod(0o755)
    (root / "logo.png").write_bytes(b"\x89PNG")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "empty").mkdir()


def pack(src: Path, dest: Path, rules: IgnoreRules | None = None) -> tuple[str, int]:
    with open(dest, "wb") as out:
        info = write_tarball(src, out, rules.ignored if rules else None)
    return info.digest, info.size


def members(tarball: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(tarball) as tar:
        return tar.getmembers()


# ------------------------------------------------------------------------------- writing
def test_tarball_is_reproducible(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        root.mkdir()
        make_tree(root)
    os.utime(b / "apps" / "base" / "deploy.yaml", (1, 1))
    (b / "logo.png").chmod(0o640)
    d1, s1 = pack(a, tmp_path / "a.tgz", IgnoreRules.defaults())
    d2, s2 = pack(b, tmp_path / "b.tgz", IgnoreRules.defaults())
    assert (d1, s1) == (d2, s2)
    assert d1 == file_digest(tmp_path / "a.tgz")
    assert s1 == (tmp_path / "a.tgz").stat().st_size
    assert d1 == "sha256:" + hashlib.sha256((tmp_path / "b.tgz").read_bytes()).hexdigest()
    raw = (tmp_path / "a.tgz").read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip mtime zero
    assert raw[3] & 0x08 == 0  # no file name in the gzip header


def test_tarball_entries_sorted_normalised_and_filtered(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    make_tree(src)
    pack(src, tmp_path / "x.tgz", IgnoreRules.defaults())
    ms = members(tmp_path / "x.tgz")
    names = [m.name for m in ms]
    assert names == ["apps", "apps/base", "apps/base/deploy.yaml", "apps/run.sh", "empty"]
    by_name = {m.name: m for m in ms}
    assert by_name["apps"].mode == 0o750
    assert by_name["apps/base/deploy.yaml"].mode == 0o600
    assert by_name["apps/run.sh"].mode == 0o700
    for m in ms:
        assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "", "")


def test_reincluded_file_below_excluded_dir_is_archived(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "config").mkdir(parents=True)
    (src / "config" / "keep.yaml").write_text("k")
    (src / "config" / "drop.yaml").write_text("d")
    rules = IgnoreRules.from_user_patterns(parse_patterns("config/\n!config/keep.yaml\n"))
    pack(src, tmp_path / "x.tgz", rules)
    assert [m.name for m in members(tmp_path / "x.tgz")] == ["config/keep.yaml"]


def test_symlinks_inside_are_kept_outside_and_dangling_dropped(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "base").mkdir(parents=True)
    (src / "base" / "a.yaml").write_text("a")
    (tmp_path / "secret").write_text("s")
    (src / "inside").symlink_to("base/a.yaml")
    (src / "dirlink").symlink_to("base")
    (src / "outside").symlink_to("../secret")
    (src / "absolute").symlink_to(tmp_path / "secret")
    (src / "dangling").symlink_to("nope")
    (src / "fifo").parent.mkdir(exist_ok=True)
    os.mkfifo(src / "fifo")
    pack(src, tmp_path / "x.tgz")
    ms = {m.name: m for m in members(tmp_path / "x.tgz")}
    assert set(ms) == {"base", "base/a.yaml", "dirlink", "inside"}
    assert ms["inside"].issym()
    assert ms["inside"].linkname == "base/a.yaml"


def test_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    make_tree(src)
    (src / "link").symlink_to("apps/base")
    digest, _ = pack(src, tmp_path / "x.tgz", IgnoreRules.defaults())
    out = tmp_path / "out"
    count = extract(tmp_path / "x.tgz", out, digest)
    assert count == 6
    assert (out / "apps" / "base" / "deploy.yaml").read_text() == "kind: Deployment\n"
    assert os.access(out / "apps" / "run.sh", os.X_OK)
    assert (out / "link" / "deploy.yaml").read_text() == "kind: Deployment\n"
    assert not (out / "logo.png").exists()
    assert not (out / ".git").exists()


# ---------------------------------------------------------------------------- extraction
Entry = Callable[[tarfile.TarFile], None]


def file_entry(name: str, data: bytes = b"x", mode: int = 0o644) -> Entry:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = mode
        tar.addfile(info, io.BytesIO(data))

    return add


def special_entry(name: str, kind: bytes, linkname: str = "") -> Entry:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        tar.addfile(info)

    return add


def build(path: Path, *entries: Entry) -> str:
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for add in entries:
            add(tar)
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """``tmp_path/sandbox/dest`` is the extraction target; anything else appearing in
    ``tmp_path/sandbox`` means a write escaped."""
    box = tmp_path / "sandbox"
    box.mkdir()
    return box


def assert_contained(box: Path) -> None:
    assert sorted(p.name for p in box.iterdir()) == ["dest"]
    assert list((box / "dest").iterdir()) == []  # emptied after the failure


MALICIOUS: dict[str, tuple[tuple[Entry, ...], str]] = {
    "dotdot": ((file_entry("../evil"),), "climbs out"),
    "nested-dotdot": ((file_entry("a/../../evil"),), "climbs out"),
    "absolute": ((file_entry("/tmp/weir-evil-absolute"),), "absolute path"),
    "symlink-absolute": ((special_entry("l", tarfile.SYMTYPE, "/etc"),), "absolute path"),
    "symlink-dotdot": ((special_entry("l", tarfile.SYMTYPE, "../.."),), "points outside"),
    "symlink-nested-dotdot": (
        (special_entry("a/b/l", tarfile.SYMTYPE, "../../../x"),),
        "points outside",
    ),
    "write-through-symlink": (
        (special_entry("d", tarfile.SYMTYPE, "."), file_entry("d/x")),
        "written through",
    ),
    "symlink-then-file-same-name": (
        (special_entry("f", tarfile.SYMTYPE, "g"), file_entry("f")),
        "duplicate",
    ),
    "symlink-chain-escape": (
        (
            special_entry("x", tarfile.SYMTYPE, "."),
            special_entry("y", tarfile.SYMTYPE, "x/.."),
        ),
        "resolves outside",
    ),
    "symlink-late-redirect": (
        (
            special_entry("y", tarfile.SYMTYPE, "x/.."),
            special_entry("x", tarfile.SYMTYPE, "."),
        ),
        "resolves outside",
    ),
    "hardlink-outside": ((special_entry("h", tarfile.LNKTYPE, "../../etc/passwd"),), "climbs"),
    "hardlink-absolute": ((special_entry("h", tarfile.LNKTYPE, "/etc/passwd"),), "absolute"),
    "hardlink-missing": ((special_entry("h", tarfile.LNKTYPE, "nothing"),), "regular file"),
    "hardlink-to-symlink": (
        (special_entry("s", tarfile.SYMTYPE, "."), special_entry("h", tarfile.LNKTYPE, "s")),
        "regular file",
    ),
    "char-device": ((special_entry("null", tarfile.CHRTYPE),), "device"),
    "block-device": ((special_entry("sda", tarfile.BLKTYPE),), "device"),
    "fifo": ((special_entry("pipe", tarfile.FIFOTYPE),), "FIFO"),
    "duplicate-file": ((file_entry("a"), file_entry("a")), "duplicate"),
    "file-over-dir": ((file_entry("a/b"), file_entry("a")), "duplicate"),
}


@pytest.mark.parametrize("case", sorted(MALICIOUS))
def test_malicious_tarballs_are_refused(case: str, sandbox: Path) -> None:
    entries, message = MALICIOUS[case]
    tarball = sandbox.parent / "evil.tgz"
    digest = build(tarball, *entries)
    with pytest.raises(UnsafeArchiveError, match=message):
        extract(tarball, sandbox / "dest", digest)
    assert_contained(sandbox)
    assert not Path("/tmp/weir-evil-absolute").exists()


def test_digest_is_checked_before_anything_is_written(sandbox: Path) -> None:
    tarball = sandbox.parent / "a.tgz"
    build(tarball, file_entry("a"))
    with pytest.raises(DigestMismatchError, match="digest mismatch"):
        extract(tarball, sandbox / "dest", "sha256:" + "0" * 64)
    assert list((sandbox / "dest").iterdir()) == []
    with pytest.raises(DigestMismatchError, match="unsupported artifact digest"):
        extract(tarball, sandbox / "dest", "md5:abc")


def test_other_digest_algorithms(sandbox: Path) -> None:
    tarball = sandbox.parent / "a.tgz"
    build(tarball, file_entry("a"))
    digest = "sha512:" + hashlib.sha512(tarball.read_bytes()).hexdigest()
    assert extract(tarball, sandbox / "dest", digest) == 1


def test_size_cap(sandbox: Path) -> None:
    tarball = sandbox.parent / "big.tgz"
    digest = build(tarball, file_entry("a", b"x" * 600), file_entry("b", b"y" * 600))
    with pytest.raises(UnsafeArchiveError, match="more than 1000 bytes"):
        extract(tarball, sandbox / "dest", digest, max_size=1000)
    assert_contained(sandbox)


def test_hardlink_copies_count_towards_the_size_cap(sandbox: Path) -> None:
    tarball = sandbox.parent / "hl.tgz"
    digest = build(
        tarball,
        file_entry("a", b"x" * 600),
        special_entry("b", tarfile.LNKTYPE, "a"),
    )
    with pytest.raises(UnsafeArchiveError, match="more than 1000 bytes"):
        extract(tarball, sandbox / "dest", digest, max_size=1000)
    out = sandbox.parent / "ok"
    assert extract(tarball, out, digest) == 2
    assert (out / "b").read_bytes() == b"x" * 600
    assert not (out / "b").is_symlink()


def test_file_count_cap(sandbox: Path) -> None:
    tarball = sandbox.parent / "many.tgz"
    digest = build(tarball, *(file_entry(f"f{i}") for i in range(11)))
    with pytest.raises(UnsafeArchiveError, match="more than 10 entries"):
        extract(tarball, sandbox / "dest", digest, max_files=10)
    assert_contained(sandbox)


def test_corrupt_and_non_tar_input(sandbox: Path) -> None:
    junk = sandbox.parent / "junk.tgz"
    junk.write_bytes(b"\x1f\x8b\x08\x00garbage" * 10)
    digest = "sha256:" + hashlib.sha256(junk.read_bytes()).hexdigest()
    with pytest.raises(UnsafeArchiveError):
        extract(junk, sandbox / "dest", digest)
    assert_contained(sandbox)


def test_modes_are_sanitised(sandbox: Path) -> None:
    tarball = sandbox.parent / "modes.tgz"
    digest = build(tarball, file_entry("suid", mode=0o6777), file_entry("plain", mode=0o600))
    extract(tarball, sandbox / "dest", digest)
    assert (sandbox / "dest" / "suid").stat().st_mode & 0o7777 == 0o755
    assert (sandbox / "dest" / "plain").stat().st_mode & 0o7777 == 0o644


def test_destination_must_be_empty(sandbox: Path) -> None:
    (sandbox / "dest").mkdir()
    (sandbox / "dest" / "x").write_text("x")
    tarball = sandbox.parent / "a.tgz"
    digest = build(tarball, file_entry("a"))
    with pytest.raises(UnsafeArchiveError, match="not empty"):
        extract(tarball, sandbox / "dest", digest)
    assert (sandbox / "dest" / "x").exists()


def test_dot_entries_and_inside_links_are_fine(sandbox: Path) -> None:
    tarball = sandbox.parent / "ok.tgz"
    digest = build(
        tarball,
        special_entry("./", tarfile.DIRTYPE),
        file_entry("./a/b.yaml", b"b"),
        special_entry("a/up", tarfile.SYMTYPE, "../a/b.yaml"),
        special_entry("a/same", tarfile.SYMTYPE, "."),
    )
    extract(tarball, sandbox / "dest", digest)
    assert (sandbox / "dest" / "a" / "up").read_text() == "b"


def _tarfile_reference(src: Path) -> bytes:
    """What write_tarball wrote when it used tarfile for everything (the bytes must not change:
    they decide the artifact's digest)."""
    root, entries = Path(src), list[tuple[str, os.stat_result]]()
    t._walk(root, "", None, entries)
    out = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        for relpath, st in entries:
            info = tarfile.TarInfo(relpath)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if stat.S_ISDIR(st.st_mode):
                info.type, info.mode = tarfile.DIRTYPE, t.DIR_MODE
                tar.addfile(info)
            elif stat.S_ISLNK(st.st_mode):
                target = t._link_inside(root, relpath)
                if target is not None:
                    info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
                    tar.addfile(info)
            else:
                info.mode = t.EXEC_MODE if st.st_mode & 0o111 else t.FILE_MODE
                with open(root / relpath, "rb") as fh:
                    info.size = os.fstat(fh.fileno()).st_size
                    tar.addfile(info, fh)
    return out.getvalue()


def test_the_fast_writer_writes_the_bytes_tarfile_wrote(tmp_path: Path) -> None:
    src = tmp_path / "src"
    names = ["a", "b c", "é-unicode", "x" * 99, "y" * 100, "z" * 101, "deep/" + "q" * 98, "L" * 150]
    for i, name in enumerate(names):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(bytes(range(256)) * i + b"end")
    (src / "exe").write_text("#!/bin/sh\n")
    (src / "exe").chmod(0o755)
    (src / "big").write_bytes(b"z" * (1 << 20 | 7))
    (src / "empty").write_bytes(b"")
    (src / "lnk").symlink_to("a")
    (src / ("l" * 120)).symlink_to("y" * 100)
    (src / "uni-link").symlink_to("é-unicode")
    (src / "out").symlink_to("../..")
    (src / "emptydir").mkdir()
    (src / ("D" * 99)).mkdir()
    out = io.BytesIO()
    info = write_tarball(src, out)
    assert out.getvalue() == _tarfile_reference(src)
    assert info.digest == "sha256:" + hashlib.sha256(out.getvalue()).hexdigest()
