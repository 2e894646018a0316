"""The function set of ResourceSet templates: slim-sprig's ``HermeticTxtFuncMap`` (sprig v3
without the functions that need outside packages, minus the non-repeatable ones: dates from
"now", random strings, the environment, DNS) plus ``slugify``, ``toYaml`` and ``mustToYaml``,
as the Flux Operator registers them. Each function keeps its Go signature (argument types are
checked as Go checks them) and its Go behaviour (``atoi "x"`` is 0, ``b64dec`` of bad input
returns the error text, integer arithmetic wraps at 64 bits...).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import posixpath
import random
import re
import urllib.parse
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from weir.operator.gotemplate.errors import FuncError
from weir.operator.gotemplate.funcs import Func, budget, check_items, check_size
from weir.operator.gotemplate.gofmt import format_float, quote, sprint
from weir.operator.gotemplate.gotime import (
    format_duration,
    format_time,
    parse_duration,
    parse_time,
)
from weir.operator.gotemplate.goyaml import dump, json_marshal, json_unmarshal, to_json_value
from weir.operator.gotemplate.slug import slugify
from weir.operator.gotemplate.values import (
    INT64_MAX,
    GoTime,
    Int64,
    TypedMap,
    TypedSlice,
    Uint8,
    deep_equal,
    go_kind,
    go_type,
    is_int,
    is_true,
    wrap64,
)

FUNCS: dict[str, Func] = {}


def _register(*funcs: Func) -> None:
    for f in funcs:
        FUNCS[f.name] = f


# ----------------------------------------------------------------------------- conversions
def strval(v: Any) -> str:
    """sprig's ``strval``: strings as is, anything else through ``%v``."""
    if isinstance(v, str):
        return v
    if isinstance(v, GoTime):
        return str(v)
    return sprint([v], budget().max_string) if v is not None else "<nil>"


def to_int64(v: Any) -> int:
    """slim-sprig's ``toInt64``: strings parsed base 10 (0 on error), floats truncated,
    bools 0/1, anything else 0."""
    if isinstance(v, str):
        try:
            n = int(v, 10) if re.fullmatch(r"[+-]?[0-9]+", v) else None
        except ValueError:
            n = None
        if n is None or not -(2**63) <= n <= INT64_MAX:
            return 0
        return n
    if isinstance(v, bool):
        return 1 if v else 0
    if is_int(v):
        return wrap64(int(v))
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return -(2**63)
        return wrap64(int(v))
    return 0


def to_float64(v: Any) -> float:
    if isinstance(v, str):
        try:
            return (
                float(v)
                if re.fullmatch(r"[+-]?(?:[0-9_.]+(?:[eE][+-]?[0-9]+)?|Inf|NaN|inf)", v)
                else 0.0
            )
        except ValueError:
            return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if is_int(v) or isinstance(v, float):
        return float(v)
    return 0.0


def empty(v: Any) -> bool:
    """sprig's ``empty``: nil, false, 0 and empty strings, lists and maps."""
    if v is None:
        return True
    if isinstance(v, GoTime):
        return False
    return not is_true(v)


def _list_items(v: Any, what: str) -> list[Any]:
    if isinstance(v, list):
        return list(v)
    kind = "ptr" if v is None else go_kind(v)
    raise FuncError(f"Cannot {what} on type {kind}")


def strslice(v: Any) -> TypedSlice:
    if isinstance(v, TypedSlice) and v.elem == "string":
        return v
    if isinstance(v, list):
        return TypedSlice([strval(s) for s in v if s is not None], "string")
    if v is None:
        return TypedSlice([], "string")
    return TypedSlice([strval(v)], "string")


# ----------------------------------------------------------------------------- strings
def _trunc(c: int, s: str) -> str:
    b = s.encode()
    if c < 0 and len(b) + c > 0:
        return b[len(b) + c :].decode(errors="replace")
    if c >= 0 and len(b) > c:
        return b[:c].decode(errors="replace")
    return s


def _substr(start: int, end: int, s: str) -> str:
    b = s.encode()
    if start < 0:
        if end < 0 or end > len(b):
            raise FuncError(
                f"runtime error: slice bounds out of range [:{end}] with length {len(b)}"
            )
        return b[:end].decode(errors="replace")
    if end < 0 or end > len(b):
        if start > len(b):
            raise FuncError(f"runtime error: slice bounds out of range [{start}:{len(b)}]")
        return b[start:].decode(errors="replace")
    if start > end:
        raise FuncError(f"runtime error: slice bounds out of range [{start}:{end}]")
    return b[start:end].decode(errors="replace")


def _repeat(count: int, s: str) -> str:
    if count < 0:
        raise FuncError("strings: negative Repeat count")
    check_size(count * len(s), "repeat")
    return s * count


def _title(s: str) -> str:
    """``strings.Title``: upper-case the first letter of each word."""
    out: list[str] = []
    prev = " "
    for c in s:
        sep = not (c.isalnum() or c == "_") if ord(c) < 0x80 else c.isspace()
        prev_sep = not (prev.isalnum() or prev == "_") if ord(prev) < 0x80 else prev.isspace()
        out.append(c.title() if prev_sep and not sep else c)
        prev = c
    return "".join(out)


