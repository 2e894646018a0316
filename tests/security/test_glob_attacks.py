"""An ArtifactGenerator's copy globs come from whoever may write the object (a tenant). Its
``exclude`` and ``Extract`` patterns (doublestar) were turned into one regular expression;
several stars in one component (``*a*a*a...b``) made Python's backtracking engine
exponential in the length of a crafted file name, freezing the source-watcher. They are now
matched component by component, in time bounded by the pattern and path lengths, and brace
expansion is bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from weir.source.copyops import Copy, CopyError, build
from weir.source.globs import GlobError, check_doublestar, doublestar_match

HOSTILE = "**/" + "*a" * 30 + "b"


@pytest.mark.timeout(60)
def test_a_backtracking_exclude_does_not_stall_the_copy(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "deploy").mkdir(parents=True)
    (src / "deploy" / ("a" * 250)).write_text("kept\n")
    (src / "deploy" / ("a" * 200 + "b")).write_text("excluded\n")
    out = tmp_path / "out"
    build([Copy("@s/deploy/**", "@artifact/", exclude=(HOSTILE,))], {"s": src}, out)
    assert sorted(p.name for p in out.iterdir()) == ["a" * 250]


@pytest.mark.timeout(60)
def test_a_backtracking_extract_pattern_does_not_stall_the_match() -> None:
    assert not doublestar_match(HOSTILE, "x/" + "a" * 250)
    assert doublestar_match(HOSTILE, "x/" + "a" * 250 + "b")


def test_brace_expansion_is_bounded(tmp_path: Path) -> None:
    bomb = "{a,b}" * 20  # 2^20 alternatives
    with pytest.raises(GlobError, match="more than 256 alternatives"):
        check_doublestar(bomb)
    src = tmp_path / "src"
    src.mkdir()
    (src / "x.yaml").write_text("x: 1\n")
    with pytest.raises(CopyError):
        build([Copy("@s/x.yaml", "@artifact/", exclude=(bomb,))], {"s": src}, tmp_path / "out")
