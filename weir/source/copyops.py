"""The copy operations of an ArtifactGenerator: files of extracted source artifacts copied into
the staging directory of one output artifact, with source-watcher's ``cp``-like semantics.

``from: "@<alias>/<path or glob>"``, ``to: "@artifact/<path>"``:

========================================= ================================================
``@src/config.yaml`` -> ``@artifact/x.yaml``  the file, renamed (into ``x.yaml/`` if that is
                                             an existing directory)
``@src/config.yaml`` -> ``@artifact/apps/``   ``apps/config.yaml``
``@src/configs`` or ``@src/configs/``         the directory as a subdirectory:
-> ``@artifact/apps``                        ``apps/configs/...``
``@src/`` -> ``@artifact/``                    the whole source into the root
``@src/configs/**`` -> ``@artifact/apps/``    the contents of ``configs``: ``apps/...``
``@src/*.yaml`` -> ``@artifact/apps/``        each match at its own path under ``apps/``
                                             (``@src/cfg/*.yaml`` gives ``apps/cfg/x.yaml``)
========================================= ================================================

Globs other than ``Extract``'s are Go's ``fs.Glob`` (``**`` is ``*``: one level, whose
directories are copied whole); see :mod:`weir.source.globs`. ``exclude`` patterns
(doublestar) apply to glob matches (their path in the source), to the files of a copied
directory (their path below it) and to a single file; a pattern without ``/`` also matches
the file name at any depth.

Strategies: ``Overwrite`` (default) replaces existing files; ``Merge`` deep-merges a YAML file
into an existing one as Helm merges values files (maps merge, everything else is replaced;
the documents of a multi-document file are merged first; the result has sorted keys); without
an existing file it is a plain copy. ``Extract`` unpacks ``.tar.gz``/``.tgz`` files (other
glob matches are skipped) into the destination directory.

Every path stays inside its root: a ``from`` or ``to`` that leaves it (``..``) is refused.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tempfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from weir import yamlio
from weir.artifact.errors import ArtifactError
from weir.artifact.tarball import extract
from weir.errors import WeirError
from weir.source.globs import GlobError, check_doublestar, doublestar_glob, doublestar_match
from weir.source.globs import go_glob as fs_glob

OVERWRITE, MERGE, EXTRACT = "Overwrite", "Merge", "Extract"
TARBALL_SUFFIXES = (".tar.gz", ".tgz")


class CopyError(WeirError):
    """A copy operation cannot be applied (missing source, bad pattern, YAML merge, ...)."""


@dataclass(frozen=True)
class Copy:
    """One copy operation (``spec.artifacts[].copy[]``)."""

    from_: str
    to: str
    exclude: Sequence[str] = ()
    strategy: str = OVERWRITE


# ----------------------------------------------------------------------------- paths
def _clean(rel: str, what: str) -> str:
    """``rel`` cleaned as Go's ``filepath.Clean`` (``"" -> "."``); an escape is refused."""
    clean = posixpath.normpath(rel) if rel else "."
    if clean.startswith("/") or clean == ".." or clean.startswith("../"):
        raise CopyError(f"{what} '{rel}' leaves its root")
    return clean


def _join(base: str, name: str) -> str:
    return posixpath.normpath(posixpath.join(base, name)) if base else posixpath.normpath(name)


def is_tarball(path: str) -> bool:
    return path.lower().endswith(TARBALL_SUFFIXES)


def _excluded(path: str, patterns: Sequence[str]) -> bool:
    name = posixpath.basename(path)
    for pattern in patterns:
        if doublestar_match(pattern, path):
            return True
        if "/" not in pattern and doublestar_match(pattern, name):
            return True
    return False


def _glob_destination(pattern: str, match: str, dest: str) -> str:
    if pattern.endswith("/**"):
        prefix = pattern[: -len("/**")]
        if match.startswith(prefix + "/"):
            return _join(dest, match[len(prefix) + 1 :])
    return _join(dest, match)


