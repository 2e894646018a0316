"""YAML and JSON as Kubernetes' Go libraries read and write them.

The Flux Operator turns each ``resources`` entry from JSON into YAML (``sigs.k8s.io/yaml``,
which is ``go-yaml`` v2: keys sorted, strings quoted when they would read back as something
else), renders it, and reads the result back with the same library. The YAML 1.1 rules differ
from PyYAML's defaults in ways that change objects (``y`` is a bool, ``1e3`` a number,
``1:20`` a string, timestamps stay strings), so both directions here use go-yaml's resolver.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import yaml

from weir.operator.gotemplate.errors import FuncError, TemplateLimitError
from weir.operator.gotemplate.gofmt import format_float
from weir.operator.gotemplate.values import GoTime, Int64

_BOOL_TRUE = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
_BOOL_FALSE = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}
_NULL = {"", "~", "null", "Null", "NULL"}
_INF = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"}
_NEG_INF = {"-.inf", "-.Inf", "-.INF"}
_NAN = {".nan", ".NaN", ".NAN"}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_BASE60_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::?[0-9]{2})?))?)?$"
)

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
MERGE = "tag:yaml.org,2002:merge"
TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _go_parse_int(plain: str) -> int | None:
    """``strconv.ParseInt(plain, 0, 64)`` (underscores already removed)."""
    s = plain
    sign = 1
    if s[:1] in "+-":
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if not s or not s[0].isdigit():
        return None
    try:
        if len(s) > 1 and s[0] == "0":
            p = s[1].lower()
            if p == "x":
                value = int(s[2:], 16)
            elif p == "o":
                value = int(s[2:], 8)
            elif p == "b":
                value = int(s[2:], 2)
            else:
                value = int(s[1:], 8)
        else:
            value = int(s, 10)
    except ValueError:
        return None
    if not s.isascii():
        return None
    return sign * value


def resolve_plain(value: str) -> tuple[str, Any]:
    """go-yaml v2's ``resolve("", value)`` for a plain scalar: its tag and value."""
    if value in _NULL:
        return NULL, None
    if value in _BOOL_TRUE:
        return BOOL, True
    if value in _BOOL_FALSE:
        return BOOL, False
    if value in _INF:
        return FLOAT, math.inf
    if value in _NEG_INF:
        return FLOAT, -math.inf
    if value in _NAN:
        return FLOAT, math.nan
    if value == "<<":
        return MERGE, "<<"
    first = value[0]
    if first in "+-0123456789.":
        if _TIMESTAMP.match(value):
            return TIMESTAMP, value
        plain = value.replace("_", "")
        number = _go_parse_int(plain)
        if number is not None and -(2**63) <= number < 2**64:
            return INT, number
        if _YAML_FLOAT.match(plain):
            try:
                return FLOAT, float(plain)
            except ValueError:
                pass
        for prefix, sign in (("0b", 1), ("-0b", -1)):
            if plain.startswith(prefix):
                try:
                    return INT, sign * int(plain[len(prefix) :], 2)
                except ValueError:
                    pass
    return STR, value


class GoResolver(yaml.resolver.BaseResolver):
    """Plain scalars resolved as go-yaml v2 resolves them."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            tag, _ = resolve_plain(value)
            if tag == TIMESTAMP:  # go-yaml keeps timestamps as strings in interface{}
                return STR
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


class GoConstructor(yaml.constructor.SafeConstructor):
    """Builds plain Python values from go-yaml's tags (ints and floats with Go syntax)."""

    def construct_yaml_int(self, node: Any) -> Any:
        value = self.construct_scalar(node)
        if node.style:
            return value
        tag, number = resolve_plain(value)
        if tag == INT:
            return number
        raise yaml.constructor.ConstructorError(
            None, None, f"cannot decode {value!r} as an integer", node.start_mark
        )

    def construct_yaml_float(self, node: Any) -> Any:
        value = self.construct_scalar(node)
        tag, number = resolve_plain(value)
        if tag in (FLOAT, INT):
            return float(number)
        raise yaml.constructor.ConstructorError(
            None, None, f"cannot decode {value!r} as a float", node.start_mark
        )

    def construct_yaml_bool(self, node: Any) -> Any:
        value = self.construct_scalar(node)
        return value in _BOOL_TRUE


