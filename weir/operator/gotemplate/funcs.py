"""Template functions: how a Python function declares its Go signature, and Go's builtins
(``and``, ``or``, ``not``, ``len``, ``index``, ``slice``, ``print*``, ``eq``..., ``html``,
``js``, ``urlquery``, ``call``).

Parameter types are Go's: ``any`` (``interface{}``, takes nil), ``value`` (a
``reflect.Value``: takes anything, even a missing value), ``string``, ``int``, ``int64``,
``float64``, ``bool``, ``map`` (``map[string]interface {}``) and ``time`` (``time.Time``).
Arguments are checked as Go checks them: an ``int64`` is not an ``int``, a number is not a
string (``wrong type for value; expected string; got int64``).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from weir.operator.gotemplate.errors import FuncError, TemplateLimitError
from weir.operator.gotemplate.gofmt import _is_print, sprint, sprintf, sprintln
from weir.operator.gotemplate.values import (
    GoTime,
    Int64,
    TypedMap,
    TypedSlice,
    Uint8,
    go_type,
    is_int,
    is_true,
)

GO_TYPE_NAMES = {
    "any": "interface {}",
    "value": "reflect.Value",
    "string": "string",
    "int": "int",
    "int64": "int64",
    "float64": "float64",
    "bool": "bool",
    "map": "map[string]interface {}",
    "time": "time.Time",
}


@dataclass(frozen=True)
class Func:
    """A template function and its Go signature."""

    name: str
    fn: Callable[..., Any]
    params: tuple[str, ...] = ()
    variadic: str | None = None
    returns: str = "any"
    """Go result type (``any`` results are interface values, which error messages name
    ``interface {}``)."""


def gofunc(
    name: str, *params: str, variadic: str | None = None, returns: str = "any"
) -> Callable[[Callable[..., Any]], Func]:
    """Declare a Python function as a template function with a Go signature."""

    def wrap(fn: Callable[..., Any]) -> Func:
        return Func(name, fn, tuple(params), variadic, returns)

    return wrap


@dataclass
class Budget:
    """Limits shared by the functions of one execution (see :class:`~.template.Limits`)."""

    max_string: int
    max_items: int


_DEFAULT_BUDGET = Budget(1 << 24, 1 << 20)
_BUDGET: ContextVar[Budget | None] = ContextVar("gotemplate_budget", default=None)


def budget() -> Budget:
    """The limits of the execution running now."""
    return _BUDGET.get() or _DEFAULT_BUDGET


def set_budget(value: Budget) -> Any:
    return _BUDGET.set(value)


def reset_budget(token: Any) -> None:
    _BUDGET.reset(token)


def check_size(size: int, what: str = "result") -> None:
    """Refuse to build a string (or list) larger than the execution allows."""
    limit = budget().max_string
    if size > limit:
        raise TemplateLimitError(f"{what} would be {size} bytes, over the limit of {limit}")


def check_items(count: int) -> None:
    limit = budget().max_items
    if count > limit:
        raise TemplateLimitError(f"list would have {count} items, over the limit of {limit}")


# ----------------------------------------------------------------------------- comparisons
_BOOL, _FLOAT, _INT, _STRING, _UINT = "bool", "float", "int", "string", "uint"


def _basic_kind(v: Any) -> str | None:
    if isinstance(v, bool):
        return _BOOL
    if isinstance(v, Uint8):
        return _UINT
    if is_int(v):
        return _INT
    if isinstance(v, float):
        return _FLOAT
    if isinstance(v, str):
        return _STRING
    return None


_INCOMPATIBLE = "incompatible types for comparison"
_INVALID_TYPE = "invalid type for comparison"


def _eq(a: Any, *rest: Any) -> bool:
    if not rest:
        raise FuncError("missing argument for comparison")
    k1 = _basic_kind(a)
    for b in rest:
        k2 = _basic_kind(b)
        if k1 != k2:
            if {k1, k2} == {_INT, _UINT}:
                truth = a == b
            elif a is not None and b is not None:
                raise FuncError(_INCOMPATIBLE)
            else:
                truth = False
        elif k1 is None:
            if a is None or b is None:
                truth = a is None and b is None
            elif isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
                shown = b if isinstance(b, (list, dict)) else a
                raise FuncError(f"non-comparable type {sprint([shown], 1 << 16)}: {go_type(shown)}")
            else:
                truth = go_type(a) == go_type(b) and a == b
        else:
            truth = a == b
        if truth:
            return True
    return False


def _lt(a: Any, b: Any) -> bool:
    k1 = _basic_kind(a)
    if k1 is None:
        raise FuncError(_INVALID_TYPE)
    k2 = _basic_kind(b)
    if k2 is None:
        raise FuncError(_INVALID_TYPE)
    if k1 != k2:
        if {k1, k2} == {_INT, _UINT}:
            return bool(a < b)
        raise FuncError(_INCOMPATIBLE)
    if k1 == _BOOL:
        raise FuncError(_INVALID_TYPE)
    return bool(a < b)


# ----------------------------------------------------------------------------- builtins
def _length(item: Any) -> int:
    if item is None:
        raise FuncError("len of nil pointer")
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, (list, dict)):
        return len(item)
    raise FuncError(f"len of type {go_type(item)}")


def _index_of(v: Any, length: int) -> int:
    if not is_int(v):
        if v is None:
            raise FuncError("cannot index slice/array with nil")
        raise FuncError(f"cannot index slice/array with type {go_type(v)}")
    x = int(v)
    if x < 0 or x >= length:
        raise FuncError(f"index out of range: {x}")
    return x


def _index(item: Any, *indexes: Any) -> Any:
    if item is None:
        raise FuncError("index of untyped nil")
    for ix in indexes:
        if item is None:
            raise FuncError("index of nil pointer")
        if isinstance(item, str):
            item = Uint8(item.encode()[_index_of(ix, len(item.encode()))])
        elif isinstance(item, list):
            item = item[_index_of(ix, len(item))]
        elif isinstance(item, dict):
            if ix is None:
                item = None if not isinstance(item, TypedMap) else ""
                continue
            if not isinstance(ix, str):
                raise FuncError(f"value has type {go_type(ix)}; should be string")
            missing = "" if isinstance(item, TypedMap) else None
            item = item.get(ix, missing)
        else:
            raise FuncError(f"can't index item of type {go_type(item)}")
    return item


def _slice(item: Any, *indexes: Any) -> Any:
    if item is None:
        raise FuncError("slice of untyped nil")
    if len(indexes) > 3:
        raise FuncError(f"too many slice indexes: {len(indexes)}")
    data: bytes | list[Any]
    if isinstance(item, str):
        if len(indexes) == 3:
            raise FuncError("cannot 3-index slice a string")
        data = item.encode()
        cap = len(data)
    elif isinstance(item, list):
        data = item
        cap = len(item)
    else:
        raise FuncError(f"can't slice item of type {go_type(item)}")
    idx = [0, len(data)]
    for i, v in enumerate(indexes):
        x = _index_arg(v, cap)
        if i < 2:
            idx[i] = x
        else:
            idx.append(x)
    if idx[0] > idx[1]:
        raise FuncError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if len(idx) == 3 and idx[1] > idx[2]:
        raise FuncError(f"invalid slice index: {idx[1]} > {idx[2]}")
    part = data[idx[0] : idx[1]]
    if isinstance(item, str):
        assert isinstance(part, bytes)
        return part.decode(errors="surrogateescape")
    return type(item)(part) if not isinstance(item, TypedSlice) else TypedSlice(part, item.elem)


def _index_arg(v: Any, cap: int) -> int:
    if not is_int(v):
        raise FuncError(f"cannot index slice/array with type {go_type(v)}")
    x = int(v)
    if x < 0 or x > cap:
        raise FuncError(f"index out of range: {x}")
    return x


def eval_args(args: tuple[Any, ...]) -> str:
    """Go's ``evalArgs``: one string as is, anything else through ``fmt.Sprint``."""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(args, budget().max_string)


