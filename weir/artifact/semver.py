"""SemVer versions and range constraints, with the semantics of Masterminds/semver v3 (what Flux
uses for ``spec.ref.semver``).

No semver library ships in weir's runtime dependencies (``packaging`` implements PEP 440, whose
range syntax and pre-release rules differ), so this is a small, self-contained implementation.

Tags are parsed strictly (``X.Y.Z[-pre][+build]``, an optional leading ``v``), as Flux's
``version.ParseVersion`` does; tags that do not parse are skipped. Constraints accept:

- comparisons ``=``, ``!=``, ``>``, ``<``, ``>=``/``=>``, ``<=``/``=<`` and bare versions;
- wildcards ``*``, ``x``, ``X`` and short versions (``1``, ``1.2``, ``1.2.x``);
- tilde ``~1.2.3``/``~>1.2`` (patch-level changes), caret ``^1.2.3`` (compatible changes);
- hyphen ranges ``1.2 - 1.4.5`` (``>= 1.2, <= 1.4.5``);
- AND by spaces or commas, OR by ``||``.

A pre-release version only satisfies a comparison whose own version has a pre-release part
(``>=1.0.0-0`` admits ``1.2.0-rc.1``; ``>=1.0.0`` does not).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from weir.artifact.errors import InvalidVersionError

_NUM = r"(?:0|[1-9]\d*)"
_PRE_ID = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
_STRICT = re.compile(
    rf"^v?({_NUM})\.({_NUM})\.({_NUM})"
    rf"(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_LOOSE = re.compile(
    r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


@dataclass(frozen=True, eq=False)
class Version:
    """A semantic version. Equality and ordering ignore build metadata, as SemVer says."""

    major: int
    minor: int
    patch: int
    prerelease: str = ""
    build: str = ""
    original: str = ""

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse a tag strictly: ``X.Y.Z`` with optional ``v``, ``-pre`` and ``+build``."""
        m = _STRICT.match(text)
        if m is None:
            raise ValueError(f"{text!r} is not a semantic version (X.Y.Z[-pre][+build])")
        return cls(int(m[1]), int(m[2]), int(m[3]), m[4] or "", m[5] or "", text)

    @classmethod
    def parse_loose(cls, text: str) -> Version:
        """Parse ``1``, ``1.2`` or ``1.2.3`` (missing parts are 0), as constraints allow."""
        m = _LOOSE.match(text)
        if m is None:
            raise ValueError(f"{text!r} is not a version")
        return cls(int(m[1]), int(m[2] or 0), int(m[3] or 0), m[4] or "", m[5] or "", text)

    def compare(self, other: Version) -> int:
        """-1, 0 or 1 as ``self`` sorts before, equal to or after ``other``."""
        for a, b in (
            (self.major, other.major),
            (self.minor, other.minor),
            (self.patch, other.patch),
        ):
            if a != b:
                return -1 if a < b else 1
        if self.prerelease == other.prerelease:
            return 0
        if not self.prerelease:
            return 1
        if not other.prerelease:
            return -1
        return _compare_prerelease(self.prerelease, other.prerelease)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.compare(other) == 0

    def __hash__(self) -> int:
        return hash((self.major, self.minor, self.patch, self.prerelease))

    def __lt__(self, other: Version) -> bool:
        return self.compare(other) < 0

    def __le__(self, other: Version) -> bool:
        return self.compare(other) <= 0

    def __gt__(self, other: Version) -> bool:
        return self.compare(other) > 0

    def __ge__(self, other: Version) -> bool:
        return self.compare(other) >= 0

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        if self.build:
            text += f"+{self.build}"
        return text


def _compare_prerelease(a: str, b: str) -> int:
    pa, pb = a.split("."), b.split(".")
    for x, y in zip(pa, pb, strict=False):
        if x == y:
            continue
        xd, yd = x.isdigit(), y.isdigit()
        if xd and yd:
            return -1 if int(x) < int(y) else 1
        if xd:  # numeric identifiers sort before alphanumeric ones
            return -1
        if yd:
            return 1
        return -1 if x < y else 1
    if len(pa) == len(pb):
        return 0
    return -1 if len(pa) < len(pb) else 1


# ----------------------------------------------------------------------------- constraints
_OPS = r"!=|>=|=>|<=|=<|~>|\^|~|>|<|=|"
_CV = (
    r"v?[0-9xX*]+(?:\.[0-9xX*]+)?(?:\.[0-9xX*]+)?"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)
