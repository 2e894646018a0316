"""The Go text/template engine: cases from Go's text/template documentation (the expected
output is what the documentation says, or what Go's rules give), with Go's error texts."""

from __future__ import annotations

from typing import Any

import pytest

from weir.operator.gotemplate import (
    Int64,
    Template,
    TemplateExecError,
    TemplateSyntaxError,
)


def run(text: str, data: Any = None, **kwargs: Any) -> str:
    return Template("x", **kwargs).parse(text).execute(data)


def error(text: str, data: Any = None, **kwargs: Any) -> str:
    with pytest.raises((TemplateSyntaxError, TemplateExecError)) as info:
        run(text, data, **kwargs)
    return str(info.value)


# The "Examples" section of the package documentation: every line prints "output" quoted.
DOC_PIPELINES = [
    '{{"\\"output\\""}}',
    '{{`"output"`}}',
    '{{printf "%q" "output"}}',
    '{{"output" | printf "%q"}}',
    '{{printf "%q" (print "out" "put")}}',
    '{{"put" | printf "%s%s" "out" | printf "%q"}}',
    '{{"output" | printf "%s" | printf "%q"}}',
    '{{with "output"}}{{printf "%q" .}}{{end}}',
    '{{with $x := "output" | printf "%q"}}{{$x}}{{end}}',
    '{{with $x := "output"}}{{printf "%q" $x}}{{end}}',
    '{{with $x := "output"}}{{$x | printf "%q"}}{{end}}',
]


@pytest.mark.parametrize("text", DOC_PIPELINES)
def test_documentation_pipelines(text: str) -> None:
    assert run(text) == '"output"'


def test_trim_markers_from_the_documentation() -> None:
    assert run("{{23 -}} < {{- 45}}") == "23<45"
    assert run("a  \n {{- 1 -}} \n\t b") == "a1b"
    # a minus not followed by a space is a number
    assert run("{{-3}}") == "-3"
    assert run("x {{/* comment */}} y") == "x  y"
    assert run("x {{- /* comment */ -}} y") == "xy"


@pytest.mark.parametrize(
    ("text", "data", "want"),
    [
        ("{{.}}", "hello", "hello"),
        ("{{.a.b}}", {"a": {"b": "c"}}, "c"),
        ("{{.missing}}", {}, "<no value>"),
        ("{{.x}}", {"x": None}, "<no value>"),
        ("{{.m}}", {"m": {"b": [1, "x", None], "a": True}}, "map[a:true b:[1 x <nil>]]"),
        ("{{if .a}}A{{else if .b}}B{{else}}C{{end}}", {"a": 0, "b": "yes"}, "B"),
        ("{{if .a}}A{{else if .b}}B{{else}}C{{end}}", {"a": [], "b": ""}, "C"),
        ("{{with .a}}{{.}}{{else with .b}}b={{.}}{{else}}none{{end}}", {"b": 2}, "b=2"),
        ("{{with .a}}{{.}}{{else}}none{{end}}", {"a": {}}, "none"),
        ("{{range .}}{{.}},{{else}}empty{{end}}", [], "empty"),
        ("{{range $i, $v := .}}{{$i}}={{$v}} {{end}}", ["a", "b"], "0=a 1=b "),
        ("{{range $k, $v := .}}{{$k}}:{{$v}};{{end}}", {"b": 2, "a": 1}, "a:1;b:2;"),
        ("{{range $v := .}}{{$v}}{{end}}", [1, 2], "12"),
        ("{{range .}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}", [1, 2, 3, 4], "12"),
        ("{{range .}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}", [1, 2, 3], "13"),
        ("{{range 3}}{{.}}{{end}}", None, "012"),
        ("{{range $i, $e := .}}{{$e.n}}{{end}}", [{"n": "x"}, {"n": "y"}], "xy"),
        ("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", None, "2"),
        ("{{$x := .a}}{{range .l}}{{$x}}{{.}}{{end}}", {"a": "-", "l": [1, 2]}, "-1-2"),
        ("{{range .}}{{$}}{{end}}", [1], "[1]"),
        ("{{len .}} {{index . 1}} {{slice . 1 3}}", [1, 2, 3], "3 2 [2 3]"),
        ("{{len .}} {{index . 0}} {{slice . 1}}", "héllo", "6 104 éllo"),
        ('{{index .m "k"}} {{index .m "none"}}', {"m": {"k": "v"}}, "v <no value>"),
        ("{{index . 1 0}}", [[1], [2, 3]], "2"),
        ('{{and 1 0 2}} {{and 1 2}} {{or 0 "" 3}} {{or 0 ""}} {{not 0}}', None, "0 2 3  true"),
        ("{{or 1 (index . 5)}}", [], "1"),  # or stops at the first true value
        (
            '{{eq 1 2 3 1}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}',
            None,
            "true true true true true false",
        ),
        ("{{eq .a .b}}", {"a": Int64(2), "b": 2}, "true"),  # int64 and int compare
        ('{{eq .a "x"}}', {}, "false"),  # a missing value equals nothing
        ('{{print 1 2 "a" 3 nil}}', None, "1 2a3 <nil>"),
        ('{{println 1 "x"}}', None, "1 x\n"),
        ('{{html "<a href=\\"x\\">&\'"}}', None, "&lt;a href=&#34;x&#34;&gt;&amp;&#39;"),
        ('{{js "it\'s <b>"}}', None, "it\\'s \\u003Cb\\u003E"),
        ('{{urlquery "a b&c=d/é"}}', None, "a+b%26c%3Dd%2F%C3%A9"),
        (
            "{{1.5}} {{1e6}} {{0x10}} {{'a'}} {{1_000}} {{-0.000012}}",
            None,
            "1.5 1e+06 16 97 1000 -1.2e-05",
        ),
        (
            "{{.f}} {{.g}} {{.h}} {{.i}}",
            {"f": 1000000.0, "g": 123456.0, "h": 100.0, "i": 0.1},
            "1e+06 123456 100 0.1",
        ),
        ("{{true}} {{false}} {{print nil}}", None, "true false <nil>"),
        ('{{define "T"}}Hello, {{.}}!{{end}}{{template "T" "you"}}', None, "Hello, you!"),
        ('{{block "B" .}}[{{.}}]{{end}}', "x", "[x]"),
        ('{{define "T"}}{{$}}{{end}}{{$x := 1}}{{template "T" 2}}', None, "2"),
        ("{{(print 1 2).x | print}}", None, None),
    ],
)
def test_execution(text: str, data: Any, want: str | None) -> None:
    if want is None:
        with pytest.raises(TemplateExecError, match="can't evaluate field x in type string"):
            run(text, data)
        return
    assert run(text, data) == want


