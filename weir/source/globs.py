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
# A pattern is matched component by component: each ``{a,b}`` group is expanded into plain
# ``path.Match`` globs (bounded by :data:`MAX_ALTERNATIVES`), each of which matches a path
# component in time bounded by the product of both lengths, and ``**`` components are walked
# as a set of reachable positions. No regular expression is built from the pattern: several
# stars in one component made Python's backtracking engine exponential on a crafted name
# (a pattern comes from an ArtifactGenerator, which a tenant may write).
MAX_ALTERNATIVES = 256

ComponentMatchers = tuple[Callable[[str], bool], ...]


def _closing(pattern: str, i: int) -> int:
    """The index after the ``[...]`` class whose ``[`` is at ``i - 1``."""
    n = len(pattern)
    if i < n and pattern[i] in "!^":
        i += 1
    if i < n and pattern[i] == "]":
        i += 1
    while i < n and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    if i >= n:
        raise GlobError(f"syntax error in pattern {pattern!r}: unclosed '['")
    return i + 1


def _expand(pattern: str, part: str) -> list[str]:
    """``part`` with its ``{a,b}`` groups expanded and ``[!`` written as Go's ``[^``."""
    out, i, n = [""], 0, len(part)
    while i < n:
        c = part[i]
        if c == "\\":
            if i + 1 >= n:
                raise GlobError(f"syntax error in pattern {pattern!r}: trailing '\\'")
            piece, i = part[i : i + 2], i + 2
        elif c == "[":
            j = _closing(part, i + 1)
            piece = part[i:j]
            if piece.startswith("[!"):
                piece = "[^" + piece[2:]
            i = j
        elif c == "{":
            alternatives, i = _alternatives(pattern, part, i + 1)
            out = [head + alt for head in out for alt in alternatives]
            if len(out) > MAX_ALTERNATIVES:
                raise GlobError(
                    f"pattern {pattern!r} expands to more than {MAX_ALTERNATIVES} alternatives"
                )
            continue
        else:
            piece, i = c, i + 1
        out = [head + piece for head in out]
    return out


def _alternatives(pattern: str, part: str, i: int) -> tuple[list[str], int]:
    """The expanded alternatives of the ``{...}`` group opened before ``i``, and the index
    after its ``}``."""
    n, depth, start, raw = len(part), 0, i, []
    while i < n:
        c = part[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _closing(part, i + 1)
            continue
        if c == "{":
            depth += 1
        elif c == "}" and depth:
            depth -= 1
        elif c in ",}" and not depth:
            raw.append(part[start:i])
            if c == "}":
                found: list[str] = []
                for alt in raw:
                    found += _expand(pattern, alt)
                return found, i + 1
            start = i + 1
        i += 1
    raise GlobError(f"syntax error in pattern {pattern!r}: unclosed '{{'")


@lru_cache(maxsize=1024)
def _doublestar(pattern: str) -> tuple[ComponentMatchers | None, ...]:
    """One entry per component of ``pattern``: None for ``**``, else the matchers of its
    alternatives."""
    pieces: list[ComponentMatchers | None] = []
    for part in pattern.split("/"):
        if part == "**":
            if not pieces or pieces[-1] is not None:
                pieces.append(None)
            continue
        matchers = []
        for glob in _expand(pattern, part):
            matcher = component_matcher(glob)
            if matcher is None:
                raise GlobError(f"syntax error in pattern {pattern!r}")
            matchers.append(matcher)
        pieces.append(tuple(matchers))
    return tuple(pieces)


def _matches(pieces: tuple[ComponentMatchers | None, ...], path: str) -> bool:
    names = path.split("/")
    reachable = {0}  # how many path components the pattern so far can have consumed
    for piece in pieces:
        if piece is None:
            reachable = set(range(min(reachable), len(names) + 1))
        else:
            reachable = {
                k + 1
                for k in reachable
                if k < len(names) and any(match(names[k]) for match in piece)
            }
        if not reachable:
            return False
    return len(names) in reachable


def check_doublestar(pattern: str) -> None:
    """Raise :class:`GlobError` when ``pattern`` is malformed."""
    _doublestar(pattern)


def doublestar_match(pattern: str, path: str) -> bool:
    """Whether the ``/``-separated ``path`` matches ``pattern`` (doublestar's ``Match``)."""
    return _matches(_doublestar(pattern), path)


def doublestar_glob(root: Path, pattern: str) -> list[str]:
    """Every path under ``root`` (files and directories, relative) matching ``pattern``, in
    walk order; symlinks are not followed."""
    pieces = _doublestar(pattern)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(dirnames + filenames):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            if _matches(pieces, rel):
                found.append(rel)
    return found
