"""Where an object comes from (``weir trace``): the Kustomization or HelmRelease that manages
it, that one's sources and revision, and so on up to the root Kustomization.

The manager is found from the owner labels Flux puts on every object it applies:
``kustomize.toolkit.fluxcd.io/name|namespace`` and ``helm.toolkit.fluxcd.io/name|namespace``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.actions.errors import NotManagedError, ObjectNotFoundError
from weir.actions.inventory import ObjectRef
from weir.actions.objects import (
    condition,
    find_object,
    is_suspended,
    kind_of,
    meta,
    object_name,
    revision,
)
from weir.actions.reconcile import source_chain
from weir.api import KINDS, KindInfo
from weir.kube import apply
from weir.kube.errors import NotFoundError
from weir.kube.resources import ResourceRef

OWNER_LABELS = (
    ("Kustomization", "kustomize.toolkit.fluxcd.io/name", "kustomize.toolkit.fluxcd.io/namespace"),
    ("HelmRelease", "helm.toolkit.fluxcd.io/name", "helm.toolkit.fluxcd.io/namespace"),
    (
        "ResourceSet",
        "resourceset.fluxcd.controlplane.io/name",
        "resourceset.fluxcd.controlplane.io/namespace",
    ),
)
MAX_DEPTH = 32


@dataclass
class Step:
    """One Flux object of a trace with what its status says."""

    ref: ObjectRef
    found: bool = True
    ready: str = ""
    reason: str = ""
    message: str = ""
    revision: str = ""
    suspended: bool = False
    details: dict[str, str] = field(default_factory=dict)
    """``url``, ``path``, ``chart``, ... of the spec, where they apply."""
    sources: list[Step] = field(default_factory=list)
    """For Kustomizations, HelmReleases and HelmCharts: their sources, nearest first."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = self.ref.to_dict()
        out.update(
            found=self.found,
            ready=self.ready,
            reason=self.reason,
            message=self.message,
            revision=self.revision,
            suspended=self.suspended,
            **self.details,
        )
        if self.sources:
            out["sources"] = [s.to_dict() for s in self.sources]
        return out


@dataclass
class Trace:
    """The traced object and its managers, nearest first."""

    object: Step
    managers: list[Step]

    def to_dict(self) -> dict[str, Any]:
        return {"object": self.object.to_dict(), "managers": [m.to_dict() for m in self.managers]}


def manager_of(obj: Mapping[str, Any]) -> tuple[KindInfo, str, str] | None:
    """The Kustomization, HelmRelease or ResourceSet named by the object's owner labels."""
    labels = meta(obj).get("labels") or {}
    for kind, name_label, ns_label in OWNER_LABELS:
        name, namespace = labels.get(name_label), labels.get(ns_label)
        if name and namespace:
            return KINDS[kind], str(namespace), str(name)
    return None


def _details(obj: Mapping[str, Any]) -> dict[str, str]:
    spec = obj.get("spec") or {}
    out: dict[str, str] = {}
    if spec.get("url"):
        out["url"] = str(spec["url"])
    if spec.get("path"):
        out["path"] = str(spec["path"])
    if spec.get("chart") and isinstance(spec["chart"], str):
        out["chart"] = str(spec["chart"])
    chart_spec = (
        (spec.get("chart") or {}).get("spec") if isinstance(spec.get("chart"), dict) else None
    )
    if isinstance(chart_spec, dict) and chart_spec.get("chart"):
        out["chart"] = str(chart_spec["chart"])
    return out


def step_of(obj: Mapping[str, Any]) -> Step:
    """A :class:`Step` from a live object (sources not filled in)."""
    ready = condition(obj, "Ready") or {}
    flux = kind_of(obj) is not None
    return Step(
        ref=ObjectRef.of(obj),
        ready=str(ready.get("status", "Unknown" if flux else "")),
        reason=str(ready.get("reason", "")),
        message=str(ready.get("message", "")),
        revision=revision(obj) if flux else "",
        suspended=is_suspended(obj),
        details=_details(obj) if flux else {},
    )


def _missing(info: KindInfo, namespace: str, name: str) -> Step:
    ref = ObjectRef(info.group, info.kind, namespace, name, info.version)
    return Step(ref=ref, found=False, message=f"{object_name(info, namespace, name)} not found")


async def _flux_step(api: ApiClient, obj: Mapping[str, Any]) -> Step:
    step = step_of(obj)
    info = kind_of(obj)
    if info is None:
        return step
    for key in reversed(source_chain(info, obj)):
        source = await find_object(api, key.info, key.namespace, key.name)
        step.sources.append(
            step_of(source) if source else _missing(key.info, key.namespace, key.name)
        )
    return step


async def trace(api: ApiClient, resource: ResourceRef, namespace: str | None, name: str) -> Trace:
    """Trace one object; raises :class:`ObjectNotFoundError` when it does not exist and
    :class:`NotManagedError` when it is neither a Flux object nor managed by one."""
    ns = namespace if resource.namespaced else None
    try:
        obj = await apply.get(api, resource, ns, name)
    except NotFoundError as e:
        what = object_name(resource.kind or resource.plural, ns, name)
        raise ObjectNotFoundError(
            f"{what} not found: check the kind, name and namespace (-n)"
        ) from e
    obj.setdefault("apiVersion", resource.api_version)
    obj.setdefault("kind", resource.kind)
    result = Trace(object=await _flux_step(api, obj), managers=[])
    owner = manager_of(obj)
    if owner is None and kind_of(obj) is None:
        raise NotManagedError(
            f"{object_name(resource.kind or resource.plural, ns, name)} is not managed by a "
            "Kustomization or HelmRelease (it has no kustomize.toolkit.fluxcd.io/name or "
            "helm.toolkit.fluxcd.io/name label)"
        )
    seen = {result.object.ref.id}
    while owner is not None and len(result.managers) < MAX_DEPTH:
        info, owner_ns, owner_name = owner
        manager = await find_object(api, info, owner_ns, owner_name)
        if manager is None:
            result.managers.append(_missing(info, owner_ns, owner_name))
            break
        step = await _flux_step(api, manager)
        if step.ref.id in seen:
            break
        seen.add(step.ref.id)
        result.managers.append(step)
        owner = manager_of(manager)
    return result
