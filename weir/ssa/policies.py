"""The per-object annotations an applier honours and the owner labels it sets and checks.

Flux's Kustomization reads ``kustomize.toolkit.fluxcd.io/{ssa,force,prune,reconcile}`` and
labels what it applies ``kustomize.toolkit.fluxcd.io/name|namespace``; the Flux Operator's
ResourceSet reads ``fluxcd.controlplane.io/{force,prune,reconcile}`` (and weir also honours
``fluxcd.controlplane.io/ssa``) and labels ``resourceset.fluxcd.controlplane.io/name|namespace``.
Values are matched case-insensitively (``ignore`` == ``Ignore``, ``enabled`` == ``Enabled``),
in annotations first, then labels, as Flux does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from weir.kube.inventory import OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL

SSA_OVERRIDE = "Override"
SSA_MERGE = "Merge"
SSA_IF_NOT_PRESENT = "IfNotPresent"
SSA_IGNORE = "Ignore"
ENABLED = "Enabled"
DISABLED = "Disabled"


def policy(obj: Mapping[str, Any], key: str) -> str | None:
    """The value of ``key`` in the object's annotations, else its labels."""
    meta = obj.get("metadata") or {}
    for field in ("annotations", "labels"):
        value = (meta.get(field) or {}).get(key)
        if value is not None:
            return str(value)
    return None


def has_policy(obj: Mapping[str, Any], key: str, value: str) -> bool:
    """True when ``key`` is set to ``value`` (case-insensitive) in annotations or labels."""
    meta = obj.get("metadata") or {}
    wanted = value.casefold()
    return any(
        str((meta.get(field) or {}).get(key, "")).casefold() == wanted
        for field in ("annotations", "labels")
    )


@dataclass(frozen=True)
class Policies:
    """Which annotation keys mean what, and which labels mark an owned object."""

    ssa: tuple[str, ...] = ("kustomize.toolkit.fluxcd.io/ssa",)
    """``Override`` (default), ``Merge``, ``IfNotPresent`` or ``Ignore``; the first key set
    wins."""
    force: str = "kustomize.toolkit.fluxcd.io/force"
    """``Enabled``: recreate the object when an immutable field changes."""
    prune: str = "kustomize.toolkit.fluxcd.io/prune"
    """``Disabled``: never garbage-collected."""
    reconcile: str = "kustomize.toolkit.fluxcd.io/reconcile"
    """``Disabled``: neither applied nor garbage-collected."""
    owner_name_label: str = OWNER_NAME_LABEL
    owner_namespace_label: str = OWNER_NAMESPACE_LABEL

    def ssa_is(self, obj: Mapping[str, Any], value: str) -> bool:
        """Whether the object's SSA policy is ``value``."""
        for key in self.ssa:
            found = policy(obj, key)
            if found is not None:
                return found.casefold() == value.casefold()
        return False

    def excluded(self, obj: Mapping[str, Any]) -> bool:
        """``reconcile: disabled`` or ``ssa: Ignore``: leave the object alone."""
        return has_policy(obj, self.reconcile, DISABLED) or self.ssa_is(obj, SSA_IGNORE)

    def forced(self, obj: Mapping[str, Any]) -> bool:
        return has_policy(obj, self.force, ENABLED)

    def owner_labels(self, name: str, namespace: str) -> dict[str, str]:
        """The labels marking objects applied by the owner ``namespace/name``."""
        return {self.owner_name_label: name, self.owner_namespace_label: namespace}

    def owned_by(self, obj: Mapping[str, Any], name: str, namespace: str) -> bool:
        """True when the (live) object carries both owner labels of ``namespace/name``."""
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return (
            labels.get(self.owner_name_label) == name
            and labels.get(self.owner_namespace_label) == namespace
        )


KUSTOMIZE = Policies()
"""Flux's Kustomization."""

OPERATOR = Policies(
    ssa=("fluxcd.controlplane.io/ssa", "kustomize.toolkit.fluxcd.io/ssa"),
    force="fluxcd.controlplane.io/force",
    prune="fluxcd.controlplane.io/prune",
    reconcile="fluxcd.controlplane.io/reconcile",
    owner_name_label="resourceset.fluxcd.controlplane.io/name",
    owner_namespace_label="resourceset.fluxcd.controlplane.io/namespace",
)
"""The Flux Operator's ResourceSet."""
