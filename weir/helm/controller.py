"""The HelmRelease controller ``weir run`` starts (``--controllers=helm``).

Besides HelmReleases it watches, so that a change reaches the cluster at once rather than at
the next interval:

- HelmCharts, OCIRepositories and ExternalArtifacts (shared informers): a new artifact, or a
  source becoming Ready, queues the HelmReleases using it (index ``chart``);
- HelmReleases: one becoming Ready queues those that depend on it (index ``dependsOn``);
- ConfigMaps and Secrets: a change of the data of one a HelmRelease reads in ``valuesFrom``
  queues that HelmRelease (index ``valuesFrom``). These two informers keep only a digest of
  each object's data (values are read from the API when a release runs), skip Helm's own
  release Secrets (``owner=helm``), and ignore ``--watch-label-selector``, since users do not
  label their configuration with shard keys.

Events: the reconciler records one Event per Helm action (``InstallSucceeded``,
``UpgradeFailed``, ``RollbackSucceeded``, ...), with the annotations
``helm.toolkit.fluxcd.io/revision``, ``/app-version`` and ``/oci-digest``; the runtime adds a
Warning for every failed run, and its Normal events are left out because the actions already
said it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from weir.api.kinds import lookup
from weir.artifact.local import LocalArtifacts
from weir.helm.chartsource import ChartSources, helmchart_name
from weir.helm.reconciler import HelmReleaseReconciler
from weir.helm.settings import HelmSettings
from weir.helmengine.engine import ClusterAccess
from weir.helmengine.service import engine_service
from weir.kube.events import EventRecorder
from weir.kube.informer import Informer
from weir.kube.resources import CONFIG_MAPS, SECRETS, ResourceRef
from weir.runtime.controller import Controller
from weir.runtime.dependencies import DEPENDS_INDEX, index_by_dependency
from weir.runtime.factories import ControllerContext, build_controller
from weir.runtime.watches import (
    DependentsTracker,
    artifact_state,
    data_digest,
    own_ref,
    ready_state,
    ref_of,
)
from weir.types import Obj

COMPONENT = "helm-controller"
CHART_INDEX = "chart"
VALUES_INDEX = "valuesFrom"
HELM_STORAGE_SELECTOR = "owner!=helm"


# ----------------------------------------------------------------------------- indexers
def index_by_chart(obj: Obj) -> list[str]:
    """``<kind>/<namespace>/<name>`` of the chart source: the generated HelmChart of a
    ``spec.chart`` template, or ``spec.chartRef``."""
    meta = obj.get("metadata") or {}
    ns, name = meta.get("namespace") or "", meta.get("name") or ""
    spec = obj.get("spec") or {}
    template = (spec.get("chart") or {}).get("spec")
    if isinstance(template, dict):
        src_ns = (template.get("sourceRef") or {}).get("namespace") or ns
        return [f"HelmChart/{src_ns}/{helmchart_name(ns, name)}"]
    ref = spec.get("chartRef")
    if isinstance(ref, dict) and ref.get("kind") and ref.get("name"):
        return [f"{ref['kind']}/{ref.get('namespace') or ns}/{ref['name']}"]
    return []


def index_by_values_from(obj: Obj) -> list[str]:
    """``<kind>/<namespace>/<name>`` of every ConfigMap/Secret in ``spec.valuesFrom``."""
    ns = (obj.get("metadata") or {}).get("namespace") or ""
    refs = (obj.get("spec") or {}).get("valuesFrom") or []
    return sorted(
        {f"{r.get('kind')}/{ns}/{r.get('name')}" for r in refs if r.get("kind") and r.get("name")}
    )


# ------------------------------------------------------------------------- config watches
def digest_only(obj: Obj) -> Obj:
    """What the ConfigMap/Secret informers keep: identity and a digest of the data."""
    meta = obj.get("metadata") or {}
    return {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "metadata": {
            k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion") if k in meta
        },
        "digest": data_digest(obj),
    }


class ConfigWatches:
    """The ConfigMap and Secret informers (a manager service: started before the workers)."""

    def __init__(self, informers: Mapping[str, Informer], timeout: float) -> None:
        self.informers = informers
        self.timeout = timeout

    async def start(self) -> None:
        for informer in self.informers.values():
            await informer.start()
        await asyncio.gather(*(i.wait_synced(self.timeout) for i in self.informers.values()))

    async def stop(self) -> None:
        await asyncio.gather(*(i.stop() for i in self.informers.values()))


class _WarningsOnly:
    """The runtime's Event sink for HelmReleases: Warnings pass, Normal events are left to the
    reconciler's per-action Events."""

    def __init__(self, recorder: EventRecorder) -> None:
        self.recorder = recorder

    async def event(
        self,
        obj: Obj,
        event_type: str,
        reason: str,
        message: str,
        annotations: Mapping[str, str] | None = None,
    ) -> object:
        if event_type != "Warning":
            return None
        return await self.recorder.event(obj, event_type, reason, message, annotations)


