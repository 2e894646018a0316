"""What reconciling a rendered HelmRelease would change in the cluster (``weir diff hr``),
without changing anything.

- **The release**: the latest revision in Helm's storage is compared with what was rendered,
  as helm-controller decides whether to act: no release -> ``install``; another chart name or
  version, other values (their digest), or a release that is not ``deployed`` -> ``upgrade``;
  else ``unchanged``.
- **The objects**: every rendered object (the chart's CRDs first when they are installed) is
  planned with the same planner as ``weir diff ks`` (:func:`weir.ssa.apply.plan`): a
  server-side dry-run apply as Helm's field manager, compared with the live object; namespaced
  objects without a namespace go to the release namespace, as Helm installs them. Objects of
  the deployed revision's manifest that the new one no longer has are ``deleted`` (Helm
  deletes them on upgrade), unless they carry ``helm.sh/resource-policy: keep``.

The dry-run runs with the caller's kubeconfig identity, not ``spec.serviceAccountName``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from weir.actions.diff import KustomizationDiff, ObjectDiff, _error_line, object_diff
from weir.kube import apply as kube
from weir.kube.errors import NotFoundError, UnknownKindError
from weir.kube.inventory import Entry
from weir.kube.resources import mapper_for
from weir.ssa.apply import Action, ApplyOptions, plan
from weir.types import Obj

if TYPE_CHECKING:
    from kubernetes_asyncio.client import ApiClient

    from weir.actions.build import Notify
    from weir.actions.helmrender import Fleet, RenderedRelease, ValuesSource
    from weir.helmengine.engine import ClusterAccess, HelmEngine, Release

KEEP_POLICY = "helm.sh/resource-policy"


@dataclass(frozen=True)
class ReleaseChange:
    """What Helm would do with the release: ``install``, ``upgrade`` or ``unchanged``."""

    action: str
    reasons: tuple[str, ...] = ()
    current: Obj | None = None
    desired: Obj = field(default_factory=dict)

    def to_dict(self) -> Obj:
        out: Obj = {"action": self.action, "desired": self.desired}
        if self.reasons:
            out["reasons"] = list(self.reasons)
        if self.current is not None:
            out["current"] = self.current
        return out


@dataclass
class HelmReleaseDiff(KustomizationDiff):
    """The differences of one HelmRelease: its release and its objects."""

    release: ReleaseChange = field(default_factory=lambda: ReleaseChange("unchanged"))
    release_name: str = ""
    release_namespace: str = ""

    @property
    def has_changes(self) -> bool:
        return bool(self.changed) or self.release.action != "unchanged"

    def header(self) -> str | None:
        if self.release.action == "unchanged":
            return None
        why = f" ({'; '.join(self.release.reasons)})" if self.release.reasons else ""
        verb = "installed" if self.release.action == "install" else "upgraded"
        return f"► HelmRelease/{self.namespace}/{self.name} {verb}{why}"

    def to_dict(self) -> Obj:
        return {
            "helmRelease": {"namespace": self.namespace, "name": self.name},
            "release": {
                "name": self.release_name,
                "namespace": self.release_namespace,
                **self.release.to_dict(),
            },
            "objects": [o.to_dict() for o in self.objects],
            "errors": list(self.errors),
        }


def release_change(rendered: RenderedRelease, latest: Release | None) -> ReleaseChange:
    """helm-controller's decision for the rendered release against the latest revision."""
    from weir.helmengine.values import values_digest  # noqa: PLC0415

    desired = {"chart": rendered.chart.name, "version": rendered.chart.version}
    if latest is None:
        return ReleaseChange("install", (), None, desired)
    current = {
        "chart": latest.chart_name,
        "version": latest.chart_version,
        "revision": latest.revision,
        "status": latest.status,
    }
    reasons = []
    if latest.chart_name != rendered.chart.name:
        reasons.append(f"chart {latest.chart_name} -> {rendered.chart.name}")
    elif latest.chart_version != rendered.chart.version:
        reasons.append(
            f"chart {rendered.chart.name} {latest.chart_version} -> {rendered.chart.version}"
        )
    if values_digest(latest.config or {}) != values_digest(rendered.values):
        reasons.append("values changed")
    if latest.status != "deployed":
        reasons.append(f"release is {latest.status}")
    return ReleaseChange("upgrade" if reasons else "unchanged", tuple(reasons), current, desired)


def helm_owned(obj: Obj, release: str, namespace: str) -> Obj:
    """The object with the metadata Helm sets when it applies it: the ``managed-by: Helm``
    label and the ``meta.helm.sh/release-name|namespace`` annotations."""
    meta = dict(obj.get("metadata") or {})
    meta["labels"] = {**(meta.get("labels") or {}), "app.kubernetes.io/managed-by": "Helm"}
    meta["annotations"] = {
        **(meta.get("annotations") or {}),
        "meta.helm.sh/release-name": release,
        "meta.helm.sh/release-namespace": namespace,
    }
    return {**obj, "metadata": meta}