@pytest.mark.parametrize(
    ("fmt", "args", "want"),
    [
        ("%v|%s|%d|%q|%t", ["a", "b", 42, "q\n", True], 'a|b|42|"q\\n"|true'),
        (
            "%5.2f|%-5s|%05d|%x|%X|%o|%b|%c|%U",
            [3.14159, "ab", 42, 255, "hi", 8, 5, 65, 65],
            " 3.14|ab   |00042|ff|6869|10|101|A|U+0041",
        ),
        (
            "%e|%g|%.3g|%G|%8.3e",
            [1234.5678, 1234.5678, 1234.5678, 1e-7, 0.000123],
            "1.234568e+03|1234.5678|1.23e+03|1E-07|1.230e-04",
        ),
        ("%+d|% d|%+.1f|%#x|%#o|%x", [5, 5, 2.25, 255, 8, -255], "+5| 5|+2.2|0xff|010|-ff"),
        ("%v|%d|%s", [[1, 2], [1, 2], ["a", "b"]], "[1 2]|[1 2]|[a b]"),
        ("%v", [{"b": 1, "a": [True]}], "map[a:[true] b:1]"),
        ("%T %T %T %T %T", ["s", 1, Int64(1), 1.0, [1]], "string int int64 float64 []interface {}"),
        ("%d", ["hi"], "%!d(string=hi)"),
        ("%s", [1], "%!s(int=1)"),
        ("%d %d", [1], "1 %!d(MISSING)"),
        ("%d", [1, "x"], "1%!(EXTRA string=x)"),
        ("x%", [], "x%!(NOVERB)"),
        ("%!", [], "%!!(MISSING)"),
        ("100%%", [], "100%"),
        ("%[2]d %[1]d", [1, 2], "2 1"),
        ("%*d|%-*d|", [4, 7, 3, 1], "   7|1  |"),
        ("%.2s|%.0f|%6.1f", ["hello", 2.5, -1.25], "he|2|  -1.2"),
        ("%q", ["日本\x01"], '"日本\\x01"'),
        ("%v %v", [None, float("inf")], "<nil> +Inf"),
    ],
)
def test_printf(fmt: str, args: list[Any], want: str) -> None:
    assert (
        run(
            "{{printf .f | print}}".replace(
                ".f", ".f" + "".join(f" (index .a {i})" for i in range(len(args)))
            ),
            {"f": fmt, "a": args},
        )
        == want
    )


def test_missingkey_options() -> None:
    assert run("{{.x}}", {}) == "<no value>"
    assert run("{{.x}}", {}, missingkey="zero") == "<no value>"
    assert error("{{.x}}", {}, missingkey="error") == (
        'template: x:1:2: executing "x" at <.x>: map has no entry for key "x"'
    )
    assert error("{{.x}}", None, missingkey="error") == (
        'template: x:1:2: executing "x" at <.x>: nil data; no entry for key "x"'
    )
    assert run("{{.x.y}}", {}) == "<no value>"
    assert run('{{index . "x"}}', {}, missingkey="error") == "<no value>"