def _trim_cutset(cutset: str, s: str) -> str:
    return s.strip(cutset) if cutset else s


def _indent(spaces: int, v: str) -> str:
    pad = " " * max(spaces, 0)
    check_size(len(v) + (v.count("\n") + 1) * len(pad), "indent")
    return pad + v.replace("\n", "\n" + pad)


def _replace(old: str, new: str, src: str) -> str:
    count = src.count(old) if old else len(src) + 1
    check_size(len(src) + count * len(new), "replace")
    if old == "":
        # Go inserts new before every rune and at the end
        return new + new.join(src) + new if src else new
    return src.replace(old, new)


def _quote(*args: Any) -> str:
    return " ".join(quote(strval(a)) for a in args if a is not None)


def _squote(*args: Any) -> str:
    return " ".join(f"'{strval(a)}'" for a in args if a is not None)


def _cat(*args: Any) -> str:
    return sprint_spaced([a for a in args if a is not None])


def sprint_spaced(values: list[Any]) -> str:
    """``fmt.Sprintf(strings.Repeat("%v ", n))`` trimmed, as ``cat`` does."""
    return " ".join(sprint([v], budget().max_string) for v in values)


def _plural(one: str, many: str, count: int) -> str:
    return one if count == 1 else many


def _split(sep: str, orig: str) -> TypedMap:
    parts = _go_split(orig, sep, -1)
    return TypedMap({f"_{i}": p for i, p in enumerate(parts)}, "string")


def _splitn(sep: str, n: int, orig: str) -> TypedMap:
    parts = _go_split(orig, sep, n)
    return TypedMap({f"_{i}": p for i, p in enumerate(parts)}, "string")


def _go_split(s: str, sep: str, n: int) -> list[str]:
    """``strings.SplitN`` (``n < 0``: all)."""
    if n == 0:
        return []
    if sep == "":
        chars = list(s)
        if 0 < n < len(chars):
            return [*chars[: n - 1], "".join(chars[n - 1 :])]
        return chars
    if n < 0:
        return s.split(sep)
    return s.split(sep, n - 1)


def _split_list(sep: str, orig: str) -> TypedSlice:
    parts = _go_split(orig, sep, -1)
    check_items(len(parts))
    return TypedSlice(parts, "string")


def _join(sep: str, v: Any) -> str:
    items = strslice(v)
    check_size(sum(len(s) for s in items) + len(sep) * max(len(items) - 1, 0), "join")
    return sep.join(items)


def _sort_alpha(v: Any) -> TypedSlice:
    if isinstance(v, list):
        return TypedSlice(sorted(strslice(v), key=lambda s: s.encode()), "string")
    return TypedSlice([strval(v)], "string")


def _atoi(a: str) -> int:
    return to_int64(a) if re.fullmatch(r"[+-]?[0-9]+", a) else 0


# ----------------------------------------------------------------------------- numbers
def _until_step(start: int, stop: int, step: int) -> TypedSlice:
    if stop < start:
        if step >= 0:
            return TypedSlice([], "int")
        count = (start - stop + (-step) - 1) // (-step)
    else:
        if step <= 0:
            return TypedSlice([], "int")
        count = (stop - start + step - 1) // step
    check_items(count)
    return TypedSlice(range(start, stop, step), "int")


def _until(count: int) -> TypedSlice:
    return _until_step(0, count, -1 if count < 0 else 1)


def _seq(*params: int) -> str:
    if len(params) == 1:
        start, end = 1, params[0]
        step = -1 if end < start else 1
        items = _until_step(start, end + step, step)
    elif len(params) == 2:
        start, end = params
        step = -1 if end < start else 1
        items = _until_step(start, end + step, step)
    elif len(params) == 3:
        start, step, end = params
        inc = 1
        if end < start:
            inc = -1
            if step > 0:
                return ""
        items = _until_step(start, end + inc, step)
    else:
        return ""
    return " ".join(str(i) for i in items)


def _add(*args: Any) -> Int64:
    total = 0
    for a in args:
        total = wrap64(total + to_int64(a))
    return Int64(total)


def _mul(a: Any, *args: Any) -> Int64:
    total = to_int64(a)
    for b in args:
        total = wrap64(total * to_int64(b))
    return Int64(total)


def _div(a: Any, b: Any) -> Int64:
    x, y = to_int64(a), to_int64(b)
    if y == 0:
        raise FuncError("runtime error: integer divide by zero")
    q = abs(x) // abs(y)
    return Int64(wrap64(q if (x >= 0) == (y >= 0) else -q))


def _mod(a: Any, b: Any) -> Int64:
    x, y = to_int64(a), to_int64(b)
    if y == 0:
        raise FuncError("runtime error: integer divide by zero")
    r = abs(x) % abs(y)
    return Int64(r if x >= 0 else -r)


def _max(a: Any, *rest: Any) -> Int64:
    return Int64(max([to_int64(a), *(to_int64(b) for b in rest)]))


