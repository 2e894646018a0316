"""weir.yamlio.dump_go writes what Go's sigs.k8s.io/yaml Marshal writes (what `flux build` and
`kubectl` print): the expected file was produced by sigs.k8s.io/yaml v1.6.0 (Unmarshal then
Marshal of tests/golden/goyaml/input.yaml, a Go program). It pins go-yaml's key order (a
non-letter before a letter, digit runs by value), its quoting and its 80-column folding."""

from __future__ import annotations

import functools
from pathlib import Path

from weir import yamlio

GOLDEN = Path(__file__).parent.parent / "golden" / "goyaml"


def test_dump_go_matches_sigs_k8s_yaml() -> None:
    doc = yamlio.load((GOLDEN / "input.yaml").read_text())
    assert yamlio.dump_go(doc) == (GOLDEN / "sigs-k8s-yaml-v1.6.0.yaml").read_text()


def test_go_key_order() -> None:
    keys = ["a10", "a2", "_x", "B", "ab", "x01", "x1", "1", "10", "9", "b.c", "b-c"]
    ordered = sorted(keys, key=functools.cmp_to_key(yamlio.go_key_compare))
    assert ordered == ["_x", "1", "9", "10", "B", "a2", "a10", "ab", "b-c", "b.c", "x1", "x01"]


def test_double_quotes_as_go_yaml_v3() -> None:
    assert yamlio.dump_go({"k": "*****"}, double_quotes=True) == 'k: "*****"\n'
    assert yamlio.dump_go({"k": "*****"}) == "k: '*****'\n"
