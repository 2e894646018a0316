"""The resources the UI shows: every Flux kind weir serves, the workload kinds Flux deploys,
Pods (read on demand) and core/v1 Events."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from weir.api import KINDS, KindInfo, UnknownKindError, lookup
from weir.kube.resources import EVENTS, ResourceRef

__all__ = [
    "EVENTS",
    "FLUX_KINDS",
    "PODS",
    "SOURCE_KINDS",
    "WORKLOADS",
    "flux_kind",
    "workload_resource",
]

FLUX_KINDS: tuple[KindInfo, ...] = tuple(KINDS.values())
SOURCE_KINDS = frozenset(k.kind for k in FLUX_KINDS if "fluxcd-sources" in k.categories)
APPLIER_KINDS = frozenset(k.kind for k in FLUX_KINDS if "fluxcd-appliers" in k.categories)

PODS = ResourceRef("", "v1", "pods", True, "Pod")
WORKLOADS: Mapping[str, ResourceRef] = MappingProxyType(
    {
        "Deployment": ResourceRef("apps", "v1", "deployments", True, "Deployment"),
        "StatefulSet": ResourceRef("apps", "v1", "statefulsets", True, "StatefulSet"),
        "DaemonSet": ResourceRef("apps", "v1", "daemonsets", True, "DaemonSet"),
        "Job": ResourceRef("batch", "v1", "jobs", True, "Job"),
        "CronJob": ResourceRef("batch", "v1", "cronjobs", True, "CronJob"),
    }
)
"""The workload kinds of the Workloads view, by kind."""


def flux_kind(name: str) -> KindInfo | None:
    """The Flux kind for any name kubectl accepts (``ks``, ``HelmRelease``), or None."""
    try:
        return lookup(name)
    except UnknownKindError:
        return None


def workload_resource(name: str) -> ResourceRef | None:
    """The workload resource for a kind name (case-insensitive), or None."""
    for kind, ref in WORKLOADS.items():
        if name.lower() in (kind.lower(), ref.plural):
            return ref
    return None