def _min(a: Any, *rest: Any) -> Int64:
    return Int64(min([to_int64(a), *(to_int64(b) for b in rest)]))


def _maxf(a: Any, *rest: Any) -> float:
    return max([to_float64(a), *(to_float64(b) for b in rest)])


def _minf(a: Any, *rest: Any) -> float:
    return min([to_float64(a), *(to_float64(b) for b in rest)])


def _round(a: Any, p: int, *r_opt: float) -> float:
    import math  # noqa: PLC0415

    round_on = r_opt[0] if r_opt else 0.5
    val = to_float64(a)
    pow_ = math.pow(10, p)
    digit = pow_ * val
    div, _ = math.modf(digit)
    rounded = math.ceil(digit) if div >= round_on else math.floor(digit)
    return rounded / pow_


def _to_decimal(v: Any) -> Int64:
    text = sprint([v], 1 << 16)
    try:
        return Int64(int(text, 8)) if re.fullmatch(r"[+-]?[0-7]+", text) else Int64(0)
    except ValueError:
        return Int64(0)


def _floor(a: Any) -> float:
    import math  # noqa: PLC0415

    return float(math.floor(to_float64(a)))


def _ceil(a: Any) -> float:
    import math  # noqa: PLC0415

    return float(math.ceil(to_float64(a)))


def _rand_int(lo: int, hi: int) -> int:
    if hi - lo <= 0:
        raise FuncError("invalid argument to Intn")
    return random.randrange(lo, hi)


# ----------------------------------------------------------------------------- defaults
def _default(d: Any, *given: Any) -> Any:
    if not given or empty(given[0]):
        return d
    return given[0]


def _coalesce(*args: Any) -> Any:
    for a in args:
        if not empty(a):
            return a
    return None


def _ternary(vt: Any, vf: Any, v: bool) -> Any:
    return vt if v else vf


def _from_json(v: str) -> Any:
    try:
        return json_unmarshal(v)
    except FuncError:
        return None


def _to_json(v: Any) -> str:
    try:
        return json_marshal(v, limit=budget().max_string)
    except FuncError:
        return ""


def _must_to_json(v: Any) -> str:
    return json_marshal(v, limit=budget().max_string)


def _to_pretty_json(v: Any) -> str:
    try:
        return json_marshal(v, indent="  ", limit=budget().max_string)
    except FuncError:
        return ""


def _must_to_pretty_json(v: Any) -> str:
    return json_marshal(v, indent="  ", limit=budget().max_string)


def _to_raw_json(v: Any) -> str:
    try:
        return json_marshal(v, escape_html=False, limit=budget().max_string)
    except FuncError:
        return ""


def _must_to_raw_json(v: Any) -> str:
    return json_marshal(v, escape_html=False, limit=budget().max_string)


def must_to_yaml(v: Any) -> str:
    """The operator's ``toYaml``: ``sigs.k8s.io/yaml.Marshal`` (JSON first, then YAML)."""
    json_marshal(v, limit=budget().max_string)  # bounds the size, refuses cycles and NaN
    try:
        value = to_json_value(_plain(v))
    except ValueError as e:
        raise FuncError(str(e)) from e
    text = dump(value)
    check_size(len(text), "toYaml")
    return text


def _plain(v: Any, depth: int = 0) -> Any:
    if depth > 200:
        raise FuncError("value nested too deeply")
    if isinstance(v, dict):
        return {str(k): _plain(x, depth + 1) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x, depth + 1) for x in v]
    if isinstance(v, GoTime):
        return format_time(v, "2006-01-02T15:04:05.999999999Z07:00")
    if isinstance(v, bool) or v is None or isinstance(v, (str, float)):
        return v
    if isinstance(v, int):
        return int(v)
    return str(v)


def to_yaml(v: Any) -> str:
    try:
        return must_to_yaml(v)
    except FuncError:
        return ""


# ----------------------------------------------------------------------------- reflection
def _type_is_like(target: str, src: Any) -> bool:
    t = go_type(src)
    return target in (t, "*" + t)


# ----------------------------------------------------------------------------- paths
def _path_clean(p: str) -> str:
    """``path.Clean``."""
    if p == "":
        return "."
    rooted = p.startswith("/")
    parts: list[str] = []
    for part in p.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    out = "/".join(parts)
    if rooted:
        return "/" + out
    return out or "."


def _path_base(p: str) -> str:
    if p == "":
        return "."
    p = p.rstrip("/")
    if p == "":
        return "/"
    return p.rsplit("/", 1)[-1]


def _path_dir(p: str) -> str:
    head = p[: p.rfind("/") + 1]
    return _path_clean(head)


def _path_ext(p: str) -> str:
    for i in range(len(p) - 1, -1, -1):
        if p[i] == "/":
            break
        if p[i] == ".":
            return p[i:]
    return ""


def _os_abs(p: str) -> str:
    return _path_clean(p if p.startswith("/") else posixpath.join(posixpath.abspath("."), p))


# ----------------------------------------------------------------------------- encoding
def _b64dec(v: str) -> str:
    try:
        return base64.b64decode(v.encode(), validate=True).decode(errors="replace")
    except (binascii.Error, ValueError):
        return _go_b64_error(v)


