"""The ${var} engine: Flux's syntax, escapes, defaults, quirks and strict mode."""

from __future__ import annotations

import pytest

from weir.kustomize.envsubst import EnvsubstSyntaxError, UndefinedVariableError, expand, parse

VARS = {
    "var01": "abcdEFGH28ij",
    "upper": "ABCDEFGH28IJ",
    "default_var": "foo",
    "path_name": "/home/bozo/ideas/thoughts.for.today",
    "z": "abcABC123ABCabc",
    "file": "bash.string.txt",
    "path": "path/to/file",
    "slashes": "foo/bar/baz",
    "empty": "",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text, no variables", "plain text, no variables"),
        ("${var01}", "abcdEFGH28ij"),
        ("a ${var01} b ${default_var}", "a abcdEFGH28ij b foo"),
        ("${#var01}", "12"),
        ("${var01^}", "AbcdEFGH28ij"),
        ("${var01^^}", "ABCDEFGH28IJ"),
        ("${upper,}", "aBCDEFGH28IJ"),
        ("${upper,,}", "abcdefgh28ij"),
        ("${path_name:11}", "ideas/thoughts.for.today"),
        ("${path_name:11:5}", "ideas"),
        ("${path_name:-5}", "/home/bozo/ideas/thoughts.for.today"),  # ':-' is a default
        ("${var01:-4:2}", "abcdEFGH28ij"),  # default "4:2" not used
        ("${var01:1:-1}", "bcdEFGH28i"),
        ("${var01:100}", ""),
        ("${var01:x}", "abcdEFGH28ij"),  # unparsable offset: the value, like bash
        ("${z/%abc/XYZ}", "abcABC123ABCXYZ"),
        ("${z/#abc/XYZ}", "XYZABC123ABCabc"),
        ("${z/#/pre-}", "pre-abcABC123ABCabc"),
        ("${z/%/-post}", "abcABC123ABCabc-post"),
        ("${z//abc/xyz}", "xyzABC123ABCxyz"),
        ("${z/abc/xyz}", "xyzABC123ABCabc"),
        ("${z/abc/}", "ABC123ABCabc"),
        ("${slashes/\\//-}", "foo-bar/baz"),
        ("${slashes//\\//-}", "foo-bar-baz"),
        ("${file#*.}", "string.txt"),
        ("${file##*.}", "txt"),
        ("${file%.*}", "bash.string"),
        ("${file%%.*}", "bash"),
        ("${path#*/}", "to/file"),
        ("${path##*/}", "file"),  # '*' also matches '/'
        ("${file#[a-c]*}", "ash.string.txt"),
        ("${file#x*}", "bash.string.txt"),
        ("${file#[}", "bash.string.txt"),  # a bad glob leaves the value alone
    ],
)
def test_operators(text: str, expected: str) -> None:
    assert expand(text, VARS) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${missing:=xyz}", "xyz"),
        ("${missing=xyz}", "xyz"),
        ("${missing:-xyz}", "xyz"),
        ("${missing:?xyz}", "xyz"),  # never an error, as in Flux
        ("${missing:+xyz}", "xyz"),  # not "alternate value": a default, as in Flux
        ("${empty:=xyz}", "xyz"),  # empty counts as unset
        ("${var01:=xyz}", "abcdEFGH28ij"),
        ("${missing:=}", ""),
        ("${missing:=${default_var}}", "foo"),
        ("${missing:=pre-${default_var}-post}", "pre-foo-post"),
        ("${missing:=${var01^^}}", "ABCDEFGH28IJ"),
        ("${missing:=a b: c}", "a b: c"),
        ("${missing:=x}y}", "xy}"),
    ],
)
def test_defaults(text: str, expected: str) -> None:
    assert expand(text, VARS, strict=True) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$${var01}", "${var01}"),
        ("$$", "$"),
        ("$$$", "$$"),
        ("$$${var01}", "$abcdEFGH28ij"),
        ("$var01 stays", "$var01 stays"),
        ("cost: 5$", "cost: 5$"),
        ("a } b", "a } b"),
        ("${var01}$${var$${var01}$var01${var01}", "abcdEFGH28ij${var${var01}$var01abcdEFGH28ij"),
        ("something $${var=${default_var}}", "something ${var=foo}"),
        ("\\\\not an escape outside ${default_var}", "\\\\not an escape outside foo"),
    ],
)
def test_escapes(text: str, expected: str) -> None:
    assert expand(text, VARS) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("${}", "unable to parse variable name"),
        ("${ var01}", "unable to parse variable name"),
        ("${", "unable to parse variable name"),
        ("${var01", "missing closing brace"),
        ("${var01 }", "missing closing brace"),
        ("${var01-x}", "missing closing brace"),  # '-' needs the colon in Flux
        ("${#}", "bad substitution"),
        ("${#var01:1}", "bad substitution"),
        ("${var01^x}", "bad substitution"),
        ("${var01//x}", "bad substitution"),
        ("${var01#}", "unable to parse substitution within function"),
        ("${var01:=x", "unable to parse substitution within function"),
        ("${var01::1}", "unable to parse substitution within function"),
    ],
)
def test_syntax_errors(text: str, error: str) -> None:
    with pytest.raises(EnvsubstSyntaxError, match=f"^{error}$"):
        parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "${missing}",
        "x: ${missing}",
        "${#missing}",
        "${missing^^}",
        "${missing:1}",
        "${missing/a/b}",
        "${missing#a}",
        "${missing%%a}",
        "${var01:=${missing}}",
    ],
)
def test_strict_mode_names_the_variable(text: str) -> None:
    with pytest.raises(
        UndefinedVariableError, match=r'^variable not set \(strict mode\): "missing"$'
    ):
        expand(text, VARS, strict=True)
    # Non-strict: an undefined variable is empty.
    expand(text, VARS, strict=False)


def test_non_strict_expands_undefined_to_empty() -> None:
    assert expand("a${missing}b", {}, strict=False) == "ab"
    assert expand("${missing^^}|${#missing}", {}, strict=False) == "|0"


def test_unicode_values_and_names() -> None:
    assert expand("${v^}", {"v": "élan"}) == "Élan"
    assert expand("${#v}", {"v": "élan"}) == "4"
    assert expand("${名前:=x}", {}) == "x"


def test_text_without_dollar_is_returned_as_is() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\n"
    assert expand(text, {}) is text
