"""Filtering, sorting and pagination of the web API's lists (weir.web.query)."""

from __future__ import annotations

from typing import Any

import pytest

from weir.web.query import (
    SORTS,
    BadQueryError,
    decode_token,
    encode_token,
    paginate,
    parse_query,
    wildcard,
)

Row = dict[str, Any]


def row(kind: str, ns: str, name: str, status: str = "ready") -> Row:
    return {
        "key": f"{kind}/{ns}/{name}",
        "kind": kind,
        "namespace": ns,
        "name": name,
        "status": status,
    }


def params(**values: Any) -> Any:
    def get(name: str) -> list[str]:
        value = values.get(name)
        if value is None:
            return []
        return value if isinstance(value, list) else [str(value)]

    return get


def kinds(name: str) -> str | None:
    return {"ks": "Kustomization", "kustomization": "Kustomization", "hr": "HelmRelease"}.get(
        name.lower()
    )


def test_wildcards() -> None:
    assert wildcard("pod*", substring=True)("PodInfo")
    assert not wildcard("pod*", substring=True)("my-podinfo")
    assert wildcard("*info", substring=True)("my-podinfo")
    assert wildcard("a?c", substring=False)("abc")
    assert not wildcard("a?c", substring=False)("abbc")
    assert wildcard("info", substring=True)("my-podinfo")  # no wildcard: substring
    assert not wildcard("apps", substring=False)("apps-2")  # exact for namespaces
    assert wildcard("a.b", substring=False)("a.b")
    assert not wildcard("a.b", substring=False)("axb")  # regex characters are literal


def test_parse_query_validates() -> None:
    q = parse_query(params(kind="ks,HR", status=["failed", "ready"], limit="5"), kinds)
    assert q.kinds == ("Kustomization", "HelmRelease")
    assert q.statuses == frozenset({"failed", "ready"})
    assert q.limit == 5
    for bad in (
        {"kind": "nope"},
        {"status": "fine"},
        {"sort": "random"},
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "x"},
        {"continue": "!!"},
    ):
        with pytest.raises(BadQueryError):
            parse_query(params(**bad), kinds)


def test_token_round_trip() -> None:
    key = ("ns", "name", "Kind")
    assert decode_token(encode_token(key)) == key
    with pytest.raises(BadQueryError):
        decode_token(encode_token(("x",))[:-3] + "{{{")


def test_paginate_filters_counts_and_pages() -> None:
    rows = [
        row("Kustomization", f"ns{i % 3}", f"app-{i:02d}", "failed" if i % 4 == 0 else "ready")
        for i in range(30)
    ]
    rows.append(row("HelmRelease", "ns0", "web"))
    ordered = sorted(rows, key=SORTS["name"])
    q = parse_query(params(namespace="ns0", name="app-*", status="ready", limit=3), kinds)
    page = paginate(ordered, q)
    matching = [r for r in ordered if r["namespace"] == "ns0" and r["name"].startswith("app-")]
    assert page.counts["failed"] == sum(r["status"] == "failed" for r in matching)
    assert page.total == sum(r["status"] == "ready" for r in matching)
    seen = list(page.items)
    while page.next_token:
        page = paginate(
            ordered,
            parse_query(
                params(
                    namespace="ns0",
                    name="app-*",
                    status="ready",
                    limit=3,
                    **{"continue": page.next_token},
                ),
                kinds,
            ),
        )
        seen.extend(page.items)
    assert [r["key"] for r in seen] == [r["key"] for r in matching if r["status"] == "ready"]


def test_status_sort_puts_failures_first() -> None:
    rows = [
        row("K", "a", "x", "ready"),
        row("K", "a", "y", "failed"),
        row("K", "a", "z", "suspended"),
    ]
    ordered = sorted(rows, key=SORTS["status"])
    assert [r["status"] for r in ordered] == ["failed", "suspended", "ready"]


def test_keys_select_favorites() -> None:
    rows = [row("K", "a", "x"), row("K", "a", "y")]
    page = paginate(rows, parse_query(params(key=["K/a/y", "K/b/gone"]), kinds))
    assert [r["name"] for r in page.items] == ["y"]


def test_rows_vanishing_between_pages_do_not_repeat_rows() -> None:
    rows = sorted((row("K", "a", f"n{i}") for i in range(10)), key=SORTS["name"])
    first = paginate(rows, parse_query(params(limit=4), kinds))
    shrunk = [r for r in rows if r["name"] not in ("n1", "n2")]  # two of page 1 deleted
    second = paginate(shrunk, parse_query(params(limit=4, **{"continue": first.next_token}), kinds))
    assert [r["name"] for r in second.items] == ["n4", "n5", "n6", "n7"]


def test_page_names_the_kinds_of_the_query_canonically() -> None:
    """The UI's kind filter shows what ``?kind=hr`` or ``?kind=ks,hr`` selected (issue 12.6:
    the list was filtered but the dropdown was blank, its options being canonical names)."""
    rows = [row("HelmRelease", "a", "x"), row("Kustomization", "a", "y")]
    one = paginate(rows, parse_query(params(kind="hr"), kinds)).to_dict()
    assert one["kinds"] == ["HelmRelease"]
    both = paginate(rows, parse_query(params(kind="ks,hr"), kinds)).to_dict()
    assert both["kinds"] == ["Kustomization", "HelmRelease"]
    assert paginate(rows, parse_query(params(), kinds)).to_dict()["kinds"] is None
