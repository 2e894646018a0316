"""Where the fleet stands: one snapshot of its GitOps objects and workloads, and whether
everything is Ready."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from kubernetes_asyncio.client import ApiClient

from weir.api.kinds import lookup
from weir.kube import kstatus
from weir.kube.errors import NotFoundError
from weir.kube.informer import list_all
from weir.kube.resources import ResourceRef
from weir.runtime import conditions
from weir.types import Obj

KINDS = (
    "FluxInstance",
    "GitRepository",
    "HelmRepository",
    "HelmChart",
    "Kustomization",
    "ResourceSet",
    "HelmRelease",
)
APPLIERS = ("Kustomization", "HelmRelease")
GATES = ("FluxInstance", "ResourceSet")
"""Kinds that must be Ready too before the fleet is: the operator's instance (its components
healthy, its sync done) and the ResourceSets (their objects generated)."""
WORKLOADS = (
    ResourceRef("apps", "v1", "deployments", True, "Deployment"),
    ResourceRef("apps", "v1", "statefulsets", True, "StatefulSet"),
)
ROOT = ("flux-system", "flux-system")
OPERATOR_SUSPEND = "fluxcd.controlplane.io/reconcile"
WAITING_REASONS = ("DependencyNotReady", "Progressing")


def short_revision(revision: str) -> str:
    """``main@sha1:<40 hex>`` -> ``main@sha1:<8 hex>``; ``sha256:<64 hex>`` likewise."""
    head, sep, digest = revision.rpartition(":")
    return f"{head}{sep}{digest[:8]}" if sep and len(digest) > 12 else revision


def revision_of(obj: Obj) -> str:
    status = obj.get("status") or {}
    kind = obj.get("kind")
    if kind == "Kustomization":
        return str(status.get("lastAppliedRevision") or "")
    if kind == "HelmRelease":
        history = status.get("history") or []
        if history and isinstance(history[0], dict) and history[0].get("chartVersion"):
            return str(history[0]["chartVersion"])
        return str(status.get("lastAttemptedRevision") or "")
    return str((status.get("artifact") or {}).get("revision") or "")


@dataclass(frozen=True)
class Row:
    """One GitOps object."""

    kind: str
    namespace: str
    name: str
    ready: str
    """The Ready condition's status (True, False, Unknown), "-" before the first run."""
    message: str
    revision: str
    suspended: bool
    current: bool
    """Ready, and the controller has seen the latest spec (kstatus Current)."""
    failed: bool
    """Stalled, or Ready=False for another reason than waiting on a dependency (retries
    continue, but it takes a change to fix it)."""
    reason: str = ""

    @classmethod
    def of(cls, obj: Obj) -> Row:
        meta = obj.get("metadata") or {}
        ready = conditions.get(obj, "Ready") or {}
        status = str(ready.get("status") or "-")
        return cls(
            kind=str(obj.get("kind")),
            namespace=str(meta.get("namespace") or ""),
            name=str(meta.get("name")),
            ready=status,
            message=str(ready.get("message") or ""),
            revision=revision_of(obj),
            suspended=bool((obj.get("spec") or {}).get("suspend"))
            or str((meta.get("annotations") or {}).get(OPERATOR_SUSPEND, "")).lower() == "disabled",
            current=status == "True" and conditions.kstatus(obj) == "Current",
            failed=conditions.is_true(obj, "Stalled")
            or (status == "False" and ready.get("reason") not in WAITING_REASONS),
            reason=str(ready.get("reason") or ""),
        )


@dataclass(frozen=True)
class Workload:
    """One Deployment or StatefulSet."""

    kind: str
    namespace: str
    name: str
    ready: int
    desired: int
    available: bool
    """kstatus Current: every replica updated and ready (Available)."""
    message: str

    @classmethod
    def of(cls, obj: Obj) -> Workload:
        meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
        result = kstatus.compute(obj)
        return cls(
            kind=str(obj.get("kind")),
            namespace=str(meta.get("namespace")),
            name=str(meta.get("name")),
            ready=int(status.get("readyReplicas") or 0),
            desired=int(spec.get("replicas", 1)),
            available=result.current,
            message=result.message,
        )


@dataclass(frozen=True)
class Snapshot:
    rows: tuple[Row, ...]
    workloads: tuple[Workload, ...]

    @property
    def appliers(self) -> list[Row]:
        return [r for r in self.rows if r.kind in APPLIERS]

    @property
    def has_root(self) -> bool:
        return any(r.kind == "Kustomization" and (r.namespace, r.name) == ROOT for r in self.rows)

    @property
    def gates(self) -> list[Row]:
        return [r for r in self.rows if r.kind in GATES]

    @property
    def all_ready(self) -> bool:
        """The root Kustomization exists and every Kustomization, HelmRelease, FluxInstance
        and ResourceSet is Current.

        A Ready Kustomization has applied everything it lists, so whatever it creates is in
        this snapshot too; with ``wait`` it was also healthy."""
        gates = [r for r in self.gates if not r.suspended]
        return self.has_root and all(r.current for r in (*self.appliers, *gates))

    @property
    def all_available(self) -> bool:
        return all(w.available for w in self.workloads)

    @property
    def failing(self) -> list[Row]:
        return [r for r in self.rows if r.failed]

    def ready_count(self) -> tuple[int, int]:
        appliers = self.appliers
        return sum(r.current for r in appliers), len(appliers)

    def find(self, kind: str, namespace: str, name: str) -> Row | None:
        for row in self.rows:
            if (row.kind, row.namespace, row.name) == (kind, namespace, name):
                return row
        return None


_ORDER = {kind: i for i, kind in enumerate(KINDS)}


async def _list(api: ApiClient, resource: ResourceRef) -> list[Obj]:
    try:
        return (await list_all(api, resource))[0]
    except NotFoundError:  # the CRD is not installed (yet)
        return []


async def snapshot(api: ApiClient) -> Snapshot:
    """List the GitOps kinds and the workloads once."""
    resources = [lookup(kind).resource for kind in KINDS]
    flux, workloads = await asyncio.gather(
        asyncio.gather(*(_list(api, r) for r in resources)),
        asyncio.gather(*(_list(api, r) for r in WORKLOADS)),
    )
    rows = sorted(
        (Row.of(obj) for objs in flux for obj in objs),
        key=lambda r: (_ORDER.get(r.kind, 99), r.namespace, r.name),
    )
    loads = sorted(
        (Workload.of(obj) for objs in workloads for obj in objs),
        key=lambda w: (w.namespace, w.kind, w.name),
    )
    return Snapshot(tuple(rows), tuple(w for w in loads if w.namespace != "kube-system"))
