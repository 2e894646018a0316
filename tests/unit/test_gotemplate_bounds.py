"""Hostile templates stop with a clear TemplateLimitError instead of hanging or exhausting
memory: output size, evaluation steps, template recursion, nesting, and the functions that
could build huge values (repeat, printf widths, until, indent, replace)."""

from __future__ import annotations

from typing import Any

import pytest

from weir.operator.gotemplate import Limits, Template, TemplateError, TemplateLimitError
from weir.operator.gotemplate.sprig import FUNCS

SMALL = Limits(max_output=100_000, max_steps=50_000, max_depth=20, max_items=10_000)


def run(text: str, data: Any = None, limits: Limits = SMALL) -> str:
    return Template("t", funcs=FUNCS, limits=limits).parse(text).execute(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{{ "x" | repeat 1000000000 }}', "over the limit"),
        ("{{ range until 9999 }}{{ range until 9999 }}x{{ end }}{{ end }}", "steps"),
        ("{{ range 1000000000 }}{{ end }}", "steps"),
        (
            '{{ define "a" }}{{ template "a" . }}{{ end }}{{ template "a" . }}',
            "maximum template depth",
        ),
        ('{{ printf "%999999d" 1 }}', "size limit"),
        ("{{ until 100000000 }}", "items"),
        (
            '{{ $s := "xxxxxxxxxx" }}{{ range until 20 }}{{ $s = cat $s $s $s }}{{ end }}{{ $s }}',
            "limit",
        ),
        ('{{ indent 100000 "a\\nb\\nc" }}', "over the limit"),
        ('{{ replace "" "yyyyyyyyyyyyyyyy" (repeat 50000 "x") }}', "over the limit"),
        ("{{ range until 5000 }}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{{ end }}", "output exceeds"),
        ('{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ mustToJson $d }}', "cycle"),
        ('{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ $d }}', "limit"),
    ],
)
def test_hostile_templates_hit_a_bound(text: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        run(text)
    assert message in str(info.value)


def test_limit_errors_are_template_limit_errors() -> None:
    with pytest.raises(TemplateLimitError) as info:
        run("{{ range 1000000000 }}{{ end }}")
    assert str(info.value).startswith("template: t:1:")
    assert "execution exceeded 50000 steps" in str(info.value)


def test_deep_nesting_is_refused_at_parse_time() -> None:
    with pytest.raises(TemplateError, match="max expression depth exceeded"):
        run("{{ " + "(" * 500 + "1" + ")" * 500 + " }}")
    with pytest.raises(TemplateError, match="max expression depth exceeded"):
        run("{{ if 1 }}" * 300 + "{{ end }}" * 300)


def test_within_the_bounds_the_same_templates_work() -> None:
    assert run('{{ "ab" | repeat 3 }}') == "ababab"
    assert len(run("{{ range until 100 }}xx{{ end }}")) == 200
    assert (
        run(
            '{{ define "a" }}{{ if . }}{{ template "a" (sub . 1) }}.{{ end }}{{ end }}'
            '{{ template "a" 10 }}'
        )
        == ".........."
    )
