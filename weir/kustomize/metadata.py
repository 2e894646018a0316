"""What Flux does to built objects before applying them, and the per-object policy annotations.

- :func:`normalize`: make manifests compare cleanly with what the API server stores (drop
  ``metadata.creationTimestamp`` and ``status``, Secret ``stringData`` folded into ``data``,
  ``protocol: TCP`` made explicit on container and Service ports).
- :func:`set_common_metadata`: ``spec.commonMetadata`` labels and annotations, set on every object
  (overriding keys the object has). Flux does this after build and substitution, so
  ``${...}`` in commonMetadata is not substituted.
- :func:`policy`: the value of a ``kustomize.toolkit.fluxcd.io/*`` policy, read from labels or
  annotations; matched case-insensitively (``ignore`` == ``Ignore``), as in Flux.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from weir.kube.inventory import set_owner_labels
from weir.ssa.normalize import normalize
from weir.ssa.policies import (
    DISABLED,
    ENABLED,
    KUSTOMIZE,
    SSA_IF_NOT_PRESENT,
    SSA_IGNORE,
    SSA_MERGE,
    SSA_OVERRIDE,
    has_policy,
    policy,
)

__all__ = [
    "DISABLED",
    "ENABLED",
    "FORCE_KEY",
    "PRUNE_KEY",
    "RECONCILE_KEY",
    "SSA_IF_NOT_PRESENT",
    "SSA_IGNORE",
    "SSA_KEY",
    "SSA_MERGE",
    "SSA_OVERRIDE",
    "has_policy",
    "normalize",
    "policy",
    "prepare",
    "set_common_metadata",
]

SSA_KEY = KUSTOMIZE.ssa[0]
FORCE_KEY = KUSTOMIZE.force
PRUNE_KEY = KUSTOMIZE.prune
RECONCILE_KEY = KUSTOMIZE.reconcile


def set_common_metadata(
    obj: dict[str, Any],
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Merge ``labels`` and ``annotations`` into the object's metadata (in place; given keys
    win) and return it."""
    meta = obj.setdefault("metadata", {})
    if labels:
        meta["labels"] = {**(meta.get("labels") or {}), **labels}
    if annotations:
        meta["annotations"] = {**(meta.get("annotations") or {}), **annotations}
    return obj


def prepare(
    objects: Iterable[Mapping[str, Any]],
    *,
    name: str,
    namespace: str,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The objects as Flux applies them: normalized, with ``commonMetadata`` (``labels``,
    ``annotations``) and then the owner labels of the Kustomization ``namespace/name`` (which
    win over commonMetadata). The input objects are not modified."""
    out = []
    for obj in objects:
        prepared = set_common_metadata(normalize(obj), labels, annotations)
        out.append(set_owner_labels(prepared, name, namespace))
    return out