# ----------------------------------------------------------------------------- the operation
def apply_copy(op: Copy, sources: Mapping[str, Path], staging: Path) -> None:
    """Apply one copy operation into ``staging`` (see the module docstring)."""
    if not op.from_.startswith("@") or "/" not in op.from_:
        raise CopyError(f"invalid copy source '{op.from_}': use '@alias/pattern'")
    alias, pattern = op.from_[1:].split("/", 1)
    if not op.to.startswith("@artifact/"):
        raise CopyError(f"invalid copy destination '{op.to}': it must start with '@artifact/'")
    dest = op.to[len("@artifact/") :]
    _clean(dest, "destination")
    root = sources.get(alias)
    if root is None:
        raise CopyError(f"source alias '{alias}' not found")
    for exclude in op.exclude:
        try:
            check_doublestar(exclude)
        except GlobError as e:
            raise CopyError(f"invalid exclude pattern '{exclude}'") from e
    if not any(c in pattern for c in "*?[]"):
        _copy_single(op, root, _clean(pattern, "source"), staging, dest)
        return
    _clean(pattern, "source pattern")
    try:
        matches = (doublestar_glob if op.strategy == EXTRACT else fs_glob)(root, pattern)
    except GlobError as e:
        raise CopyError(f"invalid glob pattern '{pattern}': {e}") from e
    if not matches:
        raise CopyError(f"no files match pattern '{pattern}' in source '{alias}'")
    kept = [m for m in matches if m not in (".", "..") and not _excluded(m, op.exclude)]
    if not kept:
        raise CopyError(f"all files matching pattern '{pattern}' in source '{alias}' were excluded")
    for match in kept:
        if op.strategy == EXTRACT:
            if is_tarball(match) and (root / match).is_file():
                _extract(root / match, staging, dest)
            continue
        target = _glob_destination(pattern, match, dest)
        try:
            _copy_path(op, root, match, staging, target)
        except CopyError as e:
            raise CopyError(f"failed to copy file '{match}' to '{target}': {e}") from e


def _copy_single(op: Copy, root: Path, src: str, staging: Path, dest: str) -> None:
    path = root / src if src != "." else root
    if not os.path.lexists(path):
        raise CopyError(f"source '{src}' does not exist")
    if path.is_dir():
        if op.strategy == EXTRACT:
            raise CopyError(f"extract strategy is not supported for directories, got '{src}'")
        _copy_path(op, root, src, staging, _join(dest, posixpath.basename(src)))
        return
    if _excluded(src, op.exclude):
        return
    if op.strategy == EXTRACT:
        if not is_tarball(src):
            raise CopyError(
                f"extract strategy requires tarball file (.tar.gz or .tgz), got '{src}'"
            )
        _extract(path, staging, dest)
        return
    name = posixpath.basename(src)
    if op.to.endswith("/") or (staging / dest).is_dir():
        target = _join(dest, name)
    else:
        target = _join(dest, "")
    _copy_path(op, root, src, staging, target)


def _copy_path(op: Copy, root: Path, src: str, staging: Path, dest: str) -> None:
    path = root / src if src != "." else root
    if path.is_dir():
        _copy_dir(path, staging, dest, op.exclude)
    elif op.strategy == MERGE and (staging / dest).is_file():
        _merge(path, staging / dest)
    else:
        _copy_file(path, staging, dest)


