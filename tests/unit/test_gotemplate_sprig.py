# ruff: noqa: E501 -- tables of templates and their expected output read best unwrapped
"""The ResourceSet function set: slim-sprig's hermetic functions with their Go signatures and
behaviour, plus slugify and toYaml, with the examples of the Flux Operator's documentation."""

from __future__ import annotations

from typing import Any

import pytest

from weir.operator.gotemplate import Int64, Template, TemplateExecError, TemplateSyntaxError
from weir.operator.gotemplate.slug import slugify
from weir.operator.gotemplate.sprig import FUNCS

NON_HERMETIC = (
    "date",
    "date_in_zone",
    "date_modify",
    "now",
    "htmlDate",
    "htmlDateInZone",
    "dateInZone",
    "dateModify",
    "randAlphaNum",
    "randAlpha",
    "randAscii",
    "randNumeric",
    "randBytes",
    "uuidv4",
    "env",
    "expandenv",
    "getHostByName",
)


def run(text: str, data: Any = None) -> str:
    return Template("t", funcs=FUNCS, delims=("<<", ">>")).parse(text).execute(data)


INPUTS = {
    "tenant": "team1",
    "namespace": "apps",
    "enabled": True,
    "app": {"version": "6.7.x", "replicas": Int64(2)},
    "layerSelector": {
        "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
        "operation": "copy",
    },
    "components": ["ingress-nginx", "cert-manager"],
}


