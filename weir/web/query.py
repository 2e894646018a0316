"""Filtering, sorting and pagination of list endpoints.

Query parameters (all optional, repeatable or comma-separated):

- ``kind``: kind names (any name kubectl accepts for Flux kinds: ``ks``, ``hr``, ...);
- ``namespace``: namespaces, exact unless they contain ``*`` or ``?`` (wildcards);
- ``name``: names, substrings unless they contain wildcards (``podinfo``, ``pod*-prod``);
  case-insensitive;
- ``status``: ``ready``, ``failed``, ``progressing``, ``suspended``, ``unknown``;
- ``key``: exact ``Kind/namespace/name`` ids (favorites);
- ``sort``: ``name`` (namespace, name, kind: the default), ``status`` (most urgent first) or
  ``kind``;
- ``limit`` (default 100, at most 1000) and ``continue`` (the token of the previous page).

A continue token names the last row of the page by its sort key, so pages stay consistent
while objects come and go: nothing is skipped or repeated except rows that changed position.
"""

from __future__ import annotations

import base64
import bisect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from weir.errors import UsageError
from weir.web.status import RANK, STATUSES

Row = dict[str, Any]
Matcher = Callable[[str], bool]
SortKey = Callable[[Row], tuple[Any, ...]]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
SORTS: Mapping[str, SortKey] = {
    "name": lambda r: (r["namespace"], r["name"], r["kind"]),
    "status": lambda r: (RANK.get(r["status"], 9), r["namespace"], r["name"], r["kind"]),
    "kind": lambda r: (r["kind"], r["namespace"], r["name"]),
}


class BadQueryError(UsageError):
    """A query parameter that cannot be understood (HTTP 400)."""


def split_values(values: Iterable[str]) -> list[str]:
    """Repeated and comma-separated values, trimmed, empty ones dropped."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def wildcard(pattern: str, *, substring: bool) -> Matcher:
    """A case-insensitive matcher: ``*`` any run, ``?`` one character; without wildcards an
    exact match, or a substring match when ``substring``."""
    text = pattern.lower()
    if "*" not in text and "?" not in text:
        if substring:
            return lambda value: text in value.lower()
        return lambda value: value.lower() == text
    regex = re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text) + r"\Z",
        re.IGNORECASE | re.DOTALL,
    )
    return lambda value: regex.match(value) is not None


def any_of(patterns: Sequence[str], *, substring: bool) -> Matcher | None:
    if not patterns:
        return None
    matchers = [wildcard(p, substring=substring) for p in patterns]
    return lambda value: any(m(value) for m in matchers)


@dataclass(frozen=True)
class Query:
    """A parsed list query; see the module docstring."""

    kinds: tuple[str, ...] | None = None
    namespace: Matcher | None = None
    name: Matcher | None = None
    statuses: frozenset[str] | None = None
    keys: frozenset[str] | None = None
    sort: str = "name"
    limit: int = DEFAULT_LIMIT
    after: tuple[Any, ...] | None = None

    def matches(self, row: Row, *, with_status: bool = True) -> bool:
        if self.keys is not None and row["key"] not in self.keys:
            return False
        if self.namespace is not None and not self.namespace(row["namespace"]):
            return False
        if self.name is not None and not self.name(row["name"]):
            return False
        return not (
            with_status and self.statuses is not None and row["status"] not in self.statuses
        )


def encode_token(key: tuple[Any, ...]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


def decode_token(token: str) -> tuple[Any, ...]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = orjson.loads(raw)
    except (ValueError, orjson.JSONDecodeError):
        raise BadQueryError("continue: not a token returned by this API") from None
    if not isinstance(value, list):
        raise BadQueryError("continue: not a token returned by this API")
    return tuple(value)


def parse_query(
    params: Callable[[str], list[str]], resolve_kind: Callable[[str], str | None]
) -> Query:
    """A :class:`Query` from ``params(name) -> values``; kind names go through
    ``resolve_kind`` (None: unknown kind, a :class:`BadQueryError`)."""
    kinds: tuple[str, ...] | None = None
    kind_names = split_values(params("kind"))
    if kind_names:
        resolved = []
        for name in kind_names:
            kind = resolve_kind(name)
            if kind is None:
                raise BadQueryError(f"kind: unknown kind {name!r}")
            resolved.append(kind)
        kinds = tuple(dict.fromkeys(resolved))
    statuses = split_values(params("status"))
    for s in statuses:
        if s not in STATUSES:
            raise BadQueryError(f"status: {s!r} is not one of {', '.join(STATUSES)}")
    sort = (params("sort") or ["name"])[-1]
    if sort not in SORTS:
        raise BadQueryError(f"sort: {sort!r} is not one of {', '.join(SORTS)}")
    limit_text = (params("limit") or [str(DEFAULT_LIMIT)])[-1]
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise BadQueryError(f"limit: {limit_text!r} is not a number from 1 to {MAX_LIMIT}")
    token = (params("continue") or [""])[-1]
    keys = split_values(params("key"))
    return Query(
        kinds=kinds,
        namespace=any_of(split_values(params("namespace")), substring=False),
        name=any_of(split_values(params("name")), substring=True),
        statuses=frozenset(statuses) if statuses else None,
        keys=frozenset(keys) if keys else None,
        sort=sort,
        limit=int(limit_text),
        after=decode_token(token) if token else None,
    )


@dataclass(frozen=True)
class Page:
    items: list[Row]
    total: int
    counts: dict[str, int]
    """Rows by status among those matching every filter but ``status``."""
    next_token: str | None
    kinds: tuple[str, ...] | None = None
    """The query's kinds as canonical names (``hr`` -> ``HelmRelease``), None for every kind:
    what the UI's kind filter shows for ``?kind=hr`` or ``?kind=ks,hr``."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "total": self.total,
            "counts": self.counts,
            "continue": self.next_token,
            "kinds": list(self.kinds) if self.kinds is not None else None,
        }


def paginate(ordered: Sequence[Row], query: Query) -> Page:
    """Filter ``ordered`` (sorted by ``SORTS[query.sort]``) and cut one page."""
    sort_key = SORTS[query.sort]
    counts = dict.fromkeys(STATUSES, 0)
    selected: list[Row] = []
    for row in ordered:
        if not query.matches(row, with_status=False):
            continue
        counts[row["status"]] = counts.get(row["status"], 0) + 1
        if query.statuses is None or row["status"] in query.statuses:
            selected.append(row)
    start = 0
    if query.after is not None:
        start = bisect.bisect_right(selected, tuple(query.after), key=sort_key)
    items = selected[start : start + query.limit]
    more = start + query.limit < len(selected)
    token = encode_token(sort_key(items[-1])) if more and items else None
    return Page(items, len(selected), counts, token, query.kinds)
