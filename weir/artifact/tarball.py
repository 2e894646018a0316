"""Reproducible artifact tarballs, and their safe extraction.

:func:`write_tarball` packs a directory so that the same content always gives the same bytes:
entries sorted by path, modification times, owners and group names zeroed, modes normalised
(directories 0750, files 0600, executables 0700, as Flux writes them), gzip header without a name
or time. Only regular files, directories and symlinks that stay inside the directory are
archived; devices, FIFOs, sockets and symlinks pointing outside (or dangling) are left out.

:func:`extract` is what consumers run on an artifact they downloaded. It checks the digest
before reading a single entry, then refuses anything that could write or point outside the
destination: absolute names, ``..`` components, links leaving the tree, writing through a link,
devices and FIFOs; it caps the total size and the number of entries. On any failure the
destination is emptied again.

:func:`extract_tree` does the same and also returns the :class:`Tree` it wrote (a digest of every
file, the directories). Given the tree of an earlier artifact of the same source, already on
disk at ``dest`` (``base``), it updates that directory in place instead: every entry is read,
checked and counted as in a full extraction, but only files whose content, mode or link target
changed are written, and entries the new tarball no longer has are removed; the result is the
tree a full extraction would give. Anything it does not handle in place (an entry changing its
type, a hard link) makes it start over with a full extraction.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import os
import shutil
import stat
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from weir.artifact.errors import DigestMismatchError, UnsafeArchiveError

DIR_MODE = 0o750
FILE_MODE = 0o600
EXEC_MODE = 0o700

DEFAULT_MAX_SIZE = 1 << 30  # 1 GiB unpacked
DEFAULT_MAX_FILES = 100_000
_CHUNK = 1 << 16
_COMPARE_MAX = 1 << 20
"""Files up to this size are read into memory, hashed and compared before writing (an in-place
update writes only those that changed); larger ones are streamed and always written."""

DIGEST_ALGORITHMS = ("sha256", "sha384", "sha512")

Filter = Callable[[str, bool], bool]
"""``filter(relpath, is_dir) -> True`` to leave the path out of the archive."""


# --------------------------------------------------------------------------------- digests
def parse_digest(digest: str) -> tuple[str, str]:
    """``"sha256:<hex>"`` -> ("sha256", "<hex>"); raises for an unsupported algorithm."""
    algo, sep, hexdigest = digest.partition(":")
    if not sep or algo not in DIGEST_ALGORITHMS or not hexdigest:
        raise DigestMismatchError(
            f"unsupported artifact digest {digest!r}: expected '<algorithm>:<hex>' with one of "
            f"{', '.join(DIGEST_ALGORITHMS)}"
        )
    return algo, hexdigest.lower()


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """``<algorithm>:<hex>`` of a file's bytes."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return f"{algorithm}:{h.hexdigest()}"


def verify_digest(path: str | os.PathLike[str], expected: str) -> None:
    """Raise :class:`DigestMismatchError` unless the file hashes to ``expected``."""
    algo, want = parse_digest(expected)
    got = file_digest(path, algo)
    if got != f"{algo}:{want}":
        raise DigestMismatchError(
            f"artifact digest mismatch: expected {expected}, got {got}; the file changed or was "
            "corrupted in transit, fetch it again"
        )


# --------------------------------------------------------------------------------- writing
@dataclass(frozen=True)
class TarballInfo:
    digest: str
    size: int
    files: int


class _HashingWriter(io.RawIOBase):
    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.hash = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        b = bytes(data)
        self.out.write(b)
        self.hash.update(b)
        self.size += len(b)
        return len(b)