def _copy_dir(src: Path, staging: Path, dest: str, exclude: Sequence[str]) -> None:
    _mkdirs(staging, dest)
    for dirpath, dirnames, filenames in os.walk(src):
        rel_dir = os.path.relpath(dirpath, src).replace(os.sep, "/")
        for name in sorted(dirnames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if _excluded(rel, exclude) or os.path.islink(os.path.join(dirpath, name)):
                dirnames.remove(name)  # links to directories are not followed
            else:
                _mkdirs(staging, _join(dest, rel))
        for name in sorted(filenames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if not _excluded(rel, exclude):
                _copy_file(Path(dirpath) / name, staging, _join(dest, rel))


def _mkdirs(staging: Path, rel: str) -> None:
    if rel in ("", "."):
        return
    try:
        (staging / rel).mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as e:
        raise CopyError(f"cannot create directory '{rel}': a file is in the way") from e


def _copy_file(src: Path, staging: Path, dest: str) -> None:
    if dest in ("", "."):
        raise CopyError(f"cannot copy the file '{src.name}' onto the artifact root")
    _mkdirs(staging, posixpath.dirname(dest))
    target = staging / dest
    if target.is_dir():
        raise CopyError(f"cannot overwrite directory '{dest}' with a file")
    try:
        mode = src.stat().st_mode
        with open(src, "rb") as fin, open(target, "wb") as fout:
            shutil.copyfileobj(fin, fout)
    except IsADirectoryError as e:
        raise CopyError(f"'{src.name}' is a link to a directory; copy the directory itself") from e
    os.chmod(target, stat.S_IMODE(mode) | 0o600)


# ----------------------------------------------------------------------------- merge
def _load_merged(path: Path, what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        docs = list(yamlio.load_all(path.read_text()))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise CopyError(f"error reading YAML document {what}: {e}") from e
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise CopyError(f"cannot unmarshal YAML document {what}: not a map")
        out = merge_maps(out, doc)
    return out


def merge_maps(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's values merge: maps merge recursively, anything else (lists too) is replaced."""
    out = dict(base)
    for key, value in overlay.items():
        current = out.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            out[key] = merge_maps(current, value)
        else:
            out[key] = value
    return out


def _sorted(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _merge(src: Path, dest: Path) -> None:
    merged = merge_maps(
        _load_merged(dest, "in the destination"), _load_merged(src, "in the source")
    )
    dest.write_text(yamlio.dump(_sorted(merged)))


# ----------------------------------------------------------------------------- extract
def _extract(tarball: Path, staging: Path, dest: str) -> None:
    rel = _clean(dest, "destination")
    _mkdirs(staging, rel)
    with tempfile.TemporaryDirectory(prefix="weir-extract-") as tmp:
        out = Path(tmp) / "out"
        try:
            extract(tarball, out, None)
        except ArtifactError as e:
            raise CopyError(f"failed to extract tarball '{tarball.name}': {e}") from e
        _copy_dir(out, staging, rel, ())


# ----------------------------------------------------------------------------- the artifact
def build(copies: Sequence[Copy], sources: Mapping[str, Path], staging: Path) -> None:
    """Apply ``copies`` in order into ``staging`` (created if missing)."""
    staging.mkdir(parents=True, exist_ok=True)
    for op in copies:
        try:
            apply_copy(op, sources, staging)
        except CopyError as e:
            raise CopyError(
                f"failed to apply copy operation from '{op.from_}' to '{op.to}': {e}"
            ) from e


def dir_hash(staging: Path, prefix: str) -> str:
    """source-watcher's content hash of a staging directory (its artifact file name): Adler-32
    over ``"<adler32 hex>  <prefix>/<path>\\n"`` lines of the files in path order, decimal."""
    files: list[tuple[str, Path]] = []
    for dirpath, _, filenames in os.walk(staging):
        rel_dir = os.path.relpath(dirpath, staging).replace(os.sep, "/")
        for name in filenames:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            files.append((f"{prefix}/{rel}", Path(dirpath) / name))
    summary = zlib.adler32(b"")
    for name, path in sorted(files):
        if "\n" in name:
            raise CopyError("file names with newlines are not supported")
        digest = zlib.adler32(b"")
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest = zlib.adler32(chunk, digest)
        summary = zlib.adler32(f"{digest:x}  {name}\n".encode(), summary)
    return str(summary)