# ------------------------------------------------------------------------------- factory
def controllers(ctx: ControllerContext) -> Sequence[Controller]:
    hr = lookup("HelmRelease")
    informer = ctx.informers.get(
        hr.resource,
        {
            CHART_INDEX: index_by_chart,
            DEPENDS_INDEX: index_by_dependency,
            VALUES_INDEX: index_by_values_from,
        },
    )
    charts = ctx.informers.get(lookup("HelmChart").resource)
    ocirepos = ctx.informers.get(lookup("OCIRepository").resource)
    settings = ctx.feature(HelmSettings)
    external = (
        ctx.informers.get(lookup("ExternalArtifact").resource)
        if settings.external_artifact
        else None
    )
    recorder = EventRecorder(ctx.api, COMPONENT)
    reconciler = HelmReleaseReconciler(
        ctx.api,
        engine_service(ctx).get,
        ChartSources(
            ctx.api,
            charts.get,
            ocirepos.get,
            external_artifacts=external.get if external is not None else None,
            requeue_dependency=settings.requeue_dependency,
            no_cross_namespace_refs=settings.no_cross_namespace_refs,
        ),
        informer.get,
        access=ClusterAccess(
            kubeconfig=ctx.run.kubeconfig,
            context=ctx.run.context,
            qps=settings.kube_api_qps,
            burst=settings.kube_api_burst,
        ),
        events=recorder,
        settings=settings,
    )
    reconciler.charts.local = ctx.shared_service(LocalArtifacts, LocalArtifacts)
    controller = build_controller(
        ctx, hr.kind, hr.resource, reconciler, component=COMPONENT, events=_WarningsOnly(recorder)
    )
    chart_sources = [("HelmChart", charts), ("OCIRepository", ocirepos)]
    if external is not None:
        chart_sources.append(("ExternalArtifact", external))
    for kind, source in chart_sources:
        controller.watch(
            source, DependentsTracker(informer, CHART_INDEX, artifact_state, ref_of(kind))
        )
    controller.watch(informer, DependentsTracker(informer, DEPENDS_INDEX, ready_state, own_ref))

    configs: dict[str, Informer] = {}
    for kind, resource, selector in (
        ("ConfigMap", CONFIG_MAPS, None),
        ("Secret", SECRETS, HELM_STORAGE_SELECTOR),
    ):
        configs[kind] = _config_informer(ctx, resource, selector)
        controller.watch(
            configs[kind],
            DependentsTracker(informer, VALUES_INDEX, lambda o: o.get("digest"), ref_of(kind)),
        )
    ctx.services.append(ConfigWatches(configs, ctx.run.cache_sync_timeout))
    ctx.services.append(_Closer(reconciler))
    return [controller]


def _config_informer(
    ctx: ControllerContext, resource: ResourceRef, selector: str | None
) -> Informer:
    return Informer(
        ctx.api,
        resource,
        namespace=ctx.namespace,
        label_selector=selector,
        transform=digest_only,
    )


class _Closer:
    """Closes the reconciler's clients at shutdown."""

    def __init__(self, reconciler: HelmReleaseReconciler) -> None:
        self.reconciler = reconciler

    async def start(self) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        await self.reconciler.close()