GoConstructor.add_constructor(BOOL, GoConstructor.construct_yaml_bool)  # type: ignore[type-var]
GoConstructor.add_constructor(INT, GoConstructor.construct_yaml_int)  # type: ignore[type-var]
GoConstructor.add_constructor(FLOAT, GoConstructor.construct_yaml_float)  # type: ignore[type-var]
GoConstructor.add_constructor(TIMESTAMP, GoConstructor.construct_yaml_str)  # type: ignore[type-var]


class GoLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    GoConstructor,
    GoResolver,
):
    """A PyYAML loader with go-yaml v2's scalar resolution."""

    def __init__(self, stream: Any) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        GoConstructor.__init__(self)
        GoResolver.__init__(self)


def _go_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return format_float(key, "g", -1)
    if key is None:
        return "null"
    raise ValueError(f"unsupported map key of type {type(key).__name__}")


def to_json_value(value: Any, depth: int = 0) -> Any:
    """What ``YAMLToJSON`` then a JSON decode with integers kept make of a YAML value:
    string keys, integral floats as integers, NaN/Inf refused."""
    if depth > 200:
        raise ValueError("YAML nested deeper than 200 levels")
    if isinstance(value, dict):
        return {_go_key(k): to_json_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_value(v, depth + 1) for v in value]
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"json: unsupported value: {format_float(value)}")
        if value == int(value) and abs(value) < 1e21:
            return int(value)
        return value
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    return str(value)


def load_all(text: str) -> Iterator[Any]:
    """Every document of a YAML stream, as Kubernetes objects are read (JSON-compatible)."""
    for doc in yaml.load_all(text, Loader=GoLoader):  # type: ignore[arg-type]
        yield to_json_value(doc)


def load(text: str) -> Any:
    """One YAML document, as :func:`load_all` reads them."""
    return to_json_value(yaml.load(text, Loader=GoLoader))  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- dumping
class GoRepresenter(yaml.representer.SafeRepresenter):
    """Represents strings as go-yaml v2 does: literal style for multi-line strings, double
    quotes when the plain text would resolve to another type."""

    def represent_str(self, data: str) -> Any:
        if "\n" in data:
            return self.represent_scalar(STR, data, style="|")
        tag, _ = resolve_plain(data) if data else (NULL, None)
        if tag != STR or _BASE60_FLOAT.match(data):
            return self.represent_scalar(STR, data, style='"')
        return self.represent_scalar(STR, data)

    def represent_float(self, data: float) -> Any:
        text = format_float(data, "g", -1)
        text = {"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"}.get(text, text)
        return self.represent_scalar(FLOAT, text)

    def represent_int(self, data: int) -> Any:
        return self.represent_scalar(INT, str(int(data)))


GoRepresenter.add_representer(str, GoRepresenter.represent_str)
GoRepresenter.add_representer(float, GoRepresenter.represent_float)
GoRepresenter.add_representer(int, GoRepresenter.represent_int)
GoRepresenter.add_representer(Int64, GoRepresenter.represent_int)


class GoDumper(yaml.emitter.Emitter, yaml.serializer.Serializer, GoRepresenter, GoResolver):
    """A PyYAML dumper that writes what go-yaml v2 writes (keys sorted)."""

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        yaml.emitter.Emitter.__init__(
            self,
            stream,
            canonical=None,
            indent=2,
            width=80,
            allow_unicode=True,
            line_break=None,
        )
        yaml.serializer.Serializer.__init__(
            self, encoding=None, explicit_start=None, explicit_end=None, version=None, tags=None
        )
        GoRepresenter.__init__(self, default_style=None, default_flow_style=False, sort_keys=True)
        GoResolver.__init__(self)


def dump(value: Any) -> str:
    """``sigs.k8s.io/yaml.Marshal`` of a JSON-compatible value."""
    text = yaml.dump(value, Dumper=GoDumper)
    if text.endswith("\n...\n"):
        text = text[: -len("...\n")]
    return text


