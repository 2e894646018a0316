"""Which files of a checkout go into the artifact: Flux's default exclusions, ``.sourceignore``
files and ``spec.ignore``.

The rules are those of Flux (``fluxcd/pkg/sourceignore`` on go-git's gitignore matcher):

- Patterns come from every ``.sourceignore`` in the tree (each scoped to its directory, the root
  first, then subdirectories depth-first in name order) followed by ``spec.ignore`` (scoped to the
  root). Lines starting with ``#`` and blank lines are skipped.
- If there are none, the defaults apply: the VCS patterns (``.git/``, ``.gitignore``,
  ``.gitmodules``, ``.gitattributes``) and the user defaults (images, archives, CI files, ...).
  If there are any, they *replace* the user defaults; the VCS patterns always stay.
- The last pattern that matches a path decides (``!pattern`` re-includes). Unlike git, a file can
  be re-included even when its parent directory is excluded.
- A pattern without ``/`` matches a name at any depth; a pattern with a ``/`` (other than a
  trailing one) is anchored to the directory of its file. A trailing ``/`` matches directories
  only. A pattern that matches a directory matches everything below it. ``**`` is understood
  only as a whole path component (``**/x``, ``x/**``, ``a/**/b``). Components are matched like
  shell globs (``*``, ``?``, ``[a-z]``, ``[^a-z]``, ``\\`` escapes), never across ``/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

IGNORE_FILE = ".sourceignore"

EXCLUDE_VCS = (".git/", ".gitignore", ".gitmodules", ".gitattributes")
EXCLUDE_EXT = ("*.jpg", "*.jpeg", "*.gif", "*.png", "*.wmv", "*.flv", "*.tar.gz", "*.zip")
EXCLUDE_CI = (
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
)
EXCLUDE_EXTRA = ("**/.goreleaser.yml", "**/.sops.yaml", "**/.flux.yaml")
DEFAULT_PATTERNS = EXCLUDE_EXT + EXCLUDE_CI + EXCLUDE_EXTRA


def _class_char(glob: str, j: int) -> tuple[str | None, int]:
    """One character of a ``[...]`` class at ``j`` (Go's getEsc): ``-`` and ``]`` must be
    escaped. Returns (char or None when malformed, next index)."""
    if j >= len(glob) or glob[j] in "-]":
        return None, j
    if glob[j] == "\\":
        j += 1
        if j >= len(glob):
            return None, j
    return glob[j], j + 1


def _char_class(glob: str, j: int) -> tuple[str | None, int]:
    """The regex of a ``[...]`` class whose body starts at ``j``, and the index of its closing
    ``]``; (None, j) for a malformed class."""
    n = len(glob)
    negate = j < n and glob[j] == "^"
    if negate:
        j += 1
    parts: list[str] = []
    while True:
        if j >= n:
            return None, j
        if glob[j] == "]" and parts:
            break
        lo, j = _class_char(glob, j)
        if lo is None:
            return None, j
        if j < n and glob[j] == "-":
            hi, j = _class_char(glob, j + 1)
            if hi is None or hi < lo:
                return None, j
            parts.append(f"{re.escape(lo)}-{re.escape(hi)}")
        else:
            parts.append(re.escape(lo))
    return ("[^" if negate else "[") + "".join(parts) + "]", j


_ANY = re.compile(r"[^/]", re.DOTALL)
_Token = str | re.Pattern[str] | None
"""One token of a glob: a literal character, a class of one character (``?``, ``[...]``), or
``None`` for ``*``."""


@lru_cache(maxsize=4096)
def _glob_tokens(glob: str) -> tuple[_Token, ...] | None:
    """Parse one path component glob (Go's ``filepath.Match`` syntax) into tokens.

    Returns None for a malformed glob, which then never matches (as in Go).
    """
    out: list[_Token] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            if not out or out[-1] is not None:  # ** within a component is one *
                out.append(None)
        elif c == "?":
            out.append(_ANY)
        elif c == "\\":
            i += 1
            if i >= n:
                return None
            out.append(glob[i])
        elif c == "[":
            part, i = _char_class(glob, i + 1)
            if part is None:
                return None
            out.append(re.compile(part, re.DOTALL))
        else:
            out.append(c)
        i += 1
    return tuple(out)


def _one(token: str | re.Pattern[str], char: str) -> bool:
    if isinstance(token, str):
        return token == char
    return token.fullmatch(char) is not None


@lru_cache(maxsize=8192)
def _match(glob: str, name: str) -> bool:
    """Whether ``name`` (one path component) matches ``glob``; remembered for the most recent
    pairs: archiving a tree matches every pattern against every component of every path, and
    the same directory and file names come back (a quarter of the time of archiving 10,000
    files before). A ``*`` that fails resumes
    from the last ``*`` only, so the time is at most the product of both lengths: a regex of
    ``*a*a*a*a*a*a*a*b`` backtracks exponentially on a long name of a's, and a hostile
    ``.sourceignore`` could stall the source controller with it."""
    tokens = _glob_tokens(glob)
    if tokens is None:
        return False
    t = c = 0
    star, star_c = -1, 0
    while c < len(name):
        token: _Token | bool = tokens[t] if t < len(tokens) else False
        if token is None:
            star, star_c = t, c
            t += 1
        elif not isinstance(token, bool) and _one(token, name[c]):
            t += 1
            c += 1
        elif star >= 0:
            star_c += 1
            t, c = star + 1, star_c
        else:
            return False
    return all(tok is None for tok in tokens[t:])


def component_matcher(glob: str) -> Callable[[str], bool] | None:
    """Whether a path component matches ``glob`` in Go's ``path.Match`` syntax (``*``, ``?``,
    ``[a-z]``, ``[^a-z]``, ``\\`` escapes; never across ``/``), in time bounded by the product
    of both lengths; None when ``glob`` is malformed."""
    if _glob_tokens(glob) is None:
        return None
    return lambda name: _match(glob, name)


@dataclass(frozen=True)
class Pattern:
    """One ignore line, scoped to a directory (``domain``, path components from the root)."""

    parts: tuple[str, ...]
    domain: tuple[str, ...] = ()
    negate: bool = False
    dir_only: bool = False
    anchored: bool = False
    source: str = ""

    @classmethod
    def parse(cls, line: str, domain: Sequence[str] = ()) -> Pattern:
        text = line
        negate = text.startswith("!")
        if negate:
            text = text[1:]
        if not text.endswith("\\ "):
            text = text.rstrip(" ")
        dir_only = text.endswith("/")
        if dir_only:
            text = text[:-1]
        anchored = "/" in text
        return cls(tuple(text.split("/")), tuple(domain), negate, dir_only, anchored, line)

    def match(self, path: Sequence[str], is_dir: bool) -> bool:
        """Whether this pattern matches ``path`` (components relative to the root)."""
        d = len(self.domain)
        if len(path) <= d or tuple(path[:d]) != self.domain:
            return False
        rel = path[d:]
        if self.anchored:
            return self._glob_match(rel, is_dir)
        return self._simple_match(rel, is_dir)

    def _simple_match(self, path: Sequence[str], is_dir: bool) -> bool:
        for i, name in enumerate(path):
            if not _match(self.parts[0], name):
                continue
            return not (self.dir_only and not is_dir and i == len(path) - 1)
        return False

    def _glob_match(self, path: Sequence[str], is_dir: bool) -> bool:
        rest = list(path)
        matched = False
        traverse = False
        last = len(self.parts) - 1
        for i, part in enumerate(self.parts):
            if part == "":
                traverse = False
                continue
            if part == "**":
                if i == last:
                    break
                traverse = True
                continue
            if "**" in part:
                return False
            if not rest:
                return False
            if traverse:
                traverse = False
                while rest:
                    name = rest.pop(0)
                    if _match(part, name):
                        matched = True
                        break
                    if not rest:
                        matched = False
            else:
                if not _match(part, rest[0]):
                    return False
                matched = True
                rest.pop(0)
        if matched and self.dir_only and not is_dir and not rest:
            return False
        return matched


def parse_patterns(text: str, domain: Sequence[str] = ()) -> list[Pattern]:
    """Patterns from gitignore-style text (``spec.ignore`` or a ``.sourceignore`` file)."""
    return [
        Pattern.parse(line, domain)
        for line in text.splitlines()
        if not line.startswith("#") and line.strip()
    ]


def load_sourceignore(root: str | os.PathLike[str], domain: Sequence[str] = ()) -> list[Pattern]:
    """Patterns of every ``.sourceignore`` under ``root``, parents before children."""
    base = Path(root)
    patterns: list[Pattern] = []
    ignore_file = base / IGNORE_FILE
    if ignore_file.is_file() and not ignore_file.is_symlink():
        patterns += parse_patterns(ignore_file.read_text(errors="replace"), domain)
    with os.scandir(base) as entries:
        subdirs = sorted(
            e.name for e in entries if e.is_dir(follow_symlinks=False) and e.name != ".git"
        )
    for name in subdirs:
        patterns += load_sourceignore(base / name, [*domain, name])
    return patterns


class IgnoreRules:
    """A matcher over paths relative to the artifact root; the last matching pattern decides."""

    def __init__(self, patterns: Iterable[Pattern]) -> None:
        self.patterns = list(patterns)

    @classmethod
    def for_directory(
        cls, root: str | os.PathLike[str], spec_ignore: str | None = None
    ) -> IgnoreRules:
        """Flux's rules for a checkout: ``.sourceignore`` files + ``spec.ignore``, or defaults."""
        user = load_sourceignore(root)
        if spec_ignore is not None:
            user += parse_patterns(spec_ignore)
        return cls.from_user_patterns(user)

    @classmethod
    def from_user_patterns(cls, user: Sequence[Pattern]) -> IgnoreRules:
        vcs = [Pattern.parse(p) for p in EXCLUDE_VCS]
        if user:
            return cls([*vcs, *user])
        return cls([*vcs, *(Pattern.parse(p) for p in DEFAULT_PATTERNS)])

    @classmethod
    def defaults(cls) -> IgnoreRules:
        return cls.from_user_patterns([])

    def ignored(self, relpath: str | Sequence[str], is_dir: bool = False) -> bool:
        """Whether ``relpath`` (``"a/b.yaml"`` or its components) is excluded."""
        parts = relpath.split("/") if isinstance(relpath, str) else relpath
        for pattern in reversed(self.patterns):
            if pattern.match(parts, is_dir):
                return not pattern.negate
        return False

    def __repr__(self) -> str:
        return f"IgnoreRules({[p.source for p in self.patterns]!r})"
