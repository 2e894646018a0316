"""Server-side apply of an installation, its inventory, garbage collection and health.

- :func:`apply_objects` applies in Flux's order (CRDs first, waited on until Established,
  then the rest), as the field manager ``flux-operator``, taking over fields other managers
  hold (the operator owns what it renders). Unchanged objects cost one request each and
  change nothing.
- :func:`collect_garbage` deletes the objects of the previous inventory that are no longer
  rendered, newest kinds first, unless they carry ``fluxcd.controlplane.io/prune: disabled``
  (the CRDs: deleting a CRD deletes every object of its kind) or no longer carry the
  instance's owner labels.
- :func:`deployment_health` is the kstatus of the rendered Deployments, as the Flux Operator's
  health check sees them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kube
from weir.kube import kstatus as health
from weir.kube.errors import ApiError, NotFoundError, UnknownKindError
from weir.kube.inventory import Entry, entries_from_objects
from weir.kube.order import apply_order
from weir.kube.resources import mapper_for
from weir.log import kv
from weir.operator.instance.render import OWNER_NAME, OWNER_NAMESPACE, PRUNE

log = logging.getLogger(__name__)
Obj = dict[str, Any]

FIELD_MANAGER = "flux-operator"
CRD_WAIT = 30.0


@dataclass
class Applied:
    """What :func:`apply_objects` did."""

    entries: list[Entry] = field(default_factory=list)
    live: dict[str, Obj] = field(default_factory=dict)
    """The objects as stored, by ``Kind/namespace/name``."""


def display(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return "/".join(str(p) for p in (obj.get("kind"), meta.get("namespace"), meta.get("name")) if p)


async def apply_objects(api: ApiClient, objects: Sequence[Obj]) -> Applied:
    """Apply ``objects`` (see the module docstring)."""
    out = Applied(entries=entries_from_objects(objects))
    ordered = apply_order(objects)
    crds = [o for o in ordered if o.get("kind") == "CustomResourceDefinition"]
    rest = [o for o in ordered if o.get("kind") != "CustomResourceDefinition"]
    for obj in crds:
        await _apply_one(api, obj, out)
    if crds:
        await _wait_established(api, [out.live[display(c)] for c in crds])
        mapper_for(api).invalidate()
    for obj in rest:
        await _apply_one(api, obj, out)
    return out


async def _apply_one(api: ApiClient, obj: Obj, out: Applied) -> None:
    out.live[display(obj)] = await kube.apply(api, obj, FIELD_MANAGER, force=True)


async def _wait_established(api: ApiClient, crds: Iterable[Obj]) -> None:
    names = [(c.get("metadata") or {}).get("name") for c in crds]
    resource = await mapper_for(api).resolve("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    deadline = asyncio.get_running_loop().time() + CRD_WAIT
    pending = [n for n in names if n]
    while pending:
        still = []
        for name in pending:
            live = await kube.get(api, resource, None, str(name))
            if health.compute(live).status is not health.Status.CURRENT:
                still.append(name)
        pending = still
        if not pending:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"CRDs not Established after {CRD_WAIT:g}s: {', '.join(pending)}")
        await asyncio.sleep(0.5)


def _owned(live: Mapping[str, Any], name: str, namespace: str) -> bool:
    meta = live.get("metadata") or {}
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    if str(annotations.get(PRUNE, "")).lower() == "disabled":
        return False
    return labels.get(OWNER_NAME) == name and labels.get(OWNER_NAMESPACE) == namespace


async def collect_garbage(
    api: ApiClient,
    stale: Sequence[Entry],
    name: str,
    namespace: str,
    *,
    orphan: Iterable[str] = ("Kustomization",),
    strip_finalizers: Iterable[str] = (),
) -> tuple[list[Entry], dict[Entry, str]]:
    """Delete ``stale`` entries (in deletion order) still owned by the instance
    ``namespace/name``; returns (deleted, failed with reasons).

    Objects of the kinds in ``orphan`` get ``spec.deletionPolicy: Orphan`` first: deleting the
    sync Kustomization must not delete what it applied (the cluster's workloads). Objects of
    the kinds in ``strip_finalizers`` lose their finalizers first (when their controllers are
    gone, nothing would remove them)."""
    strip = set(strip_finalizers)
    orphans = set(orphan)
    deleted: list[Entry] = []
    failed: dict[Entry, str] = {}
    for entry in stale:
        ref = entry.ref
        try:
            resource = await mapper_for(api).resolve(entry.api_version, ref.kind)
            live = await kube.get(api, resource, ref.namespace or None, ref.name)
        except (NotFoundError, UnknownKindError):
            deleted.append(entry)
            continue
        except ApiError as e:
            failed[entry] = str(e)
            continue
        if not _owned(live, name, namespace):
            continue
        try:
            if ref.kind in orphans and ref.group == "kustomize.toolkit.fluxcd.io":
                await kube.patch(
                    api,
                    resource,
                    ref.namespace or None,
                    ref.name,
                    {"spec": {"deletionPolicy": "Orphan"}},
                )
            if ref.kind in strip and (live.get("metadata") or {}).get("finalizers"):
                await kube.patch(
                    api,
                    resource,
                    ref.namespace or None,
                    ref.name,
                    {"metadata": {"finalizers": None}},
                )
            await kube.delete(api, resource, ref.namespace or None, ref.name, missing_ok=True)
        except ApiError as e:
            failed[entry] = e.message or str(e)
            continue
        deleted.append(entry)
        log.info("garbage collected", extra=kv(object=str(ref)))
    return deleted, failed


@dataclass(frozen=True)
class UnitHealth:
    """The kstatus of one unit's Deployment."""

    unit: str
    ready: bool
    failed: bool
    message: str
    image: str = ""


async def deployment_health(
    api: ApiClient, namespace: str, units: Iterable[str]
) -> list[UnitHealth]:
    """The kstatus of the units' Deployments (read now, not from a cache)."""
    resource = await mapper_for(api).resolve("apps/v1", "Deployment")
    out = []
    for unit in units:
        try:
            live = await kube.get(api, resource, namespace, unit)
        except NotFoundError:
            out.append(UnitHealth(unit, False, False, "Deployment not found"))
            continue
        result = health.compute(live)
        containers = (((live.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
            "containers"
        ) or [{}]
        out.append(
            UnitHealth(
                unit,
                result.status is health.Status.CURRENT,
                result.status is health.Status.FAILED,
                f"{result.status.value} {result.message}".strip(),
                str(containers[0].get("image") or ""),
            )
        )
    return out