_ONE = re.compile(rf"({_OPS})\s*({_CV})")
_VALID = re.compile(rf"^\s*(?:{_OPS})\s*(?:{_CV})\s*(?:(?:\s+|,\s*)(?:{_OPS})\s*(?:{_CV})\s*)*$")
_RANGE = re.compile(rf"\s*({_CV})\s+-\s+({_CV})\s*")
_PARTS = re.compile(
    r"^v?([0-9xX*]+)(\.[0-9xX*]+)?(\.[0-9xX*]+)?(-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
    r"(\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


def _is_x(part: str) -> bool:
    return part in ("x", "X", "*")


@dataclass(frozen=True)
class _Term:
    op: str
    con: Version
    dirty: bool
    minor_dirty: bool
    patch_dirty: bool
    text: str

    def check(self, v: Version) -> bool:
        # A pre-release only matches terms that themselves name a pre-release (``!=`` on a
        # full version is the exception, as in Masterminds/semver).
        if v.prerelease and not self.con.prerelease and self.op != "!=":
            return False
        return _OP_FUNCS[self.op](v, self)


def _parse_term(op: str, ver: str) -> _Term:
    m = _PARTS.match(ver)
    if m is None:  # pragma: no cover - guarded by _VALID
        raise InvalidVersionError(f"improper constraint: {op}{ver}")
    major, minor, patch, pre = m[1], (m[2] or "")[1:], (m[3] or "")[1:], m[4] or ""
    dirty = minor_dirty = patch_dirty = False
    if _is_x(major):
        text, dirty = f"0.0.0{pre}", True
    elif not minor or _is_x(minor):
        text, dirty, minor_dirty = f"{major}.0.0{pre}", True, True
    elif not patch or _is_x(patch):
        text, dirty, patch_dirty = f"{major}.{minor}.0{pre}", True, True
    else:
        text = ver
    try:
        con = Version.parse_loose(text)
    except ValueError as exc:
        raise InvalidVersionError(f"improper constraint: {op}{ver}") from exc
    return _Term(op, con, dirty, minor_dirty, patch_dirty, op + ver)


def _not_equal(v: Version, c: _Term) -> bool:
    if c.dirty:
        if v.prerelease and not c.con.prerelease:
            return False
        if c.con.major != v.major:
            return True
        if c.con.minor != v.minor and not c.minor_dirty:
            return True
        if c.minor_dirty:
            return False
        if c.con.patch != v.patch and not c.patch_dirty:
            return True
        if c.patch_dirty:
            if v.prerelease or c.con.prerelease:
                return _compare_prerelease(v.prerelease, c.con.prerelease) != 0
            return False
    return v != c.con


def _greater(v: Version, c: _Term) -> bool:
    if not c.dirty:
        return v.compare(c.con) > 0
    if v.major != c.con.major:
        return v.major > c.con.major
    if c.minor_dirty:
        return False  # >1 needs 2.0.0 or more
    if c.patch_dirty:
        return v.minor > c.con.minor  # >1.1 needs 1.2.0 or more
    return v.compare(c.con) > 0


def _less(v: Version, c: _Term) -> bool:
    return v.compare(c.con) < 0


def _greater_equal(v: Version, c: _Term) -> bool:
    return v.compare(c.con) >= 0


def _less_equal(v: Version, c: _Term) -> bool:
    if not c.dirty:
        return v.compare(c.con) <= 0
    if v.major > c.con.major:
        return False
    return not (v.major == c.con.major and v.minor > c.con.minor and not c.minor_dirty)


def _tilde(v: Version, c: _Term) -> bool:
    if v < c.con:
        return False
    zero = c.con.major == 0 and c.con.minor == 0 and c.con.patch == 0
    if zero and not c.minor_dirty and not c.patch_dirty:
        return True  # ~0.0.0 and ~* admit everything
    if v.major != c.con.major:
        return False
    return not (v.minor != c.con.minor and not c.minor_dirty)


def _equal(v: Version, c: _Term) -> bool:
    if c.dirty:
        return _tilde(v, c)
    return v == c.con


def _caret(v: Version, c: _Term) -> bool:
    if v < c.con:
        return False
    if c.con.major > 0 or c.minor_dirty:
        return v.major == c.con.major
    if v.major > 0:
        return False
    if c.con.minor > 0 or c.patch_dirty:
        return v.minor == c.con.minor
    if v.minor > 0:
        return False
    return v.patch == c.con.patch


_OP_FUNCS: dict[str, Callable[[Version, _Term], bool]] = {
    "": _equal,
    "=": _equal,
    "!=": _not_equal,
    ">": _greater,
    "<": _less,
    ">=": _greater_equal,
    "=>": _greater_equal,
    "<=": _less_equal,
    "=<": _less_equal,
    "~": _tilde,
    "~>": _tilde,
    "^": _caret,
}


class Constraint:
    """A parsed range such as ``>=1.0.0 <2.0.0 || ^3.1``."""

    def __init__(self, text: str) -> None:
        self.text = text
        rewritten = _RANGE.sub(lambda m: f">= {m[1]}, <= {m[2]} ", text)
        self._groups: list[list[_Term]] = []
        for segment in rewritten.split("||"):
            if not _VALID.match(segment):
                raise InvalidVersionError(
                    f"invalid semver range {text!r} in spec.ref.semver: {segment.strip()!r} is "
                    "not a constraint; use forms like '>=1.0.0 <2.0.0', '~1.2', '^1.2.3' or '1.x'"
                )
            self._groups.append([_parse_term(m[1], m[2]) for m in _ONE.finditer(segment)])

    def check(self, version: Version) -> bool:
        """Whether ``version`` satisfies any OR group (all of its terms)."""
        return any(all(t.check(version) for t in group) for group in self._groups)

    def __repr__(self) -> str:
        return f"Constraint({self.text!r})"


def select_highest(tags: Iterable[str], constraint: str | Constraint) -> str | None:
    """The tag with the highest version satisfying ``constraint``, or None.

    Tags that are not strict semantic versions are skipped. When several tags carry the same
    version (``v1.0.0`` and ``1.0.0``, or ``1.0.0+a`` and ``1.0.0+b``), Flux prefers the one whose
    commit is newest; without commit dates (``git ls-remote`` has none) the greatest tag name
    wins, so the choice is deterministic.
    """
    con = constraint if isinstance(constraint, Constraint) else Constraint(constraint)
    best: tuple[Version, str] | None = None
    for tag in tags:
        try:
            v = Version.parse(tag)
        except ValueError:
            continue
        if not con.check(v):
            continue
        if best is None or v > best[0] or (v == best[0] and tag > best[1]):
            best = (v, tag)
    return None if best is None else best[1]