def _walk(
    root: Path | str, rel: str, keep: Filter | None, out: list[tuple[str, os.stat_result]]
) -> None:
    top = os.fspath(root)
    base = os.path.join(top, rel) if rel else top
    with os.scandir(base) as it:
        names = sorted(e.name for e in it)
    for name in names:
        relpath = f"{rel}/{name}" if rel else name
        st = os.lstat(os.path.join(top, relpath))
        is_dir = stat.S_ISDIR(st.st_mode)
        excluded = keep is not None and keep(relpath, is_dir)
        if is_dir:
            if not excluded:
                out.append((relpath, st))
            # Descend anyway: a pattern may re-include files below an excluded directory.
            _walk(top, relpath, keep, out)
        elif not excluded and (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            out.append((relpath, st))


def _link_inside(root: Path, relpath: str) -> str | None:
    """The symlink's target if it resolves inside ``root`` (and exists), else None."""
    target = os.readlink(root / relpath)
    if os.path.isabs(target):
        return None
    real_root = os.path.realpath(root)
    resolved = os.path.realpath(root / relpath)
    if not (resolved == real_root or resolved.startswith(real_root + os.sep)):
        return None
    if not os.path.exists(resolved):
        return None
    return target


_NUL = b"\0"
_USTAR_MAGIC = b"ustar\x0000"
_TYPES = {"dir": tarfile.DIRTYPE, "link": tarfile.SYMTYPE, "file": tarfile.REGTYPE}


def _octal(value: int, digits: int) -> bytes:
    return b"%0*o" % (digits - 1, value) + _NUL


def _field(value: bytes, length: int) -> bytes:
    return value + _NUL * (length - len(value))


def tar_header(name: str, kind: str, mode: int, size: int, linkname: str = "") -> bytes:
    """The header :mod:`tarfile` writes (``PAX_FORMAT``, mtime/uid/gid 0, no owner names) for
    an entry of ``kind`` ``file``, ``dir`` or ``link``, built directly for the usual case (an
    ASCII name of up to 100 bytes): ``tarfile``'s own code is the costliest part of archiving
    many small files. Anything else goes through ``tarfile``, byte for byte the same."""
    if kind == "dir" and not name.endswith("/"):
        name += "/"
    simple = name.isascii() and linkname.isascii() and len(name) <= 100
    if simple and len(linkname) <= 100 and 0 <= size < 8**11:
        head = b"".join(
            (
                _field(name.encode(), 100),
                _octal(mode & 0o7777, 8),
                _octal(0, 8),
                _octal(0, 8),
                _octal(size, 12),
                _octal(0, 12),
                b"        ",
                _TYPES[kind],
                _field(linkname.encode(), 100),
                _USTAR_MAGIC,
                _NUL * 64,  # uname, gname
                _NUL * 16,  # devmajor, devminor
                _NUL * 155,  # prefix
                _NUL * 12,
            )
        )
        checksum = sum(head)
        return head[:148] + b"%06o\0" % checksum + head[155:]
    info = tarfile.TarInfo(name)
    info.type = _TYPES[kind]
    info.mode = mode
    info.size = size
    info.linkname = linkname
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _write_file_entry(gz: gzip.GzipFile, path: str, relpath: str, mode: int) -> int:
    """Header, content and padding of a regular file; returns the bytes written."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        header = tar_header(relpath, "file", mode, size)
        gz.write(header)
        left = size
        while left:
            chunk = fh.read(min(left, _CHUNK))
            if not chunk:
                raise OSError(f"{relpath} shrank while it was archived")
            gz.write(chunk)
            left -= len(chunk)
    padding = -size % tarfile.BLOCKSIZE
    gz.write(_NUL * padding)
    return len(header) + size + padding


def write_tarball(
    src: str | os.PathLike[str], out: BinaryIO, exclude: Filter | None = None
) -> TarballInfo:
    """Write ``src`` as a reproducible tar.gz to ``out``; returns its sha256 digest and size.

    The bytes are those of :mod:`tarfile` in ``PAX_FORMAT`` through a stream (``w|``),
    compressed by :class:`gzip.GzipFile` (level 6, no name, mtime 0); the headers are built by
    :func:`tar_header` and the stream written here, which is several times faster."""
    root = Path(src)
    top = os.fspath(root)
    entries: list[tuple[str, os.stat_result]] = []
    _walk(root, "", exclude, entries)
    writer = _HashingWriter(out)
    files = 0
    offset = 0
    # A fixed gzip header (no file name, mtime 0) keeps the bytes reproducible.
    with gzip.GzipFile(filename="", mode="wb", fileobj=writer, mtime=0, compresslevel=6) as gz:
        for relpath, st in entries:
            if stat.S_ISDIR(st.st_mode):
                block = tar_header(relpath, "dir", DIR_MODE, 0)
            elif stat.S_ISLNK(st.st_mode):
                target = _link_inside(root, relpath)
                if target is None:
                    continue
                block = tar_header(relpath, "link", 0o777, 0, target)
            else:
                mode = EXEC_MODE if st.st_mode & 0o111 else FILE_MODE
                offset += _write_file_entry(gz, os.path.join(top, relpath), relpath, mode)
                files += 1
                continue
            gz.write(block)
            offset += len(block)
        # tarfile's end: two zero blocks, then zeros up to a whole record
        end = 2 * tarfile.BLOCKSIZE
        end += -(offset + end) % tarfile.RECORDSIZE
        gz.write(_NUL * end)
    return TarballInfo(f"sha256:{writer.hash.hexdigest()}", writer.size, files)


# ------------------------------------------------------------------------------ extraction
def _safe_name(name: str) -> list[str]:
    """Components of a member name; raises for absolute paths and ``..``."""
    if not name or "\x00" in name:
        raise UnsafeArchiveError(f"tarball entry with an empty or invalid name {name!r}")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"tarball entry {name!r} has an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UnsafeArchiveError(f"tarball entry {name!r} climbs out with '..'")
    return parts


def _check_parents(dest: Path, parts: list[str]) -> Path:
    """Create the parent directories of an entry; refuse to go through anything but real dirs."""
    current = dest
    for part in parts[:-1]:
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            os.mkdir(current, DIR_MODE | 0o700)
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafeArchiveError(
                f"tarball entry {'/'.join(parts)!r} would be written through "
                f"{current.relative_to(dest)!s}, which is not a directory"
            )
    return current / parts[-1]


def _inside(dest_real: str, path: str) -> bool:
    return path == dest_real or path.startswith(dest_real + os.sep)


def extract(
    tarball: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    expected_digest: str | None,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    max_files: int = DEFAULT_MAX_FILES,
) -> int:
    """Verify ``tarball`` against ``expected_digest`` and unpack it into ``dest`` safely.

    ``dest`` is created if missing and must be empty. Returns the number of entries written.
    Raises :class:`DigestMismatchError` or :class:`UnsafeArchiveError`; nothing is ever written
    outside ``dest``, and ``dest`` is emptied again on failure.
    """
    tree = extract_tree(tarball, dest, expected_digest, max_size=max_size, max_files=max_files)
    return tree.entries


@dataclass(frozen=True)
class Tree:
    """What an extraction wrote: ``files`` maps every regular file and symlink (relative path)
    to a digest of what it is (:func:`entry_digest`), ``dirs`` holds every directory (``.`` is
    not listed)."""

    files: dict[str, bytes]
    dirs: frozenset[str]
    entries: int
    """Tarball entries read."""
    written: int
    """Files, links and directories created or replaced (all of them in a full extraction)."""


def entry_digest(data: bytes, executable: bool) -> bytes:
    """The :attr:`Tree.files` value of a regular file: sha256 of its content, then its mode."""
    return hashlib.sha256(data).digest() + (b"x" if executable else b"-")


def link_digest(target: str) -> bytes:
    """The :attr:`Tree.files` value of a symlink."""
    return b"link:" + target.encode("utf-8", "surrogateescape")


class _StartOver(Exception):
    """The in-place update met something it does not handle: extract in full instead."""


def extract_tree(
    tarball: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    expected_digest: str | None,
    *,
    base: Tree | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
    max_files: int = DEFAULT_MAX_FILES,
) -> Tree:
    """:func:`extract`, returning the :class:`Tree`. With ``base`` (the tree of the directory
    ``dest`` holds, as an earlier :func:`extract_tree` returned it), update ``dest`` in place
    (see the module docstring). On failure ``dest`` is emptied, as by :func:`extract`."""
    out = Path(dest)
    if base is None:
        out.mkdir(parents=True, exist_ok=True)
        if any(out.iterdir()):
            raise UnsafeArchiveError(f"extraction directory {out} is not empty")
    with open(tarball, "rb") as fh:
        _check_digest(fh, expected_digest)
        try:
            if base is not None:
                try:
                    return _extract_tree(fh, out, max_size, max_files, base)
                except _StartOver:
                    _empty(out)
                    fh.seek(0)
            return _extract_tree(fh, out, max_size, max_files, None)
        except BaseException:
            _empty(out)
            raise


def _check_digest(fh: BinaryIO, expected_digest: str | None) -> None:
    if expected_digest is None:
        return
    algo, want = parse_digest(expected_digest)
    h = hashlib.new(algo)
    while chunk := fh.read(_CHUNK):
        h.update(chunk)
    if h.hexdigest() != want:
        raise DigestMismatchError(
            f"artifact digest mismatch: expected {expected_digest}, got "
            f"{algo}:{h.hexdigest()}; fetch the artifact again"
        )
    fh.seek(0)


def _extract_tree(
    fh: BinaryIO, dest: Path, max_size: int, max_files: int, base: Tree | None
) -> Tree:
    unpacker = _Unpacker(None, dest, max_size, max_files, base)
    _unpack_all(fh, unpacker)
    if base is not None:
        unpacker.remove_stale()
    unpacker.check_links()
    return Tree(unpacker.files, frozenset(unpacker.dirs), unpacker.count, unpacker.written)


def _unpack_all(fh: BinaryIO, unpacker: _Unpacker) -> None:
    # gzip (every artifact) is decompressed by GzipFile: tarfile's own streaming decompression
    # re-slices its whole buffer for every 512-byte block, quadratic in how well the data
    # compresses (most of the time of unpacking 10,000 small files). Others: tarfile detects.
    start = fh.read(2)
    fh.seek(0)
    try:
        if start == b"\x1f\x8b":
            gz = gzip.GzipFile(fileobj=fh, mode="rb")
            tar = tarfile.open(fileobj=gz, mode="r|")  # noqa: SIM115 - closed by the with below
        else:
            tar = tarfile.open(fileobj=fh, mode="r|*")  # noqa: SIM115 - ditto
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise UnsafeArchiveError(f"artifact is not a readable tarball: {exc}") from exc
    unpacker.tar = tar
    with tar:
        try:
            for member in tar:
                unpacker.add(member)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise UnsafeArchiveError(f"artifact tarball is corrupt: {exc}") from exc


class _Unpacker:
    """Writes the members of a streamed tarball under ``dest``, one at a time, refusing
    anything that would escape it or exceed the limits, and records the :class:`Tree`.

    With ``base`` (the tree ``dest`` already holds), entries equal to the base's are left as
    they are and only the others are written; :meth:`remove_stale` then removes what the
    tarball no longer has. An entry whose type differs from the base's raises
    :class:`_StartOver`."""

    def __init__(
        self,
        tar: tarfile.TarFile | None,
        dest: Path,
        max_size: int,
        max_files: int,
        base: Tree | None = None,
    ) -> None:
        self.tar = tar
        self.dest_real = os.path.realpath(dest)
        self.dest_abs = os.path.abspath(dest)
        self.dest = Path(self.dest_abs)
        self.max_size = max_size
        self.max_files = max_files
        self.base = base
        self.total = 0
        self.count = 0
        self.written = 0
        self.links: list[Path] = []
        self.files: dict[str, bytes] = {}
        self.dirs: set[str] = set()

    def add(self, member: tarfile.TarInfo) -> None:
        self.count += 1
        if self.count > self.max_files:
            raise UnsafeArchiveError(
                f"tarball has more than {self.max_files} entries; refusing to unpack it"
            )
        parts = _safe_name(member.name)
        if not parts:
            return  # "." or "./": the root itself
        rel = "/".join(parts)
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if self.base is not None and parent in self.base.files:
                raise _StartOver(parent)  # a file or link of the base becomes a directory
            self.dirs.add(parent)
        if rel in self.files:
            raise UnsafeArchiveError(f"duplicate tarball entry {member.name!r}")
        base = self.base
        if member.isdir():
            if base is not None and rel in base.files:
                raise _StartOver(rel)
            self.dirs.add(rel)
            if base is not None and rel in base.dirs:
                return  # there already (the base's directories are real directories)
            target = _check_parents(self.dest, parts)
            self._directory(member, target, _lstat(target))
            return
        if rel in self.dirs:
            raise UnsafeArchiveError(f"duplicate tarball entry {member.name!r}")
        if member.isreg():
            self._grow(member.size)
            self._regular(member, parts, rel)
        elif member.issym():
            self._symlink(member, parts, rel)
        elif member.islnk():
            if base is not None:
                raise _StartOver(rel)
            target = _check_parents(self.dest, parts)
            if _lstat(target) is not None:
                raise UnsafeArchiveError(f"duplicate tarball entry {member.name!r}")
            self._hardlink(member, target, rel)
        else:
            _refuse_special(member)

    def _replace(self, parts: list[str], rel: str) -> Path:
        """The path to write ``rel`` at: its parents made, and the base's entry of the same
        type removed (an entry of another type makes the update start over)."""
        base = self.base
        if base is not None:
            if rel in base.dirs:
                raise _StartOver(rel)
            if rel in base.files:
                target = self.dest.joinpath(*parts)
                os.unlink(target)
                return target
        target = _check_parents(self.dest, parts)
        if _lstat(target) is not None:
            if base is not None:
                raise _StartOver(rel)  # on disk, yet not in the base: not the tree it says
            raise UnsafeArchiveError(f"duplicate tarball entry {rel!r}")
        return target

    def _regular(self, member: tarfile.TarInfo, parts: list[str], rel: str) -> None:
        assert self.tar is not None
        src = self.tar.extractfile(member)
        assert src is not None
        executable = bool(member.mode & 0o111)
        if member.size > _COMPARE_MAX:  # written again, streamed: not held in memory
            if self.base is not None and self.base.files.get(rel, b"").startswith(b"link:"):
                raise _StartOver(rel)
            target = self._replace(parts, rel)
            self.files[rel] = _stream_file(target, src, member.mode)
            self.written += 1
            return
        data = src.read()
        digest = entry_digest(data, executable)
        self.files[rel] = digest
        old = self.base.files.get(rel) if self.base is not None else None
        if old is not None and old == digest:
            return
        if old is not None and old.startswith(b"link:"):
            raise _StartOver(rel)
        target = self._replace(parts, rel)
        _write_file(target, data, member.mode)
        self.written += 1

    def _grow(self, size: int) -> None:
        self.total += size
        if self.total > self.max_size:
            raise UnsafeArchiveError(
                f"tarball unpacks to more than {self.max_size} bytes; refusing it"
            )

    def _directory(
        self, member: tarfile.TarInfo, target: Path, existing: os.stat_result | None
    ) -> None:
        if existing is None:
            os.mkdir(target, DIR_MODE | 0o700)
            self.written += 1
        elif not stat.S_ISDIR(existing.st_mode):
            raise UnsafeArchiveError(f"duplicate tarball entry {member.name!r}")

    def _symlink(self, member: tarfile.TarInfo, parts: list[str], rel: str) -> None:
        link = member.linkname
        if not link or os.path.isabs(link):
            raise UnsafeArchiveError(f"symlink {member.name!r} points to an absolute path {link!r}")
        where = self.dest.joinpath(*parts)
        resolved = os.path.normpath(os.path.join(os.path.dirname(where), link))
        if not _inside(self.dest_abs, resolved):
            raise UnsafeArchiveError(
                f"symlink {member.name!r} points outside the artifact: {link!r}"
            )
        digest = link_digest(link)
        self.files[rel] = digest
        self.links.append(where)
        old = self.base.files.get(rel) if self.base is not None else None
        if old is not None and old == digest:
            return
        if old is not None and not old.startswith(b"link:"):
            raise _StartOver(rel)
        target = self._replace(parts, rel)
        os.symlink(link, target)
        self.written += 1

    def _hardlink(self, member: tarfile.TarInfo, target: Path, rel: str) -> None:
        lparts = _safe_name(member.linkname)
        source = self.dest.joinpath(*lparts) if lparts else self.dest
        sst = _lstat(source)
        if sst is None or not stat.S_ISREG(sst.st_mode):
            raise UnsafeArchiveError(
                f"hard link {member.name!r} must point to a regular file extracted "
                f"before it, not {member.linkname!r}"
            )
        self._grow(sst.st_size)
        shutil.copyfile(source, target, follow_symlinks=False)
        self.files[rel] = self.files.get("/".join(lparts), b"")
        self.written += 1

    def remove_stale(self) -> None:
        """(In-place update.) Remove the base's entries the tarball no longer has: files and
        links first, then directories, deepest first."""
        assert self.base is not None
        for rel in self.base.files.keys() - self.files.keys():
            if rel in self.dirs:
                raise _StartOver(rel)
            os.unlink(self.dest.joinpath(*rel.split("/")))
            self.written += 1
        stale = sorted(self.base.dirs - self.dirs, key=lambda d: d.count("/"), reverse=True)
        for rel in stale:
            if rel in self.files:
                raise _StartOver(rel)
            try:
                os.rmdir(self.dest.joinpath(*rel.split("/")))
            except OSError as e:
                raise _StartOver(rel) from e
            self.written += 1

    def check_links(self) -> None:
        """Links are checked again once everything exists: a later entry can change what an
        earlier link resolves to."""
        for link_path in self.links:
            if not _inside(self.dest_real, os.path.realpath(link_path)):
                raise UnsafeArchiveError(
                    f"symlink {link_path.relative_to(self.dest)!s} resolves outside the artifact"
                )
            try:
                os.stat(link_path)
            except OSError as e:
                # A dangling link is harmless; a loop makes every reader of the tree fail
                # (ELOOP; pathlib's resolve raises RuntimeError), so it is refused.
                if e.errno == errno.ELOOP:
                    raise UnsafeArchiveError(
                        f"symlink {link_path.relative_to(self.dest)!s} is a loop"
                    ) from e


def _refuse_special(member: tarfile.TarInfo) -> None:
    kind = "device" if (member.ischr() or member.isblk()) else "special file"
    if member.isfifo():
        kind = "FIFO"
    raise UnsafeArchiveError(
        f"tarball entry {member.name!r} is a {kind}; artifacts hold only files, "
        "directories and links"
    )


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # "b/a" where b is a file: nothing there
        return None


def _stream_file(target: Path, src: IO[bytes], mode: int) -> bytes:
    """Write ``src`` to a new file; returns its :func:`entry_digest`."""
    perm = 0o755 if mode & 0o111 else 0o644
    h = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, perm)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(fd, perm)
        while chunk := src.read(_CHUNK):
            h.update(chunk)
            out.write(chunk)
    return h.digest() + (b"x" if mode & 0o111 else b"-")


def _write_file(target: Path, data: bytes, mode: int) -> None:
    perm = 0o755 if mode & 0o111 else 0o644
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, perm)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(fd, perm)
        out.write(data)


def _empty(directory: Path) -> None:
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
