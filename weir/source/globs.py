"""The two glob dialects of an ArtifactGenerator's copy operations, as source-watcher uses them.

- :func:`go_glob`: Go's ``io/fs.Glob`` (``from`` patterns of the ``Overwrite`` and ``Merge``
  strategies). Each component is matched with ``path.Match``: ``*`` and ``?`` never cross
  ``/``, and ``**`` is no different from ``*`` (``deploy/**`` is every entry *directly* under
  ``deploy``; directories among them are then copied whole). Matches are files and
  directories, in name order per directory.
- :func:`doublestar_match` / :func:`doublestar_glob`: bmatcuk/doublestar v4 (``exclude``
  patterns, and ``from`` patterns of the ``Extract`` strategy): ``**`` as a whole component
  matches any number of directories (zero included), ``{a,b}`` alternatives, ``[!a]`` or
  ``[^a]`` negated classes.

Malformed patterns raise :class:`GlobError`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from weir.errors import ConfigError
from weir.source.ignore import component_matcher

_META = "*?[\\"


class GlobError(ConfigError):
    """A malformed glob pattern."""


def has_meta(pattern: str) -> bool:
    """Whether ``pattern`` has glob characters (Go's ``hasMeta``: ``*?[\\``)."""
    return any(c in pattern for c in _META)


# --------------------------------------------------------------------------- io/fs.Glob
def _component(glob: str) -> Callable[[str], bool]:
    rx = component_matcher(glob)
    if rx is None:
        raise GlobError(f"syntax error in pattern {glob!r}")
    return rx


def _entries(root: Path, rel: str) -> list[os.DirEntry[str]]:
    directory = root / rel if rel != "." else root
    try:
        with os.scandir(directory) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError:
        return []  # as Go: an unreadable directory contributes nothing


def go_glob(root: Path, pattern: str) -> list[str]:
    """The paths under ``root`` (relative, ``/``-separated) that ``pattern`` matches, as Go's
    ``fs.Glob(os.DirFS(root), pattern)`` returns them."""
    for part in pattern.split("/"):
        _component(part)  # Go checks the whole pattern first
    return _go_glob(root, pattern)


def _go_glob(root: Path, pattern: str) -> list[str]:
    if not has_meta(pattern):
        target = root / pattern if pattern not in ("", ".") else root
        return [pattern] if os.path.lexists(target) else []
    directory, _, name = pattern.rpartition("/")
    directory = directory or "."
    if not has_meta(directory):
        return _match_in(root, directory, name)
    matches: list[str] = []
    for found in _go_glob(root, directory):
        if (root / found).is_dir():
            matches += _match_in(root, found, name)
    return matches


def _match_in(root: Path, directory: str, name: str) -> list[str]:
    rx = _component(name)
    return [
        e.name if directory == "." else f"{directory}/{e.name}"
        for e in _entries(root, directory)
        if rx(e.name)
    ]


# --------------------------------------------------------------------------- doublestar
def _class(pattern: str, i: int) -> tuple[str, int]:
    """A ``[...]`` class starting after ``[`` at ``i``: its regex and the index after ``]``."""
    n = len(pattern)
    out = "["
    if i < n and pattern[i] in "!^":
        out += "^"
        i += 1
    first = True
    while i < n and (pattern[i] != "]" or first):
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            i += 1
            out += re.escape(pattern[i])
        elif c == "-" and not first:
            out += "-"
        else:
            out += re.escape(c)
        first = False
        i += 1
    if i >= n:
        raise GlobError(f"syntax error in pattern {pattern!r}: unclosed '['")
    return out + "]", i + 1


def _segment(pattern: str, i: int, stop: str) -> tuple[str, int]:
    """Regex of ``pattern`` from ``i`` up to one of ``stop`` (outside brackets/braces)."""
    out: list[str] = []
    n = len(pattern)
    while i < n and pattern[i] not in stop:
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            i += 1
            if i >= n:
                raise GlobError(f"syntax error in pattern {pattern!r}: trailing '\\'")
            out.append(re.escape(pattern[i]))
        elif c == "[":
            part, i = _class(pattern, i + 1)
            out.append(part)
            continue
        elif c == "{":
            alternatives: list[str] = []
            i += 1
            while True:
                part, i = _segment(pattern, i, ",}")
                alternatives.append(part)
                if i >= n:
                    raise GlobError(f"syntax error in pattern {pattern!r}: unclosed '{{'")
                if pattern[i] == "}":
                    break
                i += 1
            out.append("(?:" + "|".join(alternatives) + ")")
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out), i


@lru_cache(maxsize=1024)
def _doublestar_regex(pattern: str) -> re.Pattern[str]:
    pieces: list[str | None] = []  # None: a ``**`` component
    for part in pattern.split("/"):
        if part == "**":
            if not pieces or pieces[-1] is not None:
                pieces.append(None)
            continue
        regex, _ = _segment(part, 0, "")
        pieces.append(regex)
    out = ""
    last = len(pieces) - 1
    for index, piece in enumerate(pieces):
        if piece is None:
            if index == 0:
                out += ".*" if last == 0 else "(?:.*/)?"
            else:
                out += "(?:/.*)?" if index == last else "/(?:.*/)?"
            continue
        if index and pieces[index - 1] is not None:
            out += "/"
        out += piece
    return re.compile(out + r"\Z", re.DOTALL)


def check_doublestar(pattern: str) -> None:
    """Raise :class:`GlobError` when ``pattern`` is malformed."""
    _doublestar_regex(pattern)


def doublestar_match(pattern: str, path: str) -> bool:
    """Whether the ``/``-separated ``path`` matches ``pattern`` (doublestar's ``Match``)."""
    return _doublestar_regex(pattern).match(path) is not None


def doublestar_glob(root: Path, pattern: str) -> list[str]:
    """Every path under ``root`` (files and directories, relative) matching ``pattern``, in
    walk order; symlinks are not followed."""
    rx = _doublestar_regex(pattern)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(dirnames + filenames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            if rx.match(rel):
                found.append(rel)
    return found
