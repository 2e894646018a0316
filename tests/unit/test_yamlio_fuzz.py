"""Fuzzing YAML loading (manifests, values files, Chart.yaml, repository indexes, kustomization
files): whatever the text, :mod:`weir.yamlio` returns documents or raises ``YAMLError`` --
never another exception -- and what it returns is a finite tree (an anchor holding an alias of
itself, or a billion laughs, is refused as go-yaml refuses it); values written by ``dump`` read
back the same."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from tests.support.fuzzing import fuzz
from weir import yamlio
from weir.helmengine.errors import ValuesError
from weir.helmengine.values import read_values

TOKENS = [
    "a",
    "b",
    ":",
    ": ",
    " ",
    "  ",
    "\n",
    "\t",
    "- ",
    "-",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a ",
    "&b ",
    "*a",
    "*b",
    "<<: ",
    "!!str ",
    "!!binary ",
    "!!set ",
    "!!omap ",
    "!x ",
    "'",
    '"',
    "#",
    "|",
    ">",
    "---\n",
    "...\n",
    "1e3",
    "12:30",
    "2024-01-01",
    "=",
    "yes",
    "y",
    "~",
    "null",
    "0x1f",
    "%YAML 1.1\n",
    "? ",
    "\\",
    "\u2028",
    "\x00",
    ".inf",
    "-0",
]
TEXT = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)


def _finite(value: Any, path: frozenset[int] = frozenset()) -> None:
    """A tree: no container contains itself."""
    if isinstance(value, dict | list):
        assert id(value) not in path, "a cyclic structure"
        inner = path | {id(value)}
        for item in value.values() if isinstance(value, dict) else value:
            _finite(item, inner)


@fuzz(1500)
@given(TEXT)
@example("a: &x [*x]")
@example("a: &x {b: {c: *x}}")
@example("&x [*x, *x]")
@example("a: &a {<<: *a}")
def test_any_text_loads_or_is_a_yaml_error(text: str) -> None:
    try:
        docs = list(yamlio.load_all(text))
    except yaml.YAMLError:
        return
    except (ValueError, TypeError) as e:  # e.g. a timestamp or binary that does not decode
        pytest.fail(f"{type(e).__name__} for {text!r}: {e}")
    for doc in docs:
        _finite(doc)


def _laughs(levels: int, width: int) -> str:
    names = [f"l{i}" for i in range(levels + 1)]
    lines = [f"{names[0]}: &{names[0]} [" + ", ".join(["lol"] * width) + "]"]
    for prev, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(60)
@fuzz(60)
@given(st.integers(min_value=1, max_value=12), st.integers(min_value=2, max_value=12))
@example(9, 10)  # 10^9 nodes once expanded: once a hang of the HelmRelease controller
def test_alias_expansion_is_bounded(levels: int, width: int) -> None:
    text = _laughs(levels, width)
    expanded = width ** (levels + 1)
    try:
        doc = yamlio.load(text)
    except yaml.YAMLError as e:
        refused = str(e)
    else:
        assert expanded < 500_000, "a document growing mostly by aliases must be refused"
        _finite(doc)
        return
    assert "excessive aliasing" in refused
    assert expanded > 1000
    with pytest.raises(ValuesError, match="excessive aliasing"):
        read_values(text.encode())


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["12:30", "2024-01-01", "=", "yes", "no", "on", "y", "1e3", "0x1f", "~"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@fuzz(300)
@given(VALUES)
@example({"time": "12:30", "date": "2024-01-01", "eq": "=", "big": 1e300})
def test_dump_then_load_is_the_same_value(value: Any) -> None:
    assert yamlio.load(yamlio.dump(value)) == value