async def _with_namespaces(api: ApiClient, objects: Sequence[Obj], namespace: str) -> list[Obj]:
    """The objects with the release namespace on namespaced ones that have none."""
    mapper = mapper_for(api)
    out = []
    for obj in objects:
        copied = dict(obj)
        meta = dict(copied.get("metadata") or {})
        if not meta.get("namespace"):
            try:
                resource = await mapper.resolve(str(obj.get("apiVersion")), str(obj.get("kind")))
            except UnknownKindError:
                resource = None
            if resource is None or resource.namespaced:
                meta["namespace"] = namespace
        copied["metadata"] = meta
        out.append(copied)
    return out


async def _deleted(
    api: ApiClient, old: Sequence[Obj], new: Sequence[Obj], namespace: str
) -> list[ObjectDiff]:
    kept = {Entry.of(o).ref for o in new}
    out = []
    for obj in await _with_namespaces(api, old, namespace):
        entry = Entry.of(obj)
        if entry.ref in kept:
            continue
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if annotations.get(KEEP_POLICY) == "keep":
            continue
        try:
            resource = await mapper_for(api).resolve(entry.api_version, entry.ref.kind)
            await kube.get(api, resource, entry.ref.namespace or None, entry.ref.name)
        except (NotFoundError, UnknownKindError):
            continue
        out.append(ObjectDiff(entry.ref, entry.api_version, Action.DELETED))
    return out


async def diff_release(
    api: ApiClient,
    rendered: RenderedRelease,
    latest: Release | None,
    *,
    field_manager: str,
) -> HelmReleaseDiff:
    """The differences of one rendered HelmRelease (see the module docstring)."""
    from weir.actions.helmrender import manifest_objects  # noqa: PLC0415

    meta = rendered.helmrelease.get("metadata") or {}
    out = HelmReleaseDiff(
        str(meta.get("namespace") or "default"),
        str(meta.get("name")),
        release=release_change(rendered, latest),
        release_name=rendered.release_name,
        release_namespace=rendered.release_namespace,
    )
    owned = [
        helm_owned(o, rendered.release_name, rendered.release_namespace) for o in rendered.objects
    ]
    objects = await _with_namespaces(api, [*rendered.crds, *owned], rendered.release_namespace)
    plans = await plan(api, objects, ApplyOptions(field_manager=field_manager), pending=objects)
    for planned in plans:
        if planned.error is None:
            planned.cleanup = None  # Helm takes no fields over from kubectl
            out.objects.append(object_diff(planned))
        else:
            out.errors.append(_error_line(planned.error))
    if latest is not None:
        old = manifest_objects(latest.manifest)
        out.objects.extend(await _deleted(api, old, objects, rendered.release_namespace))
    return out


def field_manager_of(live: Mapping[str, Any] | None, default: str) -> str:
    """The field manager that applied a live object of the release: its server-side apply
    manager, else the manager Helm's client-side apply recorded, else ``default``."""
    entries = [
        e
        for e in ((live or {}).get("metadata") or {}).get("managedFields") or []
        if isinstance(e, Mapping)
    ]
    for entry in entries:
        if entry.get("operation") == "Apply" and entry.get("manager"):
            return str(entry["manager"])
    for entry in entries:
        if str(entry.get("manager")) in ("helm-controller", "helm", default):
            return str(entry["manager"])
    return default


async def release_field_manager(api: ApiClient, latest: Release | None, default: str) -> str:
    """The field manager of the deployed release's objects (the first one found)."""
    from weir.actions.helmrender import manifest_objects  # noqa: PLC0415

    if latest is None:
        return default
    objects = await _with_namespaces(api, manifest_objects(latest.manifest), latest.namespace)
    for obj in objects[:5]:
        entry = Entry.of(obj)
        try:
            resource = await mapper_for(api).resolve(entry.api_version, entry.ref.kind)
            live = await kube.get(api, resource, entry.ref.namespace or None, entry.ref.name)
        except (NotFoundError, UnknownKindError):
            continue
        return field_manager_of(live, default)
    return default


async def diff_helmreleases(  # noqa: PLR0917 -- what the diff needs, in the caller's order
    api: ApiClient,
    engine: HelmEngine,
    access: ClusterAccess,
    fleet: Fleet,
    helmreleases: Sequence[Obj],
    values_source: ValuesSource,
    notify: Notify | None = None,
) -> list[HelmReleaseDiff]:
    """Render each HelmRelease against the cluster (Helm's server dry run, as an upgrade when
    the release exists) and compare it with the release and its objects."""
    from weir.actions.helmrender import (  # noqa: PLC0415
        ChartFetcher,
        inputs,
        release_identity,
        render_release,
    )

    out = []
    async with ChartFetcher(engine, fleet, notify) as fetcher:
        for found in helmreleases:
            wanted = await inputs(fetcher, found, values_source)
            name, namespace = release_identity(wanted.hr, wanted.spec)
            history = await engine.history(access, name, namespace)
            latest = await engine.status(access, name, namespace) if history else None
            rendered = await render_release(
                engine,
                wanted.hr,
                wanted.chart,
                wanted.values,
                access=access,
                is_upgrade=latest is not None,
            )
            manager = await release_field_manager(api, latest, engine.field_manager)
            out.append(await diff_release(api, rendered, latest, field_manager=manager))
    return out
