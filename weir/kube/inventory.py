"""The inventory of a Kustomization (``status.inventory.entries``) in Flux's format, the diff that
finds stale objects, and the owner labels that mark what a Kustomization applied.

An entry is ``{"id": "<namespace>_<name>_<group>_<kind>", "v": "<version>"}``: namespace empty for
cluster-scoped objects, group empty for the core group, e.g. ``default_podinfo_apps_Deployment``
/ ``v1`` or ``_my-ns__Namespace`` / ``v1``. In the names of RBAC kinds ``:`` is written ``__``
(``system:auth`` -> ``system__auth``). Entries are kept in apply order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from weir.kube.order import apply_order

OWNER_NAME_LABEL = "kustomize.toolkit.fluxcd.io/name"
OWNER_NAMESPACE_LABEL = "kustomize.toolkit.fluxcd.io/namespace"

RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


def _rbac(group: str, kind: str) -> bool:
    return group == RBAC_GROUP and kind in RBAC_KINDS


@dataclass(frozen=True, order=True)
class ObjectRef:
    """The identity of an object: namespace, name, group and kind (no version)."""

    namespace: str
    name: str
    group: str
    kind: str

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ObjectRef:
        """The identity of a manifest or live object."""
        meta = obj.get("metadata") or {}
        group = str(obj.get("apiVersion") or "").rpartition("/")[0]
        return cls(
            str(meta.get("namespace") or ""),
            str(meta.get("name") or ""),
            group,
            str(obj.get("kind") or ""),
        )

    @classmethod
    def parse(cls, entry_id: str) -> ObjectRef:
        """The inverse of :attr:`id`; raises ValueError for a malformed id."""
        namespace, sep, rest = entry_id.partition("_")
        rest, sep2, kind = rest.rpartition("_")
        name, sep3, group = rest.rpartition("_")
        if not (sep and sep2 and sep3 and kind and name):
            raise ValueError(f"not an inventory id (<namespace>_<name>_<group>_<kind>): {entry_id}")
        if _rbac(group, kind):
            name = name.replace("__", ":")
        return cls(namespace, name, group, kind)

    @property
    def id(self) -> str:
        """``<namespace>_<name>_<group>_<kind>``."""
        name = self.name.replace(":", "__") if _rbac(self.group, self.kind) else self.name
        return f"{self.namespace}_{name}_{self.group}_{self.kind}"

    def api_version(self, version: str) -> str:
        """``group/version`` (just ``version`` for the core group)."""
        return f"{self.group}/{version}" if self.group else version

    def __str__(self) -> str:
        """``Kind/namespace/name`` (``Kind/name`` when cluster-scoped), as Flux prints objects."""
        return "/".join(p for p in (self.kind, self.namespace, self.name) if p)


@dataclass(frozen=True)
class Entry:
    """One inventory entry: the object and the version it was applied with."""

    ref: ObjectRef
    version: str

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> Entry:
        return cls(ObjectRef.of(obj), str(obj.get("apiVersion") or "").rpartition("/")[2])

    @classmethod
    def from_wire(cls, entry: Mapping[str, Any]) -> Entry:
        """From ``{"id": ..., "v": ...}``."""
        return cls(ObjectRef.parse(str(entry["id"])), str(entry.get("v") or ""))

    @property
    def api_version(self) -> str:
        return self.ref.api_version(self.version)

    def to_wire(self) -> dict[str, str]:
        return {"id": self.ref.id, "v": self.version}

    def stub(self) -> dict[str, Any]:
        """A minimal object with this identity (apiVersion, kind, metadata)."""
        meta = {"name": self.ref.name}
        if self.ref.namespace:
            meta["namespace"] = self.ref.namespace
        return {"apiVersion": self.api_version, "kind": self.ref.kind, "metadata": meta}


def entries_from_objects(objects: Iterable[Mapping[str, Any]]) -> list[Entry]:
    """Inventory entries of ``objects`` in apply order, without duplicates."""
    seen: dict[ObjectRef, Entry] = {}
    for obj in apply_order(objects):
        entry = Entry.of(obj)
        seen.setdefault(entry.ref, entry)
    return list(seen.values())


def from_wire(inventory: Mapping[str, Any] | None) -> list[Entry]:
    """The entries of a ``status.inventory`` (empty when there is none)."""
    return [Entry.from_wire(e) for e in (inventory or {}).get("entries") or []]


def to_wire(entries: Iterable[Entry]) -> dict[str, Any]:
    """A ``status.inventory`` value."""
    return {"entries": [e.to_wire() for e in entries]}


def stale_entries(old: Sequence[Entry], new: Iterable[Entry]) -> list[Entry]:
    """Entries of ``old`` whose object is not in ``new`` (by id; a version change is not
    staleness), in reverse apply order -- the order garbage collection deletes them in."""
    current = {e.ref for e in new}
    stale = [e for e in old if e.ref not in current]
    ordered = apply_order([e.stub() for e in stale])
    by_ref = {e.ref: e for e in stale}
    return [by_ref[ObjectRef.of(obj)] for obj in reversed(ordered)]


def merge_entries(entries: Iterable[Entry], extra: Iterable[Entry]) -> list[Entry]:
    """``entries`` followed by those of ``extra`` not among them (e.g. objects whose deletion
    failed, kept so that the next run retries)."""
    out = list(entries)
    known = {e.ref for e in out}
    out.extend(e for e in extra if e.ref not in known)
    return out


# --------------------------------------------------------------------------------- owner labels
def owner_labels(name: str, namespace: str) -> dict[str, str]:
    """The labels marking objects applied by the Kustomization ``namespace/name``."""
    return {OWNER_NAME_LABEL: name, OWNER_NAMESPACE_LABEL: namespace}


def set_owner_labels(obj: dict[str, Any], name: str, namespace: str) -> dict[str, Any]:
    """Put the owner labels on ``obj`` (in place, overriding existing values) and return it."""
    meta = obj.setdefault("metadata", {})
    meta["labels"] = {**(meta.get("labels") or {}), **owner_labels(name, namespace)}
    return obj


def is_owned_by(obj: Mapping[str, Any], name: str, namespace: str) -> bool:
    """True when the (live) object carries both owner labels of ``namespace/name``."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels.get(OWNER_NAME_LABEL) == name and labels.get(OWNER_NAMESPACE_LABEL) == namespace