def _go_b64_error(v: str) -> str:
    data = v.encode()
    for i, b in enumerate(data):
        if chr(b) not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=":
            return f"illegal base64 data at input byte {i}"
    return f"illegal base64 data at input byte {len(data) - len(data) % 4}"


def _b32dec(v: str) -> str:
    try:
        return base64.b32decode(v.encode()).decode(errors="replace")
    except (binascii.Error, ValueError):
        return "illegal base32 data at input byte 0"


# ----------------------------------------------------------------------------- dicts
def _get(d: dict[str, Any] | None, key: str) -> Any:
    return d[key] if d is not None and key in d else ""


def _set(d: dict[str, Any] | None, key: str, value: Any) -> dict[str, Any]:
    if d is None:
        raise FuncError("assignment to entry in nil map")
    d[key] = value
    return d


def _unset(d: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    if d is not None:
        d.pop(key, None)
    return d


def _has_key(d: dict[str, Any] | None, key: str) -> bool:
    return d is not None and key in d


def _pluck(key: str, *dicts: dict[str, Any] | None) -> list[Any]:
    return [d[key] for d in dicts if d is not None and key in d]


def _keys(*dicts: dict[str, Any] | None) -> TypedSlice:
    out = TypedSlice([], "string")
    for d in dicts:
        if d is not None:
            out.extend(d.keys())
    return out


def _pick(d: dict[str, Any] | None, *keys: str) -> dict[str, Any]:
    return {k: d[k] for k in keys if d is not None and k in d}


def _omit(d: dict[str, Any] | None, *keys: str) -> dict[str, Any]:
    return {k: v for k, v in (d or {}).items() if k not in keys}


def _dict(*args: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(args), 2):
        key = strval(args[i])
        out[key] = args[i + 1] if i + 1 < len(args) else ""
    return out


def _values(d: dict[str, Any] | None) -> list[Any]:
    return list((d or {}).values())


def _dig(*ps: Any) -> Any:
    if len(ps) < 3:
        raise FuncError("dig needs at least three arguments")
    d = ps[-1]
    default = ps[-2]
    keys = ps[:-2]
    for k in keys:
        if not isinstance(k, str):
            raise FuncError(f"interface conversion: interface {{}} is {go_type(k)}, not string")
    if not isinstance(d, dict):
        raise FuncError(
            f"interface conversion: interface {{}} is {go_type(d)}, not map[string]interface {{}}"
        )
    for i, k in enumerate(keys):
        if k not in d:
            return default
        step = d[k]
        if i == len(keys) - 1:
            return step
        if not isinstance(step, dict) or isinstance(step, TypedMap):
            raise FuncError(
                f"interface conversion: interface {{}} is {go_type(step)}, "
                "not map[string]interface {}"
            )
        d = step
    return default  # pragma: no cover


# ----------------------------------------------------------------------------- lists
def _list(*args: Any) -> list[Any]:
    return list(args)


def _push(lst: Any, v: Any) -> list[Any]:
    items = _list_items(lst, "push")
    check_items(len(items) + 1)
    return [*items, v]


def _prepend(lst: Any, v: Any) -> list[Any]:
    items = _list_items(lst, "prepend")
    check_items(len(items) + 1)
    return [v, *items]


def _first(lst: Any) -> Any:
    items = _list_items(lst, "find first")
    return items[0] if items else None


def _last(lst: Any) -> Any:
    items = _list_items(lst, "find last")
    return items[-1] if items else None


def _rest(lst: Any) -> Any:
    items = _list_items(lst, "find rest")
    return items[1:] if items else None


def _initial(lst: Any) -> Any:
    items = _list_items(lst, "find initial")
    return items[:-1] if items else None


def _reverse(lst: Any) -> list[Any]:
    return list(reversed(_list_items(lst, "find reverse")))


def _compact(lst: Any) -> list[Any]:
    return [x for x in _list_items(lst, "compact") if not empty(x)]


def _uniq(lst: Any) -> list[Any]:
    out: list[Any] = []
    for x in _list_items(lst, "find uniq"):
        if not any(deep_equal(x, y) for y in out):
            out.append(x)
    return out


def _without(lst: Any, *omit: Any) -> list[Any]:
    return [x for x in _list_items(lst, "find without") if not any(deep_equal(x, o) for o in omit)]


def _has(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    items = _list_items(haystack, "find has")
    return any(deep_equal(needle, x) for x in items)


def _slice(lst: Any, *indexes: Any) -> Any:
    if not isinstance(lst, list):
        kind = "ptr" if lst is None else go_kind(lst)
        raise FuncError(f"list should be type of slice or array but {kind}")
    if not lst:
        return None
    start = int(to_int64(indexes[0])) if indexes else 0
    end = int(to_int64(indexes[1])) if len(indexes) > 1 else len(lst)
    if start < 0 or end > len(lst) or start > end:
        raise FuncError("reflect: slice index out of range")
    part = lst[start:end]
    return TypedSlice(part, lst.elem) if isinstance(lst, TypedSlice) else list(part)


def _concat(*lists: Any) -> list[Any]:
    out: list[Any] = []
    for lst in lists:
        if not isinstance(lst, list):
            kind = "ptr" if lst is None else go_kind(lst)
            raise FuncError(f"Cannot concat type {kind} as list")
        out.extend(lst)
        check_items(len(out))
    return out


def _chunk(size: int, lst: Any) -> list[Any]:
    items = _list_items(lst, "chunk")
    if size <= 0:
        raise FuncError("runtime error: integer divide by zero")
    return [items[i : i + size] for i in range(0, len(items), size)]


# ----------------------------------------------------------------------------- regex
_RE_CACHE: dict[str, re.Pattern[str]] = {}


def _compile(regex: str) -> re.Pattern[str]:
    found = _RE_CACHE.get(regex)
    if found is None:
        try:
            found = re.compile(_go_regex(regex))
        except re.error as e:
            raise FuncError(f"error parsing regexp: {e}: `{regex}`") from e
        if len(_RE_CACHE) > 256:
            _RE_CACHE.clear()
        _RE_CACHE[regex] = found
    return found


def _go_regex(regex: str) -> str:
    """RE2 syntax to Python's: ``(?P<name>`` is shared; ``\\z`` is ``\\Z``."""
    return regex.replace("\\z", "\\Z")


def _go_expand(template: str) -> Callable[[re.Match[str]], str]:
    """``Regexp.Expand`` templates (``$1``, ``${1}``, ``$name``, ``$$``) for ``re.sub``."""

    def expand(m: re.Match[str]) -> str:
        out: list[str] = []
        i = 0
        while i < len(template):
            c = template[i]
            if c != "$" or i + 1 >= len(template):
                out.append(c)
                i += 1
                continue
            if template[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            if template[i + 1] == "{":
                close = template.find("}", i + 2)
                if close < 0:
                    out.append(c)
                    i += 1
                    continue
                name = template[i + 2 : close]
                i = close + 1
            else:
                mm = re.compile(r"[A-Za-z0-9_]+").match(template, i + 1)
                if not mm:
                    out.append(c)
                    i += 1
                    continue
                name = mm.group(0)
                i = mm.end()
            try:
                group = m.group(int(name)) if name.isdigit() else m.group(name)
            except IndexError:
                group = ""
            out.append(group or "")
        return "".join(out)

    return expand


def _regex_match(regex: str, s: str) -> bool:
    return _compile(regex).search(s) is not None


def _regex_find_all(regex: str, s: str, n: int) -> TypedSlice:
    found = [m.group(0) for m in _compile(regex).finditer(s)]
    if n >= 0:
        found = found[:n]
    return TypedSlice(found, "string")


def _regex_find(regex: str, s: str) -> str:
    m = _compile(regex).search(s)
    return m.group(0) if m else ""


def _regex_replace_all(regex: str, s: str, repl: str) -> str:
    pattern = _compile(regex)
    check_size(len(s) + (len(s) + 1) * len(repl), "regexReplaceAll")
    return pattern.sub(_go_expand(repl), s)


def _regex_replace_all_literal(regex: str, s: str, repl: str) -> str:
    pattern = _compile(regex)
    check_size(len(s) + (len(s) + 1) * len(repl), "regexReplaceAllLiteral")
    return pattern.sub(lambda _m: repl, s)


def _regex_split(regex: str, s: str, n: int) -> TypedSlice:
    if n == 0:
        return TypedSlice([], "string")
    pattern = _compile(regex)
    if len(regex) > 0 and len(s) == 0:
        return TypedSlice([""], "string")
    parts: list[str] = []
    beg = 0
    end = 0
    for m in pattern.finditer(s):
        if n > 0 and len(parts) == n - 1:
            break
        end = m.start()
        if m.end() == 0:
            continue
        parts.append(s[beg:end])
        beg = m.end()
    parts.append(s[beg:])
    return TypedSlice(parts, "string")


def _regex_quote_meta(s: str) -> str:
    return "".join("\\" + c if c in "\\.+*?()|[]{}^$" else c for c in s)


# ----------------------------------------------------------------------------- urls
def _url_parse(v: str) -> dict[str, Any]:
    try:
        u = urllib.parse.urlsplit(v)
    except ValueError as e:
        raise FuncError(f"unable to parse url: {e}") from e
    userinfo = ""
    netloc = u.netloc
    host = netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
    return {
        "scheme": u.scheme,
        "host": host,
        "hostname": u.hostname or "",
        "path": urllib.parse.unquote(u.path),
        "query": u.query,
        "opaque": "",
        "fragment": u.fragment,
        "userinfo": userinfo,
    }


def _url_join(d: dict[str, Any] | None) -> str:
    d = d or {}

    def field(name: str) -> str:
        value = d.get(name, "")
        if not isinstance(value, str):
            raise FuncError(f"unable to parse {name} field: wrong type {go_type(value)}")
        return value

    scheme, host, path = field("scheme"), field("host"), field("path")
    query, fragment, userinfo, opaque = (
        field("query"),
        field("fragment"),
        field("userinfo"),
        field("opaque"),
    )
    text = ""
    if scheme:
        text += scheme + ":"
    if opaque:
        text += opaque
    else:
        if scheme or host or userinfo:
            text += "//"
            if userinfo:
                text += userinfo + "@"
            text += host
        if path and not path.startswith("/") and host:
            text += "/"
        text += urllib.parse.quote(path, safe="/:@!$&'()*+,;=-._~")
    if query:
        text += "?" + query
    if fragment:
        text += "#" + urllib.parse.quote(fragment, safe="/:@!$&'()*+,;=-._~?")
    return text


# ----------------------------------------------------------------------------- dates
def _to_date(fmt: str, s: str) -> GoTime:
    try:
        return parse_time(fmt, s, UTC)
    except FuncError:
        return GoTime(datetime(1, 1, 1, tzinfo=UTC))


def _must_to_date(fmt: str, s: str) -> GoTime:
    return parse_time(fmt, s, UTC)


def _unix_epoch(t: GoTime) -> str:
    return str(t.unix())


def _duration(sec: Any) -> str:
    if isinstance(sec, str):
        n = to_int64(sec)
    elif is_int(sec):
        n = int(sec)
    else:
        n = 0
    return format_duration(wrap64(n * 1_000_000_000))


def _duration_round(v: Any) -> str:
    if isinstance(v, str):
        try:
            nanos = parse_duration(v)
        except FuncError:
            nanos = 0
    elif isinstance(v, GoTime):
        nanos = int((datetime.now(UTC) - v.moment).total_seconds() * 1e9)
    elif is_int(v):
        nanos = int(v)
    else:
        nanos = 0
    u = abs(nanos)
    second, minute, hour, day, month, year = (
        1_000_000_000,
        60_000_000_000,
        3_600_000_000_000,
        86_400_000_000_000,
        2_592_000_000_000_000,
        31_536_000_000_000_000,
    )
    for size, unit in ((year, "y"), (month, "mo"), (day, "d"), (hour, "h"), (minute, "m")):
        if u > size:
            return f"{u // size}{unit}"
    if u > second:
        return f"{u // second}s"
    return "0s"


def _ago(date: Any) -> str:
    if isinstance(date, GoTime):
        moment = date.moment
    elif is_int(date):
        moment = GoTime.from_unix(int(date)).moment
    else:
        moment = datetime.now(UTC)
    nanos = int((datetime.now(UTC) - moment).total_seconds()) * 1_000_000_000
    return format_duration(nanos)


def _must_date_modify(fmt: str, date: GoTime) -> GoTime:
    nanos = parse_duration(fmt)
    return GoTime(date.moment + timedelta(microseconds=nanos // 1000), date.nanos)


# ----------------------------------------------------------------------------- registry
def _fail(msg: str) -> str:
    raise FuncError(msg)


_register(
    Func("hello", lambda: "Hello!", returns="string"),
    Func("ago", _ago, ("any",), returns="string"),
    Func("duration", _duration, ("any",), returns="string"),
    Func("durationRound", _duration_round, ("any",), returns="string"),
    Func("must_date_modify", _must_date_modify, ("string", "time"), returns="time"),
    Func("mustDateModify", _must_date_modify, ("string", "time"), returns="time"),
    Func("mustToDate", _must_to_date, ("string", "string"), returns="time"),
    Func("toDate", _to_date, ("string", "string"), returns="time"),
    Func("unixEpoch", _unix_epoch, ("time",), returns="string"),
    # strings
    Func("trunc", _trunc, ("int", "string"), returns="string"),
    Func("trim", lambda s: s.strip(" \t\n\r\v\f\u0085\u00a0"), ("string",), returns="string"),
    Func("upper", lambda s: s.upper(), ("string",), returns="string"),
    Func("lower", lambda s: s.lower(), ("string",), returns="string"),
    Func("title", _title, ("string",), returns="string"),
    Func("substr", _substr, ("int", "int", "string"), returns="string"),
    Func("repeat", _repeat, ("int", "string"), returns="string"),
    Func("trimall", _trim_cutset, ("string", "string"), returns="string"),
    Func("trimAll", _trim_cutset, ("string", "string"), returns="string"),
    Func("trimSuffix", lambda a, b: b.removesuffix(a), ("string", "string"), returns="string"),
    Func("trimPrefix", lambda a, b: b.removeprefix(a), ("string", "string"), returns="string"),
    Func("contains", lambda a, b: a in b, ("string", "string"), returns="bool"),
    Func("hasPrefix", lambda a, b: b.startswith(a), ("string", "string"), returns="bool"),
    Func("hasSuffix", lambda a, b: b.endswith(a), ("string", "string"), returns="bool"),
    Func("quote", _quote, (), "any", "string"),
    Func("squote", _squote, (), "any", "string"),
    Func("cat", _cat, (), "any", "string"),
    Func("indent", _indent, ("int", "string"), returns="string"),
    Func("nindent", lambda n, v: "\n" + _indent(n, v), ("int", "string"), returns="string"),
    Func("replace", _replace, ("string", "string", "string"), returns="string"),
    Func("plural", _plural, ("string", "string", "int"), returns="string"),
    Func("sha1sum", lambda s: hashlib.sha1(s.encode()).hexdigest(), ("string",), returns="string"),
    Func(
        "sha256sum", lambda s: hashlib.sha256(s.encode()).hexdigest(), ("string",), returns="string"
    ),
    Func("adler32sum", lambda s: str(zlib.adler32(s.encode())), ("string",), returns="string"),
    Func("toString", strval, ("any",), returns="string"),
    Func("atoi", _atoi, ("string",), returns="int"),
    Func("int64", lambda v: Int64(to_int64(v)), ("any",), returns="int64"),
    Func("int", to_int64, ("any",), returns="int"),
    Func("float64", to_float64, ("any",), returns="float64"),
    Func("seq", _seq, (), "int", "string"),
    Func("toDecimal", _to_decimal, ("any",), returns="int64"),
    Func("split", _split, ("string", "string"), returns="map[string]string"),
    Func("splitList", _split_list, ("string", "string"), returns="[]string"),
    Func("splitn", _splitn, ("string", "int", "string"), returns="map[string]string"),
    Func("toStrings", strslice, ("any",), returns="[]string"),
    Func("until", _until, ("int",), returns="[]int"),
    Func("untilStep", _until_step, ("int", "int", "int"), returns="[]int"),
    # arithmetic
    Func("add1", lambda i: Int64(wrap64(to_int64(i) + 1)), ("any",), returns="int64"),
    Func("add", _add, (), "any", "int64"),
    Func(
        "sub",
        lambda a, b: Int64(wrap64(to_int64(a) - to_int64(b))),
        ("any", "any"),
        returns="int64",
    ),
    Func("div", _div, ("any", "any"), returns="int64"),
    Func("mod", _mod, ("any", "any"), returns="int64"),
    Func("mul", _mul, ("any",), "any", "int64"),
    Func("randInt", _rand_int, ("int", "int"), returns="int"),
    Func("biggest", _max, ("any",), "any", "int64"),
    Func("max", _max, ("any",), "any", "int64"),
    Func("min", _min, ("any",), "any", "int64"),
    Func("maxf", _maxf, ("any",), "any", "float64"),
    Func("minf", _minf, ("any",), "any", "float64"),
    Func("ceil", _ceil, ("any",), returns="float64"),
    Func("floor", _floor, ("any",), returns="float64"),
    Func("round", _round, ("any", "int"), "float64", "float64"),
    # string slices
    Func("join", _join, ("string", "any"), returns="string"),
    Func("sortAlpha", _sort_alpha, ("any",), returns="[]string"),
    # defaults
    Func("default", _default, ("any",), "any"),
    Func("empty", empty, ("any",), returns="bool"),
    Func("coalesce", _coalesce, (), "any"),
    Func("all", lambda *a: all(not empty(x) for x in a), (), "any", "bool"),
    Func("any", lambda *a: any(not empty(x) for x in a), (), "any", "bool"),
    Func("compact", _compact, ("any",), returns="[]interface {}"),
    Func("mustCompact", _compact, ("any",), returns="[]interface {}"),
    Func("fromJson", _from_json, ("string",)),
    Func("toJson", _to_json, ("any",), returns="string"),
    Func("toPrettyJson", _to_pretty_json, ("any",), returns="string"),
    Func("toRawJson", _to_raw_json, ("any",), returns="string"),
    Func("mustFromJson", json_unmarshal, ("string",)),
    Func("mustToJson", _must_to_json, ("any",), returns="string"),
    Func("mustToPrettyJson", _must_to_pretty_json, ("any",), returns="string"),
    Func("mustToRawJson", _must_to_raw_json, ("any",), returns="string"),
    Func("ternary", _ternary, ("any", "any", "bool")),
    # reflection
    Func("typeOf", go_type, ("any",), returns="string"),
    Func("typeIs", lambda t, v: go_type(v) == t, ("string", "any"), returns="bool"),
    Func("typeIsLike", _type_is_like, ("string", "any"), returns="bool"),
    Func("kindOf", go_kind, ("any",), returns="string"),
    Func("kindIs", lambda t, v: go_kind(v) == t, ("string", "any"), returns="bool"),
    Func("deepEqual", deep_equal, ("any", "any"), returns="bool"),
    # paths
    Func("base", _path_base, ("string",), returns="string"),
    Func("dir", _path_dir, ("string",), returns="string"),
    Func("clean", _path_clean, ("string",), returns="string"),
    Func("ext", _path_ext, ("string",), returns="string"),
    Func("isAbs", lambda p: p.startswith("/"), ("string",), returns="bool"),
    Func("osBase", _path_base, ("string",), returns="string"),
    Func("osClean", _path_clean, ("string",), returns="string"),
    Func("osDir", _path_dir, ("string",), returns="string"),
    Func("osExt", _path_ext, ("string",), returns="string"),
    Func("osIsAbs", lambda p: p.startswith("/"), ("string",), returns="bool"),
    Func("osAbs", _os_abs, ("string",), returns="string"),
    # encoding
    Func("b64enc", lambda v: base64.b64encode(v.encode()).decode(), ("string",), returns="string"),
    Func("b64dec", _b64dec, ("string",), returns="string"),
    Func("b32enc", lambda v: base64.b32encode(v.encode()).decode(), ("string",), returns="string"),
    Func("b32dec", _b32dec, ("string",), returns="string"),
    # data structures
    Func("tuple", _list, (), "any", "[]interface {}"),
    Func("list", _list, (), "any", "[]interface {}"),
    Func("dict", _dict, (), "any", "map[string]interface {}"),
    Func("get", _get, ("map", "string")),
    Func("set", _set, ("map", "string", "any"), returns="map[string]interface {}"),
    Func("unset", _unset, ("map", "string"), returns="map[string]interface {}"),
    Func("hasKey", _has_key, ("map", "string"), returns="bool"),
    Func("pluck", _pluck, ("string",), "map", "[]interface {}"),
    Func("keys", _keys, (), "map", "[]string"),
    Func("pick", _pick, ("map",), "string", "map[string]interface {}"),
    Func("omit", _omit, ("map",), "string", "map[string]interface {}"),
    Func("values", _values, ("map",), returns="[]interface {}"),
    Func("append", _push, ("any", "any"), returns="[]interface {}"),
    Func("push", _push, ("any", "any"), returns="[]interface {}"),
    Func("mustAppend", _push, ("any", "any"), returns="[]interface {}"),
    Func("mustPush", _push, ("any", "any"), returns="[]interface {}"),
    Func("prepend", _prepend, ("any", "any"), returns="[]interface {}"),
    Func("mustPrepend", _prepend, ("any", "any"), returns="[]interface {}"),
    Func("first", _first, ("any",)),
    Func("mustFirst", _first, ("any",)),
    Func("rest", _rest, ("any",), returns="[]interface {}"),
    Func("mustRest", _rest, ("any",), returns="[]interface {}"),
    Func("last", _last, ("any",)),
    Func("mustLast", _last, ("any",)),
    Func("initial", _initial, ("any",), returns="[]interface {}"),
    Func("mustInitial", _initial, ("any",), returns="[]interface {}"),
    Func("reverse", _reverse, ("any",), returns="[]interface {}"),
    Func("mustReverse", _reverse, ("any",), returns="[]interface {}"),
    Func("uniq", _uniq, ("any",), returns="[]interface {}"),
    Func("mustUniq", _uniq, ("any",), returns="[]interface {}"),
    Func("without", _without, ("any",), "any", "[]interface {}"),
    Func("mustWithout", _without, ("any",), "any", "[]interface {}"),
    Func("has", _has, ("any", "any"), returns="bool"),
    Func("mustHas", _has, ("any", "any"), returns="bool"),
    Func("slice", _slice, ("any",), "any"),
    Func("mustSlice", _slice, ("any",), "any"),
    Func("concat", _concat, (), "any"),
    Func("dig", _dig, (), "any"),
    Func("chunk", _chunk, ("int", "any"), returns="[][]interface {}"),
    Func("mustChunk", _chunk, ("int", "any"), returns="[][]interface {}"),
    # flow control
    Func("fail", _fail, ("string",), returns="string"),
    # regular expressions
    Func("regexMatch", _regex_match, ("string", "string"), returns="bool"),
    Func("mustRegexMatch", _regex_match, ("string", "string"), returns="bool"),
    Func("regexFindAll", _regex_find_all, ("string", "string", "int"), returns="[]string"),
    Func("mustRegexFindAll", _regex_find_all, ("string", "string", "int"), returns="[]string"),
    Func("regexFind", _regex_find, ("string", "string"), returns="string"),
    Func("mustRegexFind", _regex_find, ("string", "string"), returns="string"),
    Func("regexReplaceAll", _regex_replace_all, ("string", "string", "string"), returns="string"),
    Func(
        "mustRegexReplaceAll", _regex_replace_all, ("string", "string", "string"), returns="string"
    ),
    Func(
        "regexReplaceAllLiteral",
        _regex_replace_all_literal,
        ("string", "string", "string"),
        returns="string",
    ),
    Func(
        "mustRegexReplaceAllLiteral",
        _regex_replace_all_literal,
        ("string", "string", "string"),
        returns="string",
    ),
    Func("regexSplit", _regex_split, ("string", "string", "int"), returns="[]string"),
    Func("mustRegexSplit", _regex_split, ("string", "string", "int"), returns="[]string"),
    Func("regexQuoteMeta", _regex_quote_meta, ("string",), returns="string"),
    # urls
    Func("urlParse", _url_parse, ("string",), returns="map[string]interface {}"),
    Func("urlJoin", _url_join, ("map",), returns="string"),
    # added by the Flux Operator
    Func("slugify", slugify, ("string",), returns="string"),
    Func("toYaml", to_yaml, ("any",), returns="string"),
    Func("mustToYaml", must_to_yaml, ("any",), returns="string"),
)

_ = (Uint8, format_float)  # re-exported types used by callers' type checks
