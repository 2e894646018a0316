"""What one signed-in user sees of the shared caches (:mod:`weir.web.access`): rows, Events,
namespaces and graph nodes filtered by their access, 403s for names outside it; the graph's
groups; the Events page's filters; where a sign-in may return to."""

from __future__ import annotations

import re
from typing import cast

import pytest

from tests.unit.test_web_views import StubCache, inventory, ks, owned_deployment
from weir.auth.oidc import _safe_path
from weir.auth.rbac import NamespaceRules, Rule, UserAccess
from weir.auth.users import Identity
from weir.web.access import READ_RESOURCES, ForbiddenReadError, Scope, resource_of
from weir.web.cache import ViewCache
from weir.web.events import _matcher
from weir.web.graph import pipeline_graph


def only(namespace: str) -> Scope:
    """A user who may list everything in ``namespace`` and nothing elsewhere."""
    access = UserAccess(Identity("dana", ("eth",)), READ_RESOURCES, frozenset(), made=0.0)
    anything = Rule(frozenset({"get", "list", "watch"}), frozenset({"*"}), frozenset({"*"}))
    access.namespaces[namespace] = NamespaceRules((anything,), False)
    access.namespaces["other"] = NamespaceRules((), False)
    return Scope(access)


def test_rows_events_and_namespaces() -> None:
    scope = only("ethereum")
    rows = [
        {"kind": "Kustomization", "namespace": "ethereum"},
        {"kind": "Kustomization", "namespace": "other"},
        {"kind": "Deployment", "namespace": "ethereum"},
        {"kind": "NotAKind", "namespace": "ethereum"},
    ]
    assert list(scope.rows(rows)) == rows[:1] + rows[2:3]
    events = [
        {"object": "Kustomization/ethereum/a"},
        {"object": "Kustomization/other/a"},
        {"metadata": {"namespace": "ethereum"}},
    ]
    assert list(scope.events(events)) == [events[0], events[2]]
    assert scope.namespaces(["ethereum", "other", "unknown"]) == ["ethereum"]
    assert Scope().namespaces(["b", "a"]) == ["a", "b"]
    assert scope.allows_key("HelmRelease/ethereum/x")
    assert not scope.allows_key("HelmRelease/other/x")
    assert resource_of("Kustomization") in READ_RESOURCES


def test_names_outside_the_scope_are_403() -> None:
    scope = only("ethereum")
    scope.require("Kustomization", "ethereum")
    message = (
        'User "dana" cannot get resource "kustomizations.kustomize.toolkit.fluxcd.io" in the '
        'namespace "other"'
    )
    with pytest.raises(ForbiddenReadError, match=re.escape(message)):
        scope.require("Kustomization", "other", "get")
    scope.require_namespaces(["eth*", "!other", "ethereum"], ["Kustomization"])
    with pytest.raises(ForbiddenReadError, match='namespace "other"'):
        scope.require_namespaces(["other"], ["Kustomization"])
    Scope().require("Kustomization", "anywhere")


def test_the_graph_leaves_out_what_cannot_be_seen_and_groups() -> None:
    root = inventory(ks("root"), "ns_apps_kustomize.toolkit.fluxcd.io_Kustomization")
    apps = ks("apps")
    hidden = ks("other", ns="secret-team", source="repo")
    cache = cast(ViewCache, StubCache([root, apps, hidden], [owned_deployment("web", "apps")]))
    visible = only("ns")
    graph = pipeline_graph(cache, visible=visible.allows_key, group="kustomization")
    ids = {n["id"] for n in graph["nodes"]}
    assert "Kustomization/secret-team/other" not in ids
    assert "GitRepository/secret-team/repo" not in ids, "no 'missing' node for hidden things"
    groups = {n["id"]: n["group"] for n in graph["nodes"]}
    assert groups["Deployment/ns/web"] == "Kustomization/ns/root"
    assert groups["Kustomization/ns/apps"] == "Kustomization/ns/root"
    assert groups["GitRepository/ns/repo"] == "Kustomization/ns/root"
    by_ns = pipeline_graph(cache, group="namespace")
    assert {n["group"] for n in by_ns["nodes"]} == {"Namespace/ns", "Namespace/secret-team"}


def test_event_filters_and_return_paths() -> None:
    names = _matcher(["pod*", "!podinfo-canary"])
    assert names("podinfo")
    assert not names("podinfo-canary")
    assert not names("redis")
    assert _matcher(["fra"])("infra"), "a plain word is a substring"
    exact = _matcher(["eth"], exact=True)
    assert not exact("ethereum")
    assert _safe_path("/weir/resources?kind=ks") == "/weir/resources?kind=ks"
    for bad in ("https://evil.example", "//evil.example/x", "/\\evil", "relative"):
        assert _safe_path(bad) == ""