def html_escape(s: str) -> str:
    """``template.HTMLEscapeString``."""
    if not any(c in s for c in "'\"&<>\0"):
        return s
    table = {"\0": "\ufffd", '"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;"}
    return "".join(table.get(c, c) for c in s)


def js_escape(s: str) -> str:
    """``template.JSEscapeString``."""
    out: list[str] = []
    table = {
        "\\": "\\\\",
        "'": "\\'",
        '"': '\\"',
        "<": "\\u003C",
        ">": "\\u003E",
        "&": "\\u0026",
        "=": "\\u003D",
    }
    for c in s:
        code = ord(c)
        if c in table:
            out.append(table[c])
        elif code < 0x20:
            out.append(f"\\u00{code:02X}")
        elif code < 0x80 or _is_print(c):
            out.append(c)
        else:
            out.append(f"\\u{code:04X}")
    return "".join(out)


def _call(fn: Any, *args: Any) -> Any:
    if fn is None:
        raise FuncError("call of nil")
    if isinstance(fn, Func):
        return fn.fn(*args)
    if not callable(fn):
        raise FuncError(f"non-function of type {go_type(fn)}")
    try:
        return fn(*args)
    except (FuncError, TemplateLimitError):
        raise
    except Exception as e:  # a caller's Python function: its failure is the template's error
        raise FuncError(str(e)) from e


def _not(v: Any) -> bool:
    return not is_true(v)


def _and(*args: Any) -> Any:  # pragma: no cover - evaluated lazily by the executor
    for a in args:
        if not is_true(a):
            return a
    return args[-1]


def _or(*args: Any) -> Any:  # pragma: no cover - evaluated lazily by the executor
    for a in args:
        if is_true(a):
            return a
    return args[-1]


def _printf(fmt: str, *args: Any) -> str:
    return sprintf(fmt, args, budget().max_string)


def _print(*args: Any) -> str:
    return sprint(args, budget().max_string)


def _println(*args: Any) -> str:
    return sprintln(args, budget().max_string)


def _urlquery(*args: Any) -> str:
    return urllib.parse.quote_plus(eval_args(args), safe="-_.~")


BUILTINS: dict[str, Func] = {
    f.name: f
    for f in (
        Func("and", _and, ("value",), "value"),
        Func("or", _or, ("value",), "value"),
        Func("not", _not, ("value",), returns="bool"),
        Func("call", _call, ("value",), "value"),
        Func("html", lambda *a: html_escape(eval_args(a)), (), "any", "string"),
        Func("js", lambda *a: js_escape(eval_args(a)), (), "any", "string"),
        Func("urlquery", _urlquery, (), "any", "string"),
        Func("index", _index, ("value",), "value"),
        Func("slice", _slice, ("value",), "value"),
        Func("len", _length, ("value",), returns="int"),
        Func("print", _print, (), "any", "string"),
        Func("printf", _printf, ("string",), "any", "string"),
        Func("println", _println, (), "any", "string"),
        Func("eq", _eq, ("value",), "value", "bool"),
        Func("ne", lambda a, b: not _eq(a, b), ("value", "value"), returns="bool"),
        Func("lt", _lt, ("value", "value"), returns="bool"),
        Func("le", lambda a, b: _lt(a, b) or _eq(a, b), ("value", "value"), returns="bool"),
        Func("gt", lambda a, b: not (_lt(a, b) or _eq(a, b)), ("value", "value"), returns="bool"),
        Func("ge", lambda a, b: not _lt(a, b), ("value", "value"), returns="bool"),
    )
}

__all__ = [
    "BUILTINS",
    "GO_TYPE_NAMES",
    "Budget",
    "Func",
    "GoTime",
    "Int64",
    "budget",
    "check_items",
    "check_size",
    "gofunc",
]
