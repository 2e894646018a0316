"""RBAC rules as a rules review returns them, matched here: verbs, groups, resources,
wildcards, subresources and resourceNames; what a user sees per namespace."""

from __future__ import annotations

from typing import cast

from kubernetes_asyncio.client import ApiClient

from weir.auth.rbac import (
    AccessReviewer,
    NamespaceRules,
    Resource,
    Rule,
    UserAccess,
    subject_matches,
)
from weir.auth.users import Identity

KS = Resource("kustomize.toolkit.fluxcd.io", "kustomizations")
LOGS = Resource("", "pods/log")
PODS = Resource("", "pods")


def rule(**data: object) -> Rule:
    return Rule.from_api(data)


def test_rules_match_like_rbac() -> None:
    assert rule(verbs=["list"], apiGroups=[KS.group], resources=["kustomizations"]).allows(
        "list", KS
    )
    assert not rule(verbs=["get"], apiGroups=[KS.group], resources=["*"]).allows("list", KS)
    assert rule(verbs=["*"], apiGroups=["*"], resources=["*"]).allows("suspend", KS)
    assert not rule(verbs=["list"], apiGroups=["apps"], resources=["*"]).allows("list", KS)
    assert rule(verbs=["get"], apiGroups=[""], resources=["pods/log"]).allows("get", LOGS)
    assert rule(verbs=["get"], apiGroups=[""], resources=["*/log"]).allows("get", LOGS)
    assert not rule(verbs=["get"], apiGroups=[""], resources=["pods"]).allows("get", LOGS)
    assert not rule(verbs=["get"], apiGroups=[""], resources=["pods/log"]).allows("get", PODS)
    named = rule(verbs=["get", "list"], apiGroups=[KS.group], resources=["*"], resourceNames=["a"])
    assert not named.allows("list", KS), "a rule for some names never grants a list"
    assert named.allows("get", KS, "a")
    assert not named.allows("get", KS, "b")


def test_user_access_per_namespace() -> None:
    access = UserAccess(Identity("ada"), (KS, PODS), frozenset({PODS}), made=0.0)
    assert access.can_list(PODS, "any")
    assert access.can_list(KS, "ethereum") is None, "not reviewed yet"
    assert access.missing(["ethereum", "other", ""]) == ["ethereum", "other"]
    access.namespaces["ethereum"] = NamespaceRules(
        (rule(verbs=["list"], apiGroups=["*"], resources=["kustomizations"]),), False
    )
    access.namespaces["other"] = NamespaceRules((), False)
    assert access.sees(KS, "ethereum")
    assert not access.sees(KS, "other")
    assert access.visible_namespaces(["ethereum", "other"]) == ["ethereum", "other"]
    nothing = UserAccess(Identity("eve"), (KS,), frozenset(), made=0.0)
    nothing.namespaces["other"] = NamespaceRules((), True, {("list", KS): True})
    assert nothing.sees(KS, "other"), "an incomplete review falls back to access reviews"
    everyone = UserAccess(Identity("root"), (KS, PODS), frozenset({KS, PODS}), made=0.0)
    assert everyone.everywhere
    assert everyone.missing(["a", "b"]) == []


def test_subjects_match_like_the_rbac_authorizer() -> None:
    ada = Identity("ada", ("team-eth",))
    assert subject_matches({"kind": "User", "name": "ada"}, ada)
    assert subject_matches({"kind": "Group", "name": "team-eth"}, ada)
    assert subject_matches({"kind": "Group", "name": "system:authenticated"}, ada)
    assert not subject_matches(
        {"kind": "Group", "name": "system:authenticated"}, Identity("system:anonymous")
    )
    assert not subject_matches({"kind": "Group", "name": "ada"}, ada)
    sa = Identity("system:serviceaccount:agents:helper")
    assert subject_matches({"kind": "ServiceAccount", "namespace": "agents", "name": "helper"}, sa)


class FakeBindings:
    """An in-memory fake of the RoleBinding index: namespaces by user."""

    def __init__(self, found: dict[str, set[str]] | None) -> None:
        self.found = found

    def namespaces_for(self, identity: Identity) -> set[str] | None:
        return None if self.found is None else self.found.get(identity.user, set())


async def test_only_bound_namespaces_are_reviewed() -> None:
    reviewer = AccessReviewer(cast(ApiClient, None), (KS,), bindings=FakeBindings({"ada": set()}))
    access = UserAccess(Identity("ada"), (KS,), frozenset(), made=0.0, complete=True)
    await reviewer.ensure(access, ["a", "b", "c"])  # no request: nothing binds ada there
    assert reviewer.requests == 0
    assert access.visible_namespaces(["a", "b", "c"]) == []
    assert access.missing(["a", "b", "c"]) == []
    # A binding that changes makes its users be reviewed again.
    reviewer._users[access.identity] = access
    reviewer.binding_changed([{"kind": "User", "name": "bob"}])
    assert access.identity in reviewer._users
    reviewer.binding_changed([{"kind": "User", "name": "ada"}])
    assert access.identity not in reviewer._users