# ----------------------------------------------------------------------------- JSON
def _json_string(s: str, escape_html: bool) -> str:
    out = ['"']
    for c in s:
        code = ord(c)
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif code < 0x20:
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(c, f"\\u{code:04x}"))
        elif (escape_html and c in "<>&") or c in "\u2028\u2029":
            out.append(f"\\u{code:04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _json_float(f: float) -> str:
    if math.isnan(f) or math.isinf(f):
        raise FuncError(f"json: unsupported value: {format_float(f)}")
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        text = format_float(f, "e", -1)
        # Go: clean up e-09 to e-9
        mant, _, exp = text.partition("e")
        sign = exp[0]
        digits = exp[1:].lstrip("0") or "0"
        return f"{mant}e{sign}{digits}"
    from decimal import Decimal  # noqa: PLC0415

    digits = format(Decimal(repr(f)), "f")
    if digits.endswith(".0"):
        digits = digits[:-2]
    return digits


class _JsonOut:
    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit

    def add(self, s: str) -> None:
        self.size += len(s)
        if self.size > self.limit:
            raise TemplateLimitError(f"JSON output exceeds the size limit ({self.limit})")
        self.parts.append(s)


def json_marshal(
    value: Any, *, indent: str = "", escape_html: bool = True, limit: int = 1 << 24
) -> str:
    """``encoding/json.Marshal`` (``MarshalIndent`` with ``indent``): map keys sorted, HTML
    characters escaped, Go's float format; cycles and NaN refused like Go does."""
    out = _JsonOut(limit)
    _json(out, value, indent, escape_html, "", set())
    return "".join(out.parts)


def _json(  # noqa: PLR0917 -- mirrors Go's signature
    out: _JsonOut, v: Any, indent: str, esc: bool, prefix: str, seen: set[int]
) -> None:
    if v is None:
        out.add("null")
    elif isinstance(v, bool):
        out.add("true" if v else "false")
    elif isinstance(v, int):
        out.add(str(int(v)))
    elif isinstance(v, float):
        out.add(_json_float(v))
    elif isinstance(v, str):
        out.add(_json_string(v, esc))
    elif isinstance(v, GoTime):
        from weir.operator.gotemplate.gotime import format_time  # noqa: PLC0415

        out.add(_json_string(format_time(v, "2006-01-02T15:04:05.999999999Z07:00"), esc))
    elif isinstance(v, (list, dict)):
        if id(v) in seen:
            raise FuncError(
                "json: unsupported value: encountered a cycle via "
                + ("map[string]interface {}" if isinstance(v, dict) else "[]interface {}")
            )
        if len(seen) > 200:
            raise TemplateLimitError("value nested deeper than 200 levels")
        seen.add(id(v))
        inner = prefix + indent
        if isinstance(v, list):
            if not v:
                out.add("[]")
            else:
                out.add("[")
                for i, item in enumerate(v):
                    if i:
                        out.add(",")
                    if indent:
                        out.add("\n" + inner)
                    _json(out, item, indent, esc, inner, seen)
                if indent:
                    out.add("\n" + prefix)
                out.add("]")
        elif not v:
            out.add("{}")
        else:
            out.add("{")
            for i, key in enumerate(sorted(v)):
                if i:
                    out.add(",")
                if indent:
                    out.add("\n" + inner)
                out.add(_json_string(str(key), esc))
                out.add(": " if indent else ":")
                _json(out, v[key], indent, esc, inner, seen)
            if indent:
                out.add("\n" + prefix)
            out.add("}")
        seen.discard(id(v))
    else:
        out.add(_json_string(str(v), esc))


def json_unmarshal(text: str) -> Any:
    """``encoding/json.Unmarshal`` into ``interface{}``: every number a float64."""
    import json  # noqa: PLC0415

    def no_constant(name: str) -> Any:
        raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")

    try:
        return json.loads(text, parse_int=float, parse_constant=no_constant)
    except json.JSONDecodeError as e:
        raise FuncError(_json_error(text, e)) from e
    except RecursionError as e:
        raise FuncError("exceeded max depth") from e


def _json_error(text: str, e: Any) -> str:
    if not text.strip():
        return "unexpected end of JSON input"
    if e.pos >= len(text):
        return "unexpected end of JSON input"
    return f"invalid character {text[e.pos]!r} looking for beginning of value"
