"""What a signed-in user may read and do, asked of the API server once and kept for a while, so
that the web UI and the MCP server can filter their shared caches per user without a watch
per user.

For each user (:class:`UserAccess`), made on first use and renewed after ``ttl``:

1. **Cluster-wide reads**: one ``SelfSubjectRulesReview``, sent as the user (impersonated),
   for a namespace that does not exist (:data:`NO_NAMESPACE`): the rules it returns are those
   the user holds in every namespace (ClusterRoleBindings). A resource the user may list
   everywhere needs nothing more. When that review is incomplete (an authorizer other than
   RBAC answers too), one ``SelfSubjectAccessReview`` per resource (``list`` in all
   namespaces) decides instead.
2. **Per namespace**: for the other resources, one ``SelfSubjectRulesReview`` per namespace
   that holds objects (asked when a view first needs that namespace), which lists every rule
   that applies to the user there; the rules are matched here (verbs, API groups, resources,
   ``*`` wildcards; rules limited to ``resourceNames`` never grant a list). With a
   :class:`BindingIndex` (the web UI watches RoleBindings: one watch for everyone) and a
   complete cluster-wide review (RBAC alone decides), only the namespaces where a RoleBinding
   names the user, one of their groups or ``system:authenticated`` are reviewed: elsewhere
   RBAC grants them nothing beyond the cluster-wide rules.
3. **Actions**: each action is checked with a ``SelfSubjectAccessReview`` for its verb on the
   very object, at the moment it runs (:meth:`AccessReviewer.allowed`), never from the cache.

A rules review can be incomplete (an authorizer other than RBAC, such as a webhook): the
namespace then counts as visible for the resources the rules do not grant but an access
review does (``list`` on that resource in that namespace, one review each, cached too).

The cost is per user and per ``ttl``, not per request: one review, plus one per namespace
that holds objects for users who cannot list everywhere (:attr:`AccessReviewer.requests`
counts them; ``bench/web_rbac_bench.py`` measures them).
The reviewer keeps at most ``capacity`` users (least recently used go first).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubernetes_asyncio.client import ApiClient

from weir.auth.users import Identity
from weir.kube import apply
from weir.kube.client import acting_as
from weir.kube.resources import ResourceRef
from weir.log import kv

log = logging.getLogger("weir.auth")

SSAR = ResourceRef("authorization.k8s.io", "v1", "selfsubjectaccessreviews", False)
SSRR = ResourceRef("authorization.k8s.io", "v1", "selfsubjectrulesreviews", False)
NO_NAMESPACE = "weir-rbac-cluster-scope-probe"
"""A namespace name nobody uses: its rules review holds exactly the cluster-wide rules."""
DEFAULT_TTL = 60.0
DEFAULT_CAPACITY = 100
CONCURRENCY = 8


AUTHENTICATED = "system:authenticated"
"""The group the API server adds to every impersonated user (but ``system:anonymous``)."""


class BindingIndex(Protocol):
    """Where RoleBindings name someone: the namespaces a user may hold namespace-scoped rules
    in (None: not known now, so every namespace is reviewed)."""

    def namespaces_for(self, identity: Identity) -> set[str] | None: ...


def subject_matches(subject: Mapping[str, Any], identity: Identity) -> bool:
    """Whether a RoleBinding subject names ``identity`` (as the RBAC authorizer matches)."""
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return bool(name == identity.user)
    if kind == "Group":
        return name in identity.groups or (
            name == AUTHENTICATED and identity.user != "system:anonymous"
        )
    if kind == "ServiceAccount":
        return identity.user == f"system:serviceaccount:{subject.get('namespace')}:{name}"
    return False


@dataclass(frozen=True, order=True)
class Resource:
    """An API resource as RBAC names it: group ("" for core) and plural, maybe with a
    subresource (``pods/log``)."""

    group: str
    plural: str

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _matches(values: frozenset[str], value: str) -> bool:
    return "*" in values or value in values


@dataclass(frozen=True)
class Rule:
    """One ``resourceRules`` entry of a rules review."""

    verbs: frozenset[str]
    groups: frozenset[str]
    resources: frozenset[str]
    names: frozenset[str] = frozenset()

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Rule:
        return cls(
            frozenset(data.get("verbs") or ()),
            frozenset(data.get("apiGroups") or ()),
            frozenset(data.get("resources") or ()),
            frozenset(data.get("resourceNames") or ()),
        )

    def allows(self, verb: str, resource: Resource, name: str | None = None) -> bool:
        if not _matches(self.verbs, verb) or not _matches(self.groups, resource.group):
            return False
        sub = resource.plural.partition("/")[2]
        ok = _matches(self.resources, resource.plural) or (
            bool(sub) and f"*/{sub}" in self.resources
        )
        if not ok:
            return False
        return not self.names or (name is not None and name in self.names)


@dataclass
class NamespaceRules:
    rules: tuple[Rule, ...]
    incomplete: bool
    reviewed: dict[tuple[str, Resource], bool] = field(default_factory=dict)
    """Access reviews made because the rules were incomplete."""

    def allows(self, verb: str, resource: Resource, name: str | None = None) -> bool:
        return any(r.allows(verb, resource, name) for r in self.rules)


@dataclass
class UserAccess:
    """What one user may read (see the module docstring). ``can_list`` answers None for a
    namespace not reviewed yet: :meth:`AccessReviewer.ensure` it first."""

    identity: Identity
    resources: tuple[Resource, ...]
    cluster: frozenset[Resource]
    made: float
    namespaces: dict[str, NamespaceRules] = field(default_factory=dict)
    complete: bool = False
    """Whether the cluster-wide review was complete (RBAC alone decides)."""
    version: int = 0
    """Bumped whenever a namespace is added (for caches of filtered lists)."""

    @property
    def everywhere(self) -> bool:
        """Whether the user may list every resource in every namespace."""
        return all(r in self.cluster for r in self.resources)

    def can_list(self, resource: Resource, namespace: str) -> bool | None:
        if resource in self.cluster:
            return True
        found = self.namespaces.get(namespace)
        if found is None:
            return None
        if found.allows("list", resource):
            return True
        return found.reviewed.get(("list", resource), False)

    def sees(self, resource: Resource, namespace: str) -> bool:
        """Like :meth:`can_list`, an unreviewed namespace counting as not visible."""
        return self.can_list(resource, namespace) is True

    def missing(self, namespaces: Iterable[str]) -> list[str]:
        """The namespaces among ``namespaces`` that need a rules review."""
        if self.everywhere:
            return []
        return sorted({ns for ns in namespaces if ns and ns not in self.namespaces})

    def visible_namespaces(self, namespaces: Iterable[str]) -> list[str]:
        """The namespaces among ``namespaces`` where the user may list at least one of the
        resources."""
        return sorted(ns for ns in set(namespaces) if any(self.sees(r, ns) for r in self.resources))


class AccessReviewer:
    """Makes and keeps :class:`UserAccess` per user, and checks actions."""

    def __init__(
        self,
        api: ApiClient,
        resources: Iterable[Resource],
        *,
        ttl: float = DEFAULT_TTL,
        capacity: int = DEFAULT_CAPACITY,
        bindings: BindingIndex | None = None,
    ) -> None:
        self.api = api
        self.bindings = bindings
        self.resources = tuple(sorted(set(resources)))
        self.ttl = ttl
        self.capacity = capacity
        self.requests = 0
        """Reviews sent to the API server so far (for measurements)."""
        self._users: OrderedDict[Identity, UserAccess] = OrderedDict()
        self._making: dict[Identity, asyncio.Task[UserAccess]] = {}
        self._limit = asyncio.Semaphore(CONCURRENCY)
        self._ns_locks: dict[tuple[Identity, str], asyncio.Lock] = {}

    def client_for(self, identity: Identity) -> ApiClient:
        """A client that acts as ``identity`` (shares the reviewer's connection pool)."""
        return acting_as(self.api, identity.user, identity.groups)

    async def access(self, identity: Identity) -> UserAccess:
        """The user's access, made or renewed as needed."""
        found = self._users.get(identity)
        if found is not None and time.monotonic() - found.made < self.ttl:
            self._users.move_to_end(identity)
            return found
        task = self._making.get(identity)
        if task is None:
            task = asyncio.ensure_future(self._make(identity))
            self._making[identity] = task
            task.add_done_callback(lambda _t: self._making.pop(identity, None))
        made = await asyncio.shield(task)
        self._users[identity] = made
        self._users.move_to_end(identity)
        while len(self._users) > self.capacity:
            old, _ = self._users.popitem(last=False)
            self._ns_locks = {k: v for k, v in self._ns_locks.items() if k[0] != old}
        return made

    async def _make(self, identity: Identity) -> UserAccess:
        api = self.client_for(identity)
        rules = await self._rules(api, NO_NAMESPACE)
        if rules.incomplete:
            answers = await asyncio.gather(
                *(self._review(api, "list", r, None) for r in self.resources)
            )
            cluster = frozenset(r for r, ok in zip(self.resources, answers, strict=True) if ok)
        else:
            cluster = frozenset(r for r in self.resources if rules.allows("list", r))
        log.debug(
            "user access reviewed",
            extra=kv(user=identity.user, clusterWide=sorted(str(r) for r in cluster)),
        )
        return UserAccess(
            identity, self.resources, cluster, time.monotonic(), complete=not rules.incomplete
        )

    async def ensure(self, access: UserAccess, namespaces: Iterable[str]) -> UserAccess:
        """Review the namespaces of ``namespaces`` that ``access`` does not know yet."""
        missing = access.missing(namespaces)
        if not missing:
            return access
        bound = self.bindings.namespaces_for(access.identity) if self.bindings else None
        if bound is not None and access.complete:
            for ns in missing:
                if ns not in bound:  # no RoleBinding names them there: nothing more to grant
                    access.namespaces[ns] = NamespaceRules((), False)
            access.version += 1
            missing = [ns for ns in missing if ns in bound]
        await asyncio.gather(*(self._namespace(access, ns) for ns in missing))
        return access

    async def scope(self, identity: Identity, namespaces: Iterable[str]) -> UserAccess:
        """:meth:`access` then :meth:`ensure` for ``namespaces``."""
        return await self.ensure(await self.access(identity), namespaces)

    async def _namespace(self, access: UserAccess, namespace: str) -> None:
        lock = self._ns_locks.setdefault((access.identity, namespace), asyncio.Lock())
        async with lock:
            if namespace in access.namespaces:
                return
            api = self.client_for(access.identity)
            found = await self._rules(api, namespace)
            if found.incomplete:
                for resource in access.resources:
                    if resource not in access.cluster and not found.allows("list", resource):
                        found.reviewed[("list", resource)] = await self._review(
                            api, "list", resource, namespace
                        )
            access.namespaces[namespace] = found
            access.version += 1

    async def _rules(self, api: ApiClient, namespace: str) -> NamespaceRules:
        """The rules review of ``namespace`` as the client's user."""
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": namespace},
        }
        async with self._limit:
            self.requests += 1
            answer = await apply.create(api, SSRR, body)
        status = answer.get("status") or {}
        return NamespaceRules(
            tuple(Rule.from_api(r) for r in status.get("resourceRules") or ()),
            bool(status.get("incomplete")),
        )

    async def _review(
        self,
        api: ApiClient,
        verb: str,
        resource: Resource,
        namespace: str | None,
        name: str | None = None,
    ) -> bool:
        plural, _, sub = resource.plural.partition("/")
        attributes: dict[str, Any] = {"verb": verb, "group": resource.group, "resource": plural}
        if sub:
            attributes["subresource"] = sub
        if namespace:
            attributes["namespace"] = namespace
        if name:
            attributes["name"] = name
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        async with self._limit:
            self.requests += 1
            answer = await apply.create(api, SSAR, body)
        return bool((answer.get("status") or {}).get("allowed"))

    async def allowed(
        self,
        identity: Identity,
        verb: str,
        resource: Resource,
        namespace: str | None,
        name: str | None = None,
    ) -> bool:
        """Whether ``identity`` may ``verb`` the object now (an access review, never cached)."""
        return await self._review(self.client_for(identity), verb, resource, namespace, name)

    async def verbs(
        self, identity: Identity, resource: Resource, namespace: str, verbs: Iterable[str]
    ) -> dict[str, bool]:
        """Which of ``verbs`` the rules of ``namespace`` grant on ``resource`` (for showing
        which actions are on; the action itself is checked by :meth:`allowed`)."""
        access = await self.scope(identity, [])
        if namespace not in access.namespaces:
            await self._namespace(access, namespace)
        rules = access.namespaces[namespace]
        return {v: rules.allows(v, resource) for v in verbs}

    def forget(self, identity: Identity) -> None:
        self._users.pop(identity, None)

    def binding_changed(self, subjects: Iterable[Mapping[str, Any]]) -> None:
        """A RoleBinding naming ``subjects`` was added, changed or removed: the users it names
        are reviewed again at their next request (not after the ``ttl``)."""
        named = list(subjects)
        for identity in [i for i in self._users if any(subject_matches(s, i) for s in named)]:
            self.forget(identity)
