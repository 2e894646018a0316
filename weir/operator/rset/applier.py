"""Applying a ResourceSet's objects as the Flux Operator does: server-side apply with
:mod:`weir.ssa` (field manager ``flux-operator``, the operator's annotations:
``fluxcd.controlplane.io/force``, ``.../prune``, ``.../reconcile``, ``.../ssa``), data copied
into ConfigMaps and Secrets from ``fluxcd.controlplane.io/copyFrom``, step by step (each step
healthy before the next), garbage collection of what the previous inventory had and this one
has not (Flux Kustomizations and HelmReleases first, waited for up to a minute so that their
controllers clean up under the service accounts that are deleted after them), and the health
check of ``spec.wait``.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kube
from weir.kube.errors import NotFoundError, UnknownKindError
from weir.kube.inventory import Entry, stale_entries
from weir.kube.resources import mapper_for
from weir.operator.gotemplate.goyaml import dump
from weir.operator.inputs.secrets import decode
from weir.operator.resourceset import COPY_FROM_ANNOTATION, RenderedStep
from weir.ssa.apply import ApplyOptions, ChangeSet, apply_all
from weir.ssa.errors import ApplyError
from weir.ssa.normalize import normalize
from weir.ssa.policies import OPERATOR
from weir.ssa.prune import PruneResult, prune
from weir.ssa.wait import wait_for_health
from weir.types import Obj

FIELD_MANAGER = "flux-operator"
FLUX_GROUPS = ("kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io")
GC_WAIT = 60.0
HEALTH_INTERVAL = 5.0


def objects_digest(objects: Sequence[Obj]) -> str:
    """``sha256:<hex>`` of the objects as multi-document YAML (the revision)."""
    text = "---\n".join(dump(o) for o in objects)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


async def copy_data(api: ApiClient, objects: Sequence[Obj]) -> None:
    """Fill ConfigMaps and Secrets that carry ``copyFrom: namespace/name`` (in place)."""
    for obj in objects:
        if obj.get("apiVersion") != "v1" or obj.get("kind") not in ("ConfigMap", "Secret"):
            continue
        source = ((obj.get("metadata") or {}).get("annotations") or {}).get(COPY_FROM_ANNOTATION)
        if not source:
            continue
        parts = str(source).split("/")
        if len(parts) != 2 or not all(parts):
            raise ApplyError(
                f"invalid {COPY_FROM_ANNOTATION} annotation value '{source}' must be in the "
                "format 'namespace/name'"
            )
        kind = str(obj["kind"])
        resource = await mapper_for(api).resolve("v1", kind)
        try:
            live = await kube.get(api, resource, parts[0], parts[1])
        except NotFoundError as e:
            raise ApplyError(f"failed to copy data from {kind}/{source}: not found") from e
        if kind == "ConfigMap":
            obj["data"] = dict(live.get("data") or {})
            if live.get("binaryData"):
                obj["binaryData"] = dict(live["binaryData"])
            continue
        obj.setdefault("type", live.get("type") or "Opaque")
        obj.pop("stringData", None)
        obj["data"] = dict(live.get("data") or {})
        decode(obj["data"])  # must be valid base64, as the API server stores it


@dataclass
class Applied:
    """What :func:`apply_steps` did."""

    changes: ChangeSet = field(default_factory=ChangeSet)
    entries: list[Entry] = field(default_factory=list)
    skipped: set[str] = field(default_factory=set)
    """Inventory ids of objects left alone (reconcile disabled, ssa Ignore/IfNotPresent)."""


async def apply_steps(
    api: ApiClient,
    steps: Sequence[RenderedStep],
    *,
    force: bool,
    timeout: float,  # noqa: ASYNC109 - also the health-check limit reported
) -> Applied:
    """Apply each step's objects (already labelled) and, between steps, wait for the step to
    be healthy. Raises :class:`~weir.ssa.errors.ApplyError` or
    :class:`~weir.ssa.errors.HealthCheckError`."""
    out = Applied()
    options = ApplyOptions(
        field_manager=FIELD_MANAGER, force=force, wait_timeout=timeout, policies=OPERATOR
    )
    for index, step in enumerate(steps):
        objects = [normalize(o) for o in step.objects]
        await copy_data(api, objects)
        changes = await apply_all(api, objects, options)
        out.changes.changes.extend(changes.changes)
        out.entries.extend(changes.entries())
        skipped = {c.entry.ref.id for c in changes.changes if c.action == "skipped"}
        out.skipped |= skipped
        if step.name and index < len(steps) - 1:
            targets = [o for o in objects if Entry.of(o).ref.id not in skipped]
            await wait_for_health(api, targets, timeout=timeout, interval=HEALTH_INTERVAL)
    return out


async def health(
    api: ApiClient,
    objects: Sequence[Obj],
    skipped: set[str],
    timeout: float,  # noqa: ASYNC109 - part of the error reported
) -> None:
    """``spec.wait``: every applied object Current (fail fast on Failed)."""
    targets = [copy.deepcopy(o) for o in objects if Entry.of(o).ref.id not in skipped]
    if targets:
        await wait_for_health(api, targets, timeout=timeout, interval=HEALTH_INTERVAL)


async def collect_garbage(
    api: ApiClient, old: Sequence[Entry], new: Sequence[Entry], name: str, namespace: str
) -> PruneResult:
    """Delete what ``old`` had and ``new`` has not, still owned by the ResourceSet and not
    ``prune: disabled``: Flux's appliers first (waited for), then the rest."""
    stale = stale_entries(old, new)
    flux = [e for e in stale if e.ref.group in FLUX_GROUPS]
    rest = [e for e in stale if e.ref.group not in FLUX_GROUPS]
    result = PruneResult()
    if flux:
        first = await prune(api, flux, name, namespace, policies=OPERATOR)
        result.deleted.extend(first.deleted)
        result.skipped.extend(first.skipped)
        result.failed.update(first.failed)
        await _wait_gone(api, first.deleted, GC_WAIT)
    if rest:
        second = await prune(api, rest, name, namespace, policies=OPERATOR)
        result.deleted.extend(second.deleted)
        result.skipped.extend(second.skipped)
        result.failed.update(second.failed)
    return result


async def _wait_gone(api: ApiClient, entries: Sequence[Entry], limit: float) -> None:
    """Poll until the entries are gone or ``limit`` passed (then go on, as the operator
    does: a stuck finalizer must not block the rest of the garbage collection)."""
    deadline = time.monotonic() + limit
    pending = list(entries)
    while pending and time.monotonic() < deadline:
        still = []
        for entry in pending:
            try:
                resource = await mapper_for(api).resolve(entry.api_version, entry.ref.kind)
                await kube.get(api, resource, entry.ref.namespace or None, entry.ref.name)
            except (NotFoundError, UnknownKindError):
                continue
            still.append(entry)
        pending = still
        if pending:
            await asyncio.sleep(0.5)


def change_log(applied: Applied, pruned: PruneResult | None) -> str:
    """The ``ApplySucceeded`` event text: one line per object created, configured or
    deleted."""
    lines = [str(c) for c in applied.changes.changed()]
    if pruned is not None:
        lines.extend(f"{e.ref} deleted" for e in pruned.deleted)
    return "\n".join(lines)
