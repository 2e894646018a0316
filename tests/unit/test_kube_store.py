"""The informer cache: events from watch events and relists, and its indexes."""

from __future__ import annotations

from typing import Any

import pytest

from weir.kube.indexers import index_by_label, index_by_source_ref
from weir.kube.store import Store, make_key, object_key


def obj(name: str, rv: str, ns: str | None = "default", **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "resourceVersion": rv, "labels": labels}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def test_keys() -> None:
    assert object_key(obj("a", "1")) == "default/a"
    assert object_key(obj("n", "1", ns=None)) == "n"
    assert make_key("default", "a") == "default/a"
    assert make_key(None, "n") == "n"


def test_watch_events_dedupe_and_normalise() -> None:
    s = Store()
    assert s.apply_event("ADDED", obj("a", "1")) == ("ADDED", obj("a", "1"))
    assert s.apply_event("ADDED", obj("a", "1")) is None  # replay of the same version
    assert s.apply_event("MODIFIED", obj("a", "1")) is None
    assert s.apply_event("ADDED", obj("a", "2")) == ("MODIFIED", obj("a", "2"))
    assert s.apply_event("MODIFIED", obj("b", "3")) == ("ADDED", obj("b", "3"))
    assert s.apply_event("DELETED", obj("a", "4")) == ("DELETED", obj("a", "4"))
    assert s.apply_event("DELETED", obj("a", "4")) is None
    assert s.get("default/a") is None
    assert len(s) == 1


def test_replace_emits_exactly_the_difference() -> None:
    s = Store()
    assert [e for e, _ in s.replace([obj("a", "1"), obj("b", "1"), obj("c", "1")])] == [
        "ADDED",
        "ADDED",
        "ADDED",
    ]
    events = s.replace([obj("a", "1"), obj("b", "5"), obj("d", "6")])
    assert [(e, o["metadata"]["name"]) for e, o in events] == [
        ("MODIFIED", "b"),
        ("ADDED", "d"),
        ("DELETED", "c"),
    ]
    deleted = events[-1][1]
    assert deleted["metadata"]["resourceVersion"] == "1"  # the last known state
    assert s.replace([obj("a", "1"), obj("b", "5"), obj("d", "6")]) == []
    assert sorted(o["metadata"]["name"] for o in s.list()) == ["a", "b", "d"]


def test_namespace_index_and_list() -> None:
    s = Store()
    s.replace([obj("a", "1", "x"), obj("b", "1", "y"), obj("c", "1", "x"), obj("n", "1", None)])
    assert sorted(o["metadata"]["name"] for o in s.list("x")) == ["a", "c"]
    assert [o["metadata"]["name"] for o in s.by_index("namespace", "")] == ["n"]
    s.apply_event("DELETED", obj("a", "2", "x"))
    assert [o["metadata"]["name"] for o in s.list("x")] == ["c"]


def test_custom_index_follows_updates() -> None:
    s = Store({"app": index_by_label("app")})
    s.apply_event("ADDED", obj("a", "1", app="web"))
    s.apply_event("ADDED", obj("b", "1"))
    assert [o["metadata"]["name"] for o in s.by_index("app", "web")] == ["a"]
    s.apply_event("MODIFIED", obj("a", "2", app="db"))
    assert s.by_index("app", "web") == []
    assert [o["metadata"]["name"] for o in s.by_index("app", "db")] == ["a"]
    s.replace([])
    assert s.by_index("app", "db") == []


def test_unknown_index_says_how_to_add_it() -> None:
    with pytest.raises(KeyError, match="pass an indexer"):
        Store().by_index("nope", "x")


def test_failing_indexer_does_not_break_the_cache(caplog: pytest.LogCaptureFixture) -> None:
    def broken(_: dict[str, Any]) -> list[str]:
        raise RuntimeError("boom")

    s = Store({"broken": broken})
    assert s.apply_event("ADDED", obj("a", "1")) is not None
    assert s.get("default/a") is not None
    assert "indexer failed" in caplog.text


def test_index_by_source_ref() -> None:
    ks: dict[str, Any] = {
        "metadata": {"name": "app", "namespace": "apps"},
        "spec": {"sourceRef": {"kind": "GitRepository", "name": "repo"}},
    }
    assert index_by_source_ref(ks) == ["GitRepository/apps/repo"]
    ks["spec"]["sourceRef"]["namespace"] = "flux-system"
    assert index_by_source_ref(ks) == ["GitRepository/flux-system/repo"]
    hr = {
        "metadata": {"name": "r", "namespace": "apps"},
        "spec": {"chartRef": {"kind": "OCIRepository", "name": "chart"}},
    }
    assert index_by_source_ref(hr) == ["OCIRepository/apps/chart"]
    assert index_by_source_ref({"metadata": {"name": "x"}}) == []
