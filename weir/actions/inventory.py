"""Inventory entries (``status.inventory.entries[]``) as object references.

An entry is ``{"id": "<namespace>_<name>_<group>_<kind>", "v": "<version>"}``: the namespace is
empty for cluster-scoped objects and the group empty for the core group. Names cannot contain
``_``, so the id splits unambiguously: namespace up to the first ``_``, kind after the last,
group after the second-last. RBAC names may contain ``:``, which the id spells ``__``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from weir.errors import ConfigError

RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


class InventoryError(ConfigError):
    """An inventory entry that is not ``<namespace>_<name>_<group>_<kind>``."""


@dataclass(frozen=True, order=True)
class ObjectRef:
    """A Kubernetes object by group, kind, namespace and name (version informative)."""

    group: str
    kind: str
    namespace: str
    name: str
    version: str = ""

    @property
    def api_version(self) -> str:
        if not self.version:
            return self.group
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def id(self) -> str:
        name = self.name
        if self.group == RBAC_GROUP and self.kind in RBAC_KINDS:
            name = name.replace(":", "__")
        return f"{self.namespace}_{name}_{self.group}_{self.kind}"

    def display(self) -> str:
        """``Deployment/apps/podinfo``, or ``Namespace/apps`` when cluster-scoped (flux tree)."""
        if self.namespace:
            return f"{self.kind}/{self.namespace}/{self.name}"
        return f"{self.kind}/{self.name}"

    def to_dict(self) -> dict[str, str]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
        }

    @classmethod
    def parse(cls, entry_id: str, version: str = "") -> ObjectRef:
        namespace, sep, rest = entry_id.partition("_")
        rest, sep2, kind = rest.rpartition("_")
        name, sep3, group = rest.rpartition("_")
        if not (sep and sep2 and sep3) or not name or not kind:
            raise InventoryError(
                f"inventory entry {entry_id!r} is not <namespace>_<name>_<group>_<kind>"
            )
        if group == RBAC_GROUP and kind in RBAC_KINDS:
            name = name.replace("__", ":")
        return cls(group, kind, namespace, name, version)

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjectRef:
        """The reference of a manifest or live object."""
        group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
        meta = obj.get("metadata") or {}
        return cls(
            group,
            str(obj.get("kind", "")),
            str(meta.get("namespace") or ""),
            str(meta.get("name", "")),
            version,
        )


def entries(obj: Mapping[str, Any]) -> list[ObjectRef]:
    """The inventory of a Kustomization or HelmRelease (empty when it has none).
    Entries that do not parse are skipped."""
    status = obj.get("status") or {}
    inventory = status.get("inventory") or {}
    return list(_parse_all(inventory.get("entries") or []))


def has_inventory(obj: Mapping[str, Any]) -> bool:
    status = obj.get("status") or {}
    return isinstance(status.get("inventory"), dict)


def _parse_all(raw: Iterable[Any]) -> Iterable[ObjectRef]:
    for entry in raw:
        if not isinstance(entry, Mapping):
            continue
        try:
            yield ObjectRef.parse(str(entry.get("id", "")), str(entry.get("v", "")))
        except InventoryError:
            continue
