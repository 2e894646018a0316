"""SemVer versions and Masterminds-compatible constraints (spec.ref.semver)."""

from __future__ import annotations

import pytest

from weir.artifact.errors import InvalidVersionError as InvalidRefError
from weir.artifact.semver import Constraint, Version, select_highest


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("1.2.3", True),
        ("v1.2.3", True),
        ("1.2.3-rc.1", True),
        ("1.2.3+build.5", True),
        ("1.2.3-alpha-1.0+meta", True),
        ("1.2", False),
        ("01.2.3", False),
        ("1.2.3-01", False),
        ("v", False),
        ("release-1.2.3", False),
        ("1.2.3.4", False),
    ],
)
def test_strict_parse(text: str, ok: bool) -> None:
    if ok:
        assert str(Version.parse(text)).lstrip("v") == text.lstrip("v")
    else:
        with pytest.raises(ValueError, match="not a semantic version"):
            Version.parse(text)


def test_ordering_follows_semver_precedence() -> None:
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.1.0",
        "2.0.0",
    ]
    versions = [Version.parse(v) for v in ordered]
    assert sorted(reversed(versions)) == versions
    assert Version.parse("1.0.0+a") == Version.parse("1.0.0+b")
    assert Version.parse("v1.0.0") == Version.parse("1.0.0")


@pytest.mark.parametrize(
    ("constraint", "version", "expected"),
    [
        ("1.2.3", "1.2.3", True),
        ("=1.2.3", "1.2.4", False),
        ("!=1.2.3", "1.2.4", True),
        ("!=1.2.3", "1.2.3", False),
        ("!=1.2.x", "1.2.9", False),
        ("!=1.2.x", "1.3.0", True),
        (">1.2.3", "1.2.4", True),
        (">1.2", "1.2.9", False),
        (">1.2", "1.3.0", True),
        (">1", "1.9.9", False),
        (">1", "2.0.0", True),
        (">=1.2.3", "1.2.3", True),
        ("=>1.2.3", "1.2.2", False),
        ("<1.2.3", "1.2.2", True),
        ("<1.2", "1.2.0", False),
        ("<=1.2.3", "1.2.3", True),
        ("<=1.2", "1.2.9", True),
        ("=<1.2", "1.3.0", False),
        ("~1.2.3", "1.2.9", True),
        ("~1.2.3", "1.3.0", False),
        ("~1.2", "1.2.0", True),
        ("~>1", "1.9.0", True),
        ("~1", "2.0.0", False),
        ("~0", "0.9.0", True),
        ("^1.2.3", "1.9.9", True),
        ("^1.2.3", "2.0.0", False),
        ("^1.2.3", "1.2.2", False),
        ("^0.2.3", "0.2.9", True),
        ("^0.2.3", "0.3.0", False),
        ("^0.0.3", "0.0.3", True),
        ("^0.0.3", "0.0.4", False),
        ("^0.0", "0.0.9", True),
        ("^0.0", "0.1.0", False),
        ("^0", "0.9.9", True),
        ("^0", "1.0.0", False),
        ("1.x", "1.4.0", True),
        ("1.x", "2.0.0", False),
        ("1.2.*", "1.2.7", True),
        ("*", "9.9.9", True),
        ("x", "0.0.1", True),
        (">=1.0.0 <2.0.0", "1.5.0", True),
        (">=1.0.0, <2.0.0", "2.0.0", False),
        (">= 1.0.0 < 2.0.0", "1.0.0", True),
        ("<1.0.0 || >=3.0.0", "3.1.0", True),
        ("<1.0.0 || >=3.0.0", "2.0.0", False),
        ("1.2 - 1.4.5", "1.4.5", True),
        ("1.2 - 1.4.5", "1.4.6", False),
        ("1.2 - 1.4.5", "1.1.9", False),
        ("2.3.4 - 4.5", "4.5.9", True),
        ("v1.x", "1.0.0", True),
        # pre-releases only match ranges that mention one
        (">=1.0.0", "1.2.0-rc.1", False),
        (">=1.0.0-0", "1.2.0-rc.1", True),
        ("*", "1.0.0-beta", False),
        ("~1.2.3-beta.1", "1.2.3-beta.2", True),
        ("!=1.2.3", "1.2.4-beta", True),
    ],
)
def test_constraint_check(constraint: str, version: str, expected: bool) -> None:
    assert Constraint(constraint).check(Version.parse(version)) is expected


@pytest.mark.parametrize("bad", ["", ">=", "foo", "1.2.3 ||", ">>1.0", "~=1.0"])
def test_invalid_constraints_raise(bad: str) -> None:
    with pytest.raises(InvalidRefError, match="invalid semver range"):
        Constraint(bad)


def test_select_highest() -> None:
    tags = ["v1.0.0", "1.1.0", "v1.2.0-rc.1", "latest", "v2.0.0", "1.1", "v1.10.0"]
    assert select_highest(tags, ">=1.0.0 <2.0.0") == "v1.10.0"
    assert select_highest(tags, "~1.1") == "1.1.0"
    assert select_highest(tags, ">=1.2.0-0 <1.3.0-0") == "v1.2.0-rc.1"
    # every term must admit pre-releases (Masterminds checks each comparison on its own)
    assert select_highest(tags, ">=1.2.0-0 <1.3.0") is None
    assert select_highest(tags, ">=3.0.0") is None
    assert select_highest([], "*") is None


def test_select_highest_breaks_ties_by_tag_name() -> None:
    assert select_highest(["1.0.0", "v1.0.0"], "1.0.0") == "v1.0.0"
    assert select_highest(["1.0.0+b", "1.0.0+a"], "*") == "1.0.0+b"
