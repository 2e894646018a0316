"""Fuzzing the ignore rules (``.sourceignore``, ``spec.ignore``): whatever a repository's ignore
files say, parsing and matching return an answer (never an exception), in time bounded by the
sizes of the pattern and the name (a glob like ``*a*a*a*a*a*a*b`` once backtracked for hours
on a long file name), and a component glob matches exactly what Go's ``filepath.Match`` syntax
says (checked against a regex translation on inputs short enough for a regex)."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.support.fuzzing import fuzz
from weir.source.ignore import IgnoreRules, _char_class, _match, parse_patterns

GLOB_PIECES = ["*", "**", "?", "a", "b", ".", "-", "[a-c]", "[^a]", "[", "]", "\\", "\\*", "!", "/"]
NAME_CHARS = "ab.-*?[]\\!c"


def _oracle(glob: str) -> re.Pattern[str] | None:
    """The glob as a regex (the former implementation): right, but exponential on some
    inputs, so only used on short ones."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            i += 1
            if i >= n:
                return None
            out.append(re.escape(glob[i]))
        elif c == "[":
            part, i = _char_class(glob, i + 1)
            if part is None:
                return None
            out.append(part)
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


@fuzz(600)
@given(
    st.lists(st.sampled_from([p for p in GLOB_PIECES if p != "/"]), max_size=8).map("".join),
    st.text(NAME_CHARS, max_size=10),
)
@example("[a-", "a")
@example("\\", "")
@example("*[", "a[")
@example("a**b", "ab")
def test_component_globs_match_as_go_does(glob: str, name: str) -> None:
    rx = _oracle(glob)
    expected = rx is not None and rx.match(name) is not None
    assert _match(glob, name) == expected, (glob, name)


@pytest.mark.timeout(60)
@fuzz(100)
@given(
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=1, max_value=255),
    st.sampled_from(["b", "", "?b", "[b]"]),
)
@example(30, 255, "b")  # once exponential: would not finish
def test_stars_never_backtrack_without_end(stars: int, length: int, tail: str) -> None:
    assert _match("*a" * stars + tail, "a" * length) == (tail == "" and length >= stars)


PATH = st.lists(st.text("ab.*?[]\\!-", min_size=1, max_size=6), min_size=1, max_size=5)


@fuzz(300)
@given(
    st.lists(st.lists(st.sampled_from(GLOB_PIECES), max_size=6).map("".join), max_size=6),
    st.lists(PATH, max_size=5),
    st.booleans(),
)
def test_any_ignore_file_parses_and_matches(
    lines: list[str], paths: list[list[str]], d: bool
) -> None:
    text = "\n".join(lines)
    rules = IgnoreRules(parse_patterns(text, ["sub"]) + parse_patterns(text))
    for path in paths:
        assert isinstance(rules.ignored(path, is_dir=d), bool)
        assert isinstance(rules.ignored("/".join(path), is_dir=d), bool)
