"""Go values in Python: the dynamic types a template sees, their names, truth and equality.

Data decoded from YAML or JSON maps onto Go's ``interface{}`` values:

========================  ==========================  ==================================
Python                    Go type                     notes
========================  ==========================  ==================================
``None``                  nil (an invalid value)      printed ``<no value>`` by an action
``bool``                  ``bool``
``int``                   ``int``                     constants, ``len``, ``atoi``
:class:`Int64`            ``int64``                   integers decoded by Kubernetes
``float``                 ``float64``
``str``                   ``string``
``list``                  ``[]interface {}``
:class:`TypedSlice`       ``[]string``, ``[]int``     results of some functions
``dict``                  ``map[string]interface {}``
:class:`TypedMap`         ``map[string]string``
:class:`GoTime`           ``time.Time``
:class:`Uint8`            ``uint8``                   ``index`` of a string
========================  ==========================  ==================================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class Int64(int):
    """A Go ``int64`` (what Kubernetes' JSON decoder yields for integers)."""

    __slots__ = ()


class Uint8(int):
    """A Go ``uint8`` (a byte of a string)."""

    __slots__ = ()


def wrap64(value: int) -> int:
    """Two's-complement wrap-around of a 64-bit signed integer, as Go's arithmetic does."""
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >= 1 << 63 else value


class TypedSlice(list[Any]):
    """A Go slice whose element type is not ``interface{}`` (``[]string``, ``[]int``)."""

    def __init__(self, items: Any = (), elem: str = "string") -> None:
        super().__init__(items)
        self.elem = elem


class TypedMap(dict[str, Any]):
    """A Go map whose element type is not ``interface{}`` (``map[string]string``)."""

    def __init__(self, items: Any = (), elem: str = "string") -> None:
        super().__init__(items)
        self.elem = elem


@dataclass(frozen=True)
class GoTime:
    """A Go ``time.Time`` (an aware datetime; nanoseconds kept apart)."""

    moment: datetime
    nanos: int = 0

    @staticmethod
    def from_unix(seconds: int, nanos: int = 0) -> GoTime:
        return GoTime(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds), nanos)

    def unix(self) -> int:
        return int((self.moment - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() // 1)

    def __str__(self) -> str:
        from weir.operator.gotemplate.gotime import format_time  # noqa: PLC0415

        return format_time(self, "2006-01-02 15:04:05.999999999 -0700 MST")


@dataclass(frozen=True)
class Method:
    """A method value bound to its receiver, callable from a template (``.Format "..."``)."""

    name: str
    call: Callable[..., Any]
    params: tuple[str, ...]
    variadic: str | None = None


def go_type(value: Any) -> str:
    """The Go type name of a value, as ``%T`` and ``typeOf`` print it."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Int64):
        return "int64"
    if isinstance(value, Uint8):
        return "uint8"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, TypedSlice):
        return f"[]{value.elem}"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, TypedMap):
        return f"map[string]{value.elem}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, GoTime):
        return "time.Time"
    if callable(value):
        return "func(...interface {}) interface {}"
    return type(value).__name__


def go_kind(value: Any) -> str:
    """The ``reflect.Kind`` name of a value, as ``kindOf`` prints it."""
    if value is None:
        return "invalid"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (Int64, Uint8)):
        return go_type(value)
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, GoTime):
        return "struct"
    if callable(value):
        return "func"
    return "struct"


def is_true(value: Any) -> bool:
    """Go's template truth: false, 0, nil, and empty strings, slices and maps are false."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (str, list, dict)):
        return len(value) > 0
    return True


def is_int(value: Any) -> bool:
    """A signed or unsigned Go integer (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool)


def deep_equal(a: Any, b: Any, depth: int = 0) -> bool:
    """``reflect.DeepEqual``: same Go type and equal contents."""
    if depth > 200:
        return False
    if go_type(a) != go_type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(
            deep_equal(x, y, depth + 1) for x, y in zip(a, b, strict=True)
        )
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(deep_equal(a[k], b[k], depth + 1) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return False
    return bool(a == b)
