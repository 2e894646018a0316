"""Flux's flavour of bash-style variable expansion (``fluxcd/pkg/envsubst``), as a pure function.

Syntax (only the braced form expands; ``$var`` stays as written):

=====================  =========================================================================
``$$``                 one literal ``$`` (so ``$${var}`` gives ``${var}``)
``${var}``             the value
``${var:=d}`` etc.     ``=``, ``:=``, ``:-``, ``:?``, ``:+``: the value, or ``d`` when the value is
                       empty or unset (all five behave alike, as in Flux); ``d`` may nest ``${..}``
``${#var}``            length
``${var^}``/``^^``     upper-case the first / every character (``,`` and ``,,`` lower-case)
``${var:pos[:len]}``   substring; negative ``pos`` counts from the end, negative ``len`` drops
                       characters from the end
``${var#p}``/``##``    remove the shortest/longest prefix matching the glob ``p``
``${var%p}``/``%%``    remove the shortest/longest suffix matching the glob ``p``
``${var/p/r}``         replace the first ``p`` (``//``: all, ``/#``: prefix, ``/%``: suffix) by
                       ``r``; ``\\/`` is a literal ``/`` in ``p`` and ``r``
=====================  =========================================================================

Quirks kept from Flux: ``-``, ``+`` and ``?`` need the colon (``${var-d}`` is a syntax error);
arguments are expanded before the operator looks at the value, so in strict mode
``${set:=${unset}}`` fails although the default is not used.

Strict mode (Flux's ``StrictPostBuildSubstitutions``, on by default since Flux 2.9): a variable
that is not defined and not guarded by a default operator is an error naming it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from weir.kustomize.errors import SubstitutionError

DEFAULT_OPS = frozenset({"=", ":=", ":-", ":?", ":+"})


class EnvsubstSyntaxError(SubstitutionError):
    """The text holds a ``${`` that does not parse."""


class UndefinedVariableError(SubstitutionError):
    """Strict mode met a variable that is not defined."""

    def __init__(self, name: str) -> None:
        super().__init__(f'variable not set (strict mode): "{name}"')
        self.name = name

    def __reduce__(self) -> tuple[Any, ...]:  # pickled by the build workers
        return (type(self), (self.name,))


MAX_DEPTH = 64
"""How deeply ``${...}`` may nest (``${a:=${b:=...}}``); deeper is a syntax error, not a
RecursionError."""


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Expr:
    name: str
    op: str = ""
    args: tuple[Node, ...] = ()


Node = Text | Expr

_BAD = "bad substitution"
_NO_BRACE = "missing closing brace"
_NO_NAME = "unable to parse variable name"
_BAD_ARG = "unable to parse substitution within function"


def _ident_char(c: str) -> bool:
    return c.isalpha() or c.isdecimal() or c == "_"


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.depth = 0

    def peek(self, offset: int = 0) -> str:
        j = self.i + offset
        return self.s[j] if j < len(self.s) else ""

    def lbrack(self) -> bool:
        return self.s.startswith("${", self.i)

    def expect_close(self, error: str = _BAD) -> None:
        if self.peek() != "}":
            raise EnvsubstSyntaxError(error)
        self.i += 1

    def take(self, chars: str, limit: int) -> str:
        start = self.i
        while self.i - start < limit and self.peek() and self.peek() in chars:
            self.i += 1
        return self.s[start : self.i]

    def document(self) -> tuple[Node, ...]:
        nodes: list[Node] = []
        buf: list[str] = []
        while self.i < len(self.s):
            if self.lbrack():
                if buf:
                    nodes.append(Text("".join(buf)))
                    buf = []
                self.i += 2
                nodes.append(self.expr())
            elif self.peek() == "$" and self.peek(1) == "$":
                buf.append("$")
                self.i += 2
            else:
                buf.append(self.s[self.i])
                self.i += 1
        if buf:
            nodes.append(Text("".join(buf)))
        return tuple(nodes)

    def param(self, accept: Callable[[str], bool], escapes: bool) -> Node:
        """One argument: a nested ``${...}`` or a run of accepted characters."""
        if self.lbrack():
            self.i += 2
            return self.expr()
        out: list[str] = []
        while (c := self.peek()) and not self.lbrack():
            nxt = self.peek(1)
            if escapes and ((c == "$" and nxt == "$") or (c == "\\" and nxt in ("/", "\\"))):
                out.append(nxt)
                self.i += 2
            elif accept(c):
                out.append(c)
                self.i += 1
            else:
                break
        if not out:
            raise EnvsubstSyntaxError(_BAD_ARG)
        return Text("".join(out))

    def expr(self) -> Expr:
        """After ``${``: one expression up to and including its ``}``."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise EnvsubstSyntaxError(f"expressions nest deeper than {MAX_DEPTH} levels")
        try:
            return self._expr()
        finally:
            self.depth -= 1

    def _expr(self) -> Expr:
        if self.peek() == "#":
            self.i += 1
            name = self.take_ident()
            if not name:
                raise EnvsubstSyntaxError(_BAD)
            self.expect_close()
            return Expr(name, "len")
        name = self.take_ident()
        if not name:
            raise EnvsubstSyntaxError(_NO_NAME)
        c = self.peek()
        if c == ":" and self.peek(1) and self.peek(1) in "=-?+":
            self.i += 2
            return self.default(name, ":" + self.s[self.i - 1])
        if c == ":":
            return self.substring(name)
        if c == "=":
            self.i += 1
            return self.default(name, "=")
        if c and c in ",^":
            op = self.take(",^", 2)
            self.expect_close()
            return Expr(name, op)
        if c == "/":
            return self.replace(name)
        if c and c in "#%":
            op = self.take(c, 2)
            pattern = self.param(lambda ch: ch != "}", escapes=False)
            self.expect_close()
            return Expr(name, op, (pattern,))
        self.expect_close(_NO_BRACE)
        return Expr(name)

    def take_ident(self) -> str:
        start = self.i
        while self.peek() and _ident_char(self.peek()):
            self.i += 1
        return self.s[start : self.i]

    def default(self, name: str, op: str) -> Expr:
        args: list[Node] = []
        while self.peek() != "}":
            args.append(self.param(lambda ch: ch != "}", escapes=False))
        self.i += 1
        return Expr(name, op, tuple(args))

    def substring(self, name: str) -> Expr:
        self.i += 1  # the ':'
        args = [self.param(lambda ch: ch not in ":}", escapes=False)]
        if self.peek() == "}":
            self.i += 1
            return Expr(name, ":", tuple(args))
        if not self.take(":", len(self.s)):
            raise EnvsubstSyntaxError(_BAD)
        args.append(self.param(lambda ch: ch != "}", escapes=False))
        self.expect_close()
        return Expr(name, ":", tuple(args))

    def replace(self, name: str) -> Expr:
        self.i += 1
        op = "/" + self.take("/#%", 1)
        if self.peek() == "/":
            args: list[Node] = [Text("")]
        else:
            args = [self.param(lambda ch: ch != "/", escapes=True)]
        if not self.take("/", len(self.s)):
            raise EnvsubstSyntaxError(_BAD)
        if self.peek() != "}":
            args.append(self.param(lambda ch: ch != "}", escapes=True))
        self.expect_close()
        return Expr(name, op, tuple(args))


def parse(text: str) -> tuple[Node, ...]:
    """Parse ``text``; raises :class:`EnvsubstSyntaxError` with Flux's message."""
    return _Parser(text).document()


# ------------------------------------------------------------------------------- operators
# A glob is matched by simulating its automaton over the value, one character at a time, never
# by a backtracking regex: ``${v##*a*a*a*b}`` costs O(len(value) * len(pattern)) whatever the
# input (a regex took minutes on a 400-character value).
_STAR = ("*",)
_ANY = ("?",)
Token = tuple[Any, ...]


def _class(body: str) -> tuple[tuple[str, str], ...]:
    ranges = []
    j = 0
    while j < len(body):
        if j + 2 < len(body) and body[j + 1] == "-":
            ranges.append((body[j], body[j + 2]))
            j += 3
        else:
            ranges.append((body[j], body[j]))
            j += 1
    return tuple(ranges)


def _glob(pattern: str) -> list[Token] | None:
    """A glob (``*``, ``?``, ``[...]``, ``[!...]``, ``\\x``) as tokens; ``*`` also matches
    ``/``. None for a pattern that does not parse (an unclosed or empty ``[``)."""
    out: list[Token] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            if not out or out[-1] is not _STAR:
                out.append(_STAR)
        elif c == "?":
            out.append(_ANY)
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(("=", pattern[i]))
        elif c == "[":
            negate = pattern[i + 1 : i + 2] in ("^", "!")
            start = i + 2 if negate else i + 1
            end = pattern.find("]", start)
            if end <= start:
                return None
            out.append(("[", negate, _class(pattern[start:end])))
            i = end
        else:
            out.append(("=", c))
        i += 1
    return out


def _accepts(token: Token, ch: str) -> bool:
    if token is _ANY:
        return True
    if token[0] == "=":
        return bool(token[1] == ch)
    inside = any(lo <= ch <= hi for lo, hi in token[2])
    return inside is not bool(token[1])


def _closure(states: set[int], tokens: list[Token]) -> set[int]:
    for start in sorted(states):
        k = start
        while k < len(tokens) and tokens[k] is _STAR:
            k += 1
            states.add(k)
    return states


def _prefix_matches(value: str, tokens: list[Token]) -> list[int]:
    """Every length n >= 1 such that ``value[:n]`` matches the whole glob, in increasing order."""
    end = len(tokens)
    states = _closure({0}, tokens)
    found = []
    for n, ch in enumerate(value, 1):
        nxt: set[int] = set()
        for k in states:
            if k == end:
                continue
            token = tokens[k]
            if token is _STAR:
                nxt.add(k)
            elif _accepts(token, ch):
                nxt.add(k + 1)
        states = _closure(nxt, tokens)
        if not states:
            break
        if end in states:
            found.append(n)
    return found


def _trim_prefix(value: str, pattern: str, longest: bool) -> str:
    tokens = _glob(pattern)
    if tokens is None:
        return value
    return _trim(value, tokens, longest)


def _trim(value: str, tokens: list[Token], longest: bool) -> str:
    lengths = _prefix_matches(value, tokens)
    if not lengths:
        return value
    return value[(lengths[-1] if longest else lengths[0]) :]


def _trim_suffix(value: str, pattern: str, longest: bool) -> str:
    tokens = _glob(pattern)
    if tokens is None:
        return value
    return _trim(value[::-1], tokens[::-1], longest)[::-1]


_INT = re.compile(r"[+-]?[0-9]+")


def _substring(value: str, args: list[str]) -> str:
    if not _INT.fullmatch(args[0]):
        return value
    pos = int(args[0])
    if pos < 0:
        pos = max(len(value) + pos, 0)
    if len(args) == 1:
        return value[pos:]
    if not _INT.fullmatch(args[1]):
        return value
    length = int(args[1])
    if length < 0:
        end = len(value) + length
        return "" if end < pos else value[pos:end]
    return value[pos : pos + length]


def _replace(value: str, op: str, args: list[str]) -> str:
    if op in ("/#", "/%"):
        if len(args) != 2:
            return value
        pattern, repl = args
        if op == "/#":
            return repl + value[len(pattern) :] if value.startswith(pattern) else value
        return value[: len(value) - len(pattern)] + repl if value.endswith(pattern) else value
    repl = args[1] if len(args) > 1 else ""
    return value.replace(args[0], repl, -1 if op == "//" else 1)


def _apply(op: str, value: str, args: list[str]) -> str:
    if op == "len":
        return str(len(value))
    if op in (",", ",,", "^", "^^"):
        fn = str.lower if op[0] == "," else str.upper
        return fn(value) if len(op) == 2 else fn(value[:1]) + value[1:]
    if op in ("#", "##") and args:
        return _trim_prefix(value, args[0], longest=op == "##")
    if op in ("%", "%%") and args:
        return _trim_suffix(value, args[0], longest=op == "%%")
    if op == ":" and args:
        return _substring(value, args)
    if op.startswith("/") and args:
        return _replace(value, op, args)
    return value or "".join(args)  # the default operators, and Flux's fallback for the rest


# ------------------------------------------------------------------------------- evaluation
def _evaluate(node: Node, variables: Mapping[str, str], strict: bool) -> str:
    if isinstance(node, Text):
        return node.value
    args = [_evaluate(a, variables, strict) for a in node.args]
    value = variables.get(node.name)
    if value is None and strict and node.op not in DEFAULT_OPS:
        raise UndefinedVariableError(node.name)
    return _apply(node.op, value or "", args)


def expand(text: str, variables: Mapping[str, str], *, strict: bool = True) -> str:
    """``text`` with every ``${...}`` expanded from ``variables`` (see the module docstring).

    Raises :class:`EnvsubstSyntaxError` for a malformed expression and, when ``strict``,
    :class:`UndefinedVariableError` for an undefined variable without a default.
    """
    if "$" not in text:
        return text
    return "".join(_evaluate(n, variables, strict) for n in parse(text))