def test_the_function_set_is_slim_sprigs_hermetic_one() -> None:
    for name in NON_HERMETIC:
        assert name not in FUNCS
    for name in (
        "quote",
        "int",
        "toYaml",
        "mustToYaml",
        "nindent",
        "default",
        "get",
        "slugify",
        "toJson",
        "dict",
        "list",
        "dig",
        "regexReplaceAll",
        "b64enc",
        "sha256sum",
        "adler32sum",
        "until",
        "seq",
        "semverCompare"[:0] or "ternary",
    ):
        assert name in FUNCS
    # not in slim-sprig (they need packages outside Go's standard library)
    for name in ("semver", "semverCompare", "merge", "genPrivateKey", "bcrypt", "abbrev"):
        assert name not in FUNCS


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # the Flux Operator's ResourceSet documentation
        ("name: podinfo-<< .tenant >>", "name: podinfo-team1"),
        ("semver: << .app.version | quote >>", 'semver: "6.7.x"'),
        ("replicaCount: << .app.replicas | int >>", "replicaCount: 2"),
        ("enabled: << .enabled | quote >>", 'enabled: "true"'),
        (
            "layerSelector: << .layerSelector | toYaml | nindent 4 >>",
            "layerSelector: \n    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip"
            "\n    operation: copy\n    ",
        ),
        ('name: << get . "name" | default .namespace >>', "name: apps"),
        ("<< .tenant | slugify >>", "team1"),
        (
            '<< if eq .tenant "team1" >>enabled<< else >>disabled<< end >>',
            "enabled",
        ),
        (
            "<<- range $c := .components >>\n- << $c >><<- end >>",
            "\n- ingress-nginx\n- cert-manager",
        ),
        # strings
        (
            '<< "hello" | upper >> << "HeLLo" | lower >> << "hello world" | title >>',
            "HELLO hello Hello World",
        ),
        (
            '<< "  x  " | trim >>|<< trimAll "$" "$5.00$" >>|<< trimPrefix "a" "abc" >>|<< trimSuffix "c" "abc" >>',
            "x|5.00|bc|ab",
        ),
        ('<< "hello" | trunc 3 >> << trunc -2 "hello" >> << substr 1 3 "hello" >>', "hel lo el"),
        (
            '<< "ab" | repeat 3 >> << replace "a" "b" "aaa" >> << contains "ell" "hello" >>',
            "ababab bbb true",
        ),
        (
            '<< hasPrefix "he" "hello" >> << hasSuffix "lo" "hello" >> << plural "one" "many" 2 >>',
            "true true many",
        ),
        (
            '<< quote "a" 1 nil >> << squote "a" 1 >> << cat "a" 1 nil "b" >>',
            "\"a\" \"1\" 'a' '1' a 1 b",
        ),
        ('<< "a\\nb" | indent 2 >>', "  a\n  b"),
        (
            '<< splitList "," "a,b,c" | join "-" >> << (split "," "a,b")._1 >> << (splitn "," 2 "a,b,c")._1 >>',
            "a-b-c b b,c",
        ),
        ('<< list "b" "a" 3 | sortAlpha >> << toStrings (list 1 "x") >>', "[3 a b] [1 x]"),
        # numbers
        (
            "<< add 1 2 3 >> << add1 1 >> << sub 5 7 >> << div 7 2 >> << mod -7 2 >> << mul 2 3 4 >>",
            "6 2 -2 3 -1 24",
        ),
        (
            "<< max 1 5 3 >> << min 4 2 8 >> << maxf 1.5 2 >> << minf 1.5 2 >> << floor 1.7 >> << ceil 1.2 >> << round 3.14159 2 >>",
            "5 2 2 1.5 1 2 3.14",
        ),
        (
            '<< atoi "42" >> << atoi "x" >> << int "8" >> << int 3.9 >> << int64 "12" >> << float64 "1.5" >> << "10" | int | add 1 >>',
            "42 0 8 3 12 1.5 11",
        ),
        ("<< mul 9223372036854775807 2 >>", "-2"),  # int64 wraps around
        (
            '<< toDecimal "0777" >> << until 3 >> << untilStep 1 10 3 >> << seq 3 >> << seq 5 -2 1 >>',
            "511 [0 1 2] [1 4 7] 1 2 3 5 3 1",
        ),
        # defaults
        (
            '<< default "d" "" >> << default "d" "x" >> << default 5 0 >> << empty list >> << coalesce 0 "" "c" >>',
            "d x 5 true c",
        ),
        (
            '<< all 1 "a" >> << any 0 "" >> << ternary "y" "n" true >> << compact (list 0 1 "" "a") >>',
            "true false y [1 a]",
        ),
        # encoding and hashes
        (
            '<< b64enc "hi" >> << b64dec "aGk=" >> << b32enc "hi" >> << b32dec "NBUQ====" >> << b64dec "%%" >>',
            "aGk= hi NBUQ==== hi illegal base64 data at input byte 0",
        ),
        (
            '<< sha1sum "x" >> << adler32sum "x" >>',
            "11f6ad8ec52a2984abaafd7c3b516503785c2072 7929977",
        ),
        # JSON and YAML
        (
            '<< dict "b" 1 "a" "<x>" | toJson >> << list 1 2 | toRawJson >> << "{\\"a\\":1}" | fromJson | toJson >>',
            '{"a":"\\u003cx\\u003e","b":1} [1,2] {"a":1}',
        ),
        ("<< .app | toYaml >>", "replicas: 2\nversion: 6.7.x\n"),
        ('<< list "y" "1e3" "" "a: b" | toYaml >>', '- "y"\n- "1e3"\n- ""\n- \'a: b\'\n'),
        # dicts and lists
        (
            '<< $d := dict "a" 1 >><< set $d "b" 2 | toJson >> << unset $d "a" | toJson >> << hasKey $d "b" >> << keys $d >> << values $d >>',
            '{"a":1,"b":2} {"b":2} true [b] [2]',
        ),
        (
            '<< pick (dict "a" 1 "b" 2) "a" | toJson >> << omit (dict "a" 1 "b" 2) "a" | toJson >> << pluck "a" (dict "a" 1) (dict "a" 2) >>',
            '{"a":1} {"b":2} [1 2]',
        ),
        ('<< dig "app" "version" "none" . >> << dig "app" "nope" "none" . >>', "6.7.x none"),
        (
            "<< list 1 2 3 | first >> << list 1 2 3 | last >> << list 1 2 3 | rest >> << list 1 2 3 | initial >>",
            "1 3 [2 3] [1 2]",
        ),
        (
            "<< append (list 1) 2 >> << prepend (list 1) 0 >> << reverse (list 1 2) >> << uniq (list 1 1 2) >> << without (list 1 2 3) 2 >>",
            "[1 2] [0 1] [2 1] [1 2] [1 3]",
        ),
        (
            "<< has 2 (list 1 2) >> << slice (list 1 2 3) 1 >> << concat (list 1) (list 2 3) >> << chunk 2 (list 1 2 3) >>",
            "true [2 3] [1 2 3] [[1 2] [3]]",
        ),
        # reflection, paths, regular expressions, urls
        (
            '<< typeOf .app.replicas >> << typeOf 1 >> << typeOf .app >> << kindOf .components >> << kindIs "string" .tenant >> << typeIs "bool" true >>',
            "int64 int map[string]interface {} slice true true",
        ),
        (
            '<< base "/a/b.txt" >> << dir "/a/b.txt" >> << ext "b.tar.gz" >> << clean "a//b/../c" >> << isAbs "/x" >>',
            "b.txt /a .gz a/c true",
        ),
        (
            '<< regexMatch "^[a-z]+$" "abc" >> << regexFind "[0-9]+" "a12b3" >> << regexFindAll "[0-9]" "a1b2c3" 2 >> << regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" >> << regexReplaceAllLiteral "a" "aa" "$1" >> << regexSplit "," "a,b,c" -1 >> << regexQuoteMeta "a.b" >>',
            "true 12 [1 2] -W-xxW- $1$1 [a b c] a\\.b",
        ),
        (
            '<< (urlParse "https://u@example.com:8443/a/b?x=1#f").host >> << urlJoin (dict "scheme" "https" "host" "h" "path" "/p") >>',
            "example.com:8443 https://h/p",
        ),
        (
            '<< duration 95 >> << durationRound "2h30m" >> << (toDate "2006-01-02" "2024-03-05").Year >> << unixEpoch (toDate "2006-01-02" "1970-01-02") >>',
            "1m35s 2h 2024 86400",
        ),
    ],
)
def test_functions(text: str, want: str) -> None:
    assert run(text, INPUTS) == want


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<< .app.replicas | upper >>", "wrong type for value; expected string; got int64"),
        (
            "<< .app | nindent 2 >>",
            "wrong type for value; expected string; got map[string]interface {}",
        ),
        ('<< indent .app.replicas "x" >>', "wrong type for value; expected int; got int64"),
        ("<< .missing | upper >>", "invalid value; expected string"),
        ('<< fail "no way" >>', "error calling fail: no way"),
        ("<< div 1 0 >>", "error calling div: runtime error: integer divide by zero"),
        ('<< regexMatch "(" "x" >>', "error calling regexMatch: error parsing regexp"),
        ('<< first "abc" >>', "error calling first: Cannot find first on type string"),
        ("<< add >>x<< nope >>", 'function "nope" not defined'),
    ],
)
def test_errors_are_gos(text: str, message: str) -> None:
    with pytest.raises((TemplateExecError, TemplateSyntaxError)) as info:
        run(text, INPUTS)
    assert message in str(info.value)


def test_missingkey_error_as_the_operator_sets_it() -> None:
    t = Template("resourceset", funcs=FUNCS, delims=("<<", ">>"), missingkey="error")
    with pytest.raises(TemplateExecError) as info:
        t.parse("a: 1\nname: << .tenant >>-<< .nope >>").execute(INPUTS)
    assert str(info.value) == (
        'template: resourceset:2:23: executing "resourceset" at <.nope>: '
        'map has no entry for key "nope"'
    )


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Team 1: Apps!", "team-1-apps"),
        ("  Hello   World  ", "hello-world"),
        ("Ünïcödé & more @ home", "unicode-and-more-at-home"),
        ("feat/ui_color--scheme", "feat-ui_color-scheme"),
        ("--_x_--", "x"),
        ("a" * 70, "a" * 63),
        ("word " * 20, "word-word-word-word-word-word-word-word-word-word-word-word"),
    ],
)
def test_slugify_like_gosimple_slug(text: str, want: str) -> None:
    assert slugify(text) == want
    assert len(slugify(text)) <= 63
