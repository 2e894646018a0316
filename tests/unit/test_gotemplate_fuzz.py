"""Property tests: whatever text the lexer, parser and evaluator get, they return a result
or raise a TemplateError (never another exception), within the execution bounds."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.support.fuzzing import fuzz
from weir.operator.gotemplate import Limits, Template, TemplateError
from weir.operator.gotemplate.lexer import T, lex
from weir.operator.gotemplate.sprig import FUNCS

LIMITS = Limits(max_output=20_000, max_steps=5_000, max_depth=10, max_items=1_000)

TOKENS = [
    "{{",
    "}}",
    "{{-",
    "-}}",
    "{{ ",
    " }}",
    "<<",
    ">>",
    "/*",
    "*/",
    " ",
    "\n",
    "|",
    "(",
    ")",
    ".",
    ".a",
    ".b.c",
    "$",
    "$x",
    "$x :=",
    "$x =",
    ",",
    ":=",
    "=",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "nil",
    "true",
    "false",
    "1",
    "-2",
    "3.5",
    "1e3",
    "0x1f",
    "'a'",
    '"s"',
    "`raw`",
    '"\\q"',
    "and",
    "or",
    "not",
    "len",
    "index",
    "slice",
    "printf",
    '"%d"',
    "print",
    "eq",
    "lt",
    "html",
    "js",
    "urlquery",
    "call",
    "default",
    "quote",
    "toYaml",
    "nindent 2",
    "repeat 3",
    "until 5",
    "dict",
    "list",
    "get",
    "toJson",
    "fromJson",
    "int",
    "add 1",
    "upper",
    "a",
    "x",
    "#",
    "\t",
    "é",
    "\x00",
]

DATA: Any = {"a": {"b": [1, "two", None, {"c": 3.5}]}, "x": "str", "n": 3, "l": [1, 2]}

template_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(TOKENS), max_size=40).map("".join),
)


@fuzz(400)
@given(template_text)
def test_lexer_ends_with_eof_or_error(text: str) -> None:
    items = lex(text)
    assert items
    assert items[-1].typ in (T.EOF, T.ERROR)
    assert all(i.typ != T.ERROR for i in items[:-1])


def attempt(template: Template, text: str, data: Any) -> str | TemplateError:
    """Parse and execute; a TemplateError is a result, any other exception fails the test."""
    try:
        return template.parse(text).execute(data)
    except TemplateError as e:
        return e


@fuzz(600)
@given(template_text, st.sampled_from(["default", "error"]))
def test_parse_and_execute_give_output_or_a_template_error(text: str, missingkey: str) -> None:
    template = Template("fuzz", funcs=FUNCS, missingkey=missingkey, limits=LIMITS)  # type: ignore[arg-type]
    result = attempt(template, text, DATA)
    if isinstance(result, TemplateError):
        assert str(result).startswith("template: ")
    else:
        assert len(result) <= LIMITS.max_output


@fuzz(300)
@given(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join))
def test_custom_delimiters_too(body: str) -> None:
    text = body.replace("{{", "<<").replace("}}", ">>")
    template = Template("fuzz", funcs=FUNCS, delims=("<<", ">>"), limits=LIMITS)
    result = attempt(template, text, None)
    assert isinstance(result, (str, TemplateError))
