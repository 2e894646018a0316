"""Flux's apply order (``fluxcd/pkg/ssa`` ``ApplyAllStaged`` and ``ReconcileOrder``).

Stages, applied one after the other:

1. cluster definitions: CustomResourceDefinitions (``apiextensions.k8s.io``), Namespaces (core)
   and ClusterRoles (``rbac.authorization.k8s.io``) -- applied, then waited on until Current,
   so that the kinds and namespaces the rest needs exist;
2. class kinds: every kind whose name ends in ``Class`` (StorageClass, IngressClass,
   GatewayClass, RuntimeClass, PriorityClass, ClusterClass, ...) -- applied and waited on;
3. kinds listed by the operator (Flux's ``--custom-apply-stage-kinds``) -- applied, no wait;
4. everything else.

Within a stage, objects are sorted by kind rank (:data:`FIRST` ... unknown kinds ...
:data:`LAST`), then group, kind, namespace and name, so the order never depends on the input.
Other cluster-scoped kinds (ClusterRoleBinding, webhooks) are not staged, only ranked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from enum import IntEnum
from typing import Any

FIRST = (
    "CustomResourceDefinition",
    "Namespace",
    "ClusterRole",
    "ClusterClass",
    "RuntimeClass",
    "PriorityClass",
    "StorageClass",
    "VolumeSnapshotClass",
    "IngressClass",
    "GatewayClass",
    "ClusterRoleBinding",
    "ResourceQuota",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
)
LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")

_RANK = {kind: i for i, kind in enumerate(FIRST)}
_RANK.update({kind: len(FIRST) + 1 + i for i, kind in enumerate(LAST)})
_UNKNOWN = len(FIRST)

_CLUSTER_DEFINITIONS = {
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("", "Namespace"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
}


class Stage(IntEnum):
    """The apply stages, in order."""

    CLUSTER_DEFINITIONS = 1
    CLASSES = 2
    CUSTOM = 3
    REST = 4

    @property
    def waits(self) -> bool:
        """Whether the objects of this stage are waited on before the next stage."""
        return self in (Stage.CLUSTER_DEFINITIONS, Stage.CLASSES)


def group_of(obj: Mapping[str, Any]) -> str:
    """The API group of an object (``""`` for the core group)."""
    api_version = str(obj.get("apiVersion") or "")
    return api_version.rpartition("/")[0]


def stage_of(obj: Mapping[str, Any], custom_kinds: Collection[str] = ()) -> Stage:
    """The stage an object is applied in."""
    kind = str(obj.get("kind") or "")
    if (group_of(obj), kind) in _CLUSTER_DEFINITIONS:
        return Stage.CLUSTER_DEFINITIONS
    if kind.endswith("Class"):
        return Stage.CLASSES
    if kind in custom_kinds:
        return Stage.CUSTOM
    return Stage.REST


def sort_key(obj: Mapping[str, Any]) -> tuple[int, str, str, str, str]:
    """The order of an object within its stage."""
    kind = str(obj.get("kind") or "")
    meta = obj.get("metadata") or {}
    return (
        _RANK.get(kind, _UNKNOWN),
        group_of(obj),
        kind,
        str(meta.get("namespace") or ""),
        str(meta.get("name") or ""),
    )


def staged(
    objects: Iterable[Mapping[str, Any]], custom_kinds: Collection[str] = ()
) -> list[tuple[Stage, list[Any]]]:
    """The non-empty stages in apply order, each with its objects sorted."""
    stages: dict[Stage, list[Any]] = {}
    for obj in objects:
        stages.setdefault(stage_of(obj, custom_kinds), []).append(obj)
    return [(stage, sorted(stages[stage], key=sort_key)) for stage in sorted(stages)]


def apply_order(
    objects: Iterable[Mapping[str, Any]], custom_kinds: Collection[str] = ()
) -> list[Any]:
    """All objects in the order they are applied (stage, then :func:`sort_key`)."""
    return [obj for _, objs in staged(objects, custom_kinds) for obj in objs]
