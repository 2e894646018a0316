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

import base64
import copy
from collections.abc import Iterable, Mapping
from typing import Any

from weir.kube.inventory import set_owner_labels
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

_POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


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


def _default_protocols(ports: Any) -> None:
    for port in ports if isinstance(ports, list) else []:
        if isinstance(port, dict) and "protocol" not in port:
            port["protocol"] = "TCP"


def _pod_spec(obj: Mapping[str, Any]) -> Any:
    node: Any = obj
    for key in _POD_TEMPLATE_PATHS.get(str(obj.get("kind")), ("-",)):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def normalize(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A normalized deep copy of a manifest (see the module docstring)."""
    out = copy.deepcopy(dict(obj))
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("creationTimestamp", None)
    if out.get("kind") != "CustomResourceDefinition":
        out.pop("status", None)
    if out.get("kind") == "Secret" and out.get("apiVersion") == "v1" and out.get("stringData"):
        data = dict(out.get("data") or {})
        for key, value in out.pop("stringData").items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        out["data"] = data
    if out.get("kind") == "Service" and out.get("apiVersion") == "v1":
        _default_protocols((out.get("spec") or {}).get("ports"))
    pod = _pod_spec(out)
    if isinstance(pod, dict):
        for field in ("initContainers", "containers", "ephemeralContainers"):
            for container in pod.get(field) or []:
                if isinstance(container, dict):
                    _default_protocols(container.get("ports"))
    return out


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