def test_custom_delimiters() -> None:
    t = Template("rs", delims=("<<", ">>"))
    assert t.parse("{{ not a action }} << .a >> <<- .b ->>  !").execute({"a": 1, "b": 2}) == (
        "{{ not a action }} 12!"
    )


@pytest.mark.parametrize(
    ("text", "data", "want"),
    [
        # execution errors: name:line:column, the node, Go's message
        (
            "line1\n  {{ .a.b.c }}",
            {"a": "s"},
            'template: x:2:7: executing "x" at <.a.b.c>: can\'t evaluate field b in type '
            "interface {}",
        ),
        (
            "{{eq .a 1}}",
            {"a": 1.0},
            'template: x:1:2: executing "x" at <eq .a 1>: error calling '
            "eq: incompatible types for comparison",
        ),
        (
            "{{lt .a .b}}",
            {"a": [1], "b": [2]},
            'template: x:1:2: executing "x" at <lt .a .b>: '
            "error calling lt: invalid type for comparison",
        ),
        ("{{printf 1}}", None, 'template: x:1:9: executing "x" at <1>: expected string; found 1'),
        (
            "{{.a.b}}",
            {"a": None},
            'template: x:1:4: executing "x" at <.a.b>: nil pointer evaluating interface {}.b',
        ),
        (
            "{{index . 3}}",
            [1],
            'template: x:1:2: executing "x" at <index . 3>: error calling '
            "index: index out of range: 3",
        ),
        (
            '{{template "nope"}}',
            None,
            'template: x:1:11: executing "x" at <{{template "nope"}}>: template "nope" not defined',
        ),
        (
            "{{range 1.5}}{{end}}",
            None,
            'template: x:1:8: executing "x" at <1.5>: range can\'t iterate over 1.5',
        ),
        (
            "{{len 3}}",
            None,
            'template: x:1:2: executing "x" at <len 3>: error calling len: len of type int',
        ),
        (
            "{{1 2}}",
            None,
            'template: x:1:2: executing "x" at <1>: can\'t give argument to non-function 1',
        ),
        ("{{nil}}", None, 'template: x:1:2: executing "x" at <nil>: nil is not a command'),
        (
            '{{define "T"}}\n{{.q}}{{end}}{{template "T" 1}}',
            None,
            'template: x:2:2: executing "T" at <.q>: can\'t evaluate field q in type int',
        ),
    ],
)
def test_exec_errors(text: str, data: Any, want: str) -> None:
    assert error(text, data) == want


def test_exec_error_location_attributes() -> None:
    with pytest.raises(TemplateExecError) as info:
        run("a\nb {{ .x.y }}", {"x": 1})
    assert (info.value.name, info.value.line, info.value.column) == ("x", 2, 8)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("{{ .a }", 'template: x:1: unexpected "}" in operand'),
        ("{{ if }}", "template: x:1: missing value for if"),
        ("{{ nosuch }}", 'template: x:1: function "nosuch" not defined'),
        ("a\nb\n{{end}}", "template: x:3: unexpected {{end}}"),
        ("{{if 1}}\n\n", "template: x:3: unexpected EOF"),
        ("{{$x}}", 'template: x:1: undefined variable "$x"'),
        ('{{"unterminated}}', "template: x:1: unterminated quoted string"),
        ("{{ .a", "template: x:1: unclosed action"),
        ("{{/* x }}", "template: x:1: unclosed comment"),
        ("{{ 1 | 2 }}", "template: x:1: non executable command in pipeline stage 2"),
        ("{{break}}", "template: x:1: {{break}} outside {{range}}"),
        ("{{ 3x }}", 'template: x:1: bad number syntax: "3x"'),
        ("{{ .a# }}", "template: x:1: bad character U+0023 '#'"),
        ("{{ ) }}", "template: x:1: unexpected right paren"),
        ("{{ (1 }}", "template: x:1: unclosed left paren"),
        ("{{ 99999999999999999999 }}", 'template: x:1: integer overflow: "99999999999999999999"'),
        (
            '{{define "a"}}1{{end}}{{define "a"}}2{{end}}',
            'template: x:1: template: multiple definition of template "a"',
        ),
        ("{{range $a, $b, $c := .}}{{end}}", "template: x:1: too many declarations in range"),
        ("{{else}}", "template: x:1: unexpected {{else}}"),
        ('{{ "\\q" }}', "template: x:1: invalid syntax"),
    ],
)
def test_parse_errors(text: str, want: str) -> None:
    assert error(text) == want
