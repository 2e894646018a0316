"""The operator ``weir run --controllers=operator`` starts: the FluxInstance, FluxReport,
ResourceSet and ResourceSetInputProvider controllers, their metrics, and in local mode the
in-process controller groups the instance drives (:class:`~weir.runtime.groups.GroupRunner`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from prometheus_client import CollectorRegistry

import weir
from weir.api.fluxinstance import INSTANCE_NAME
from weir.api.kinds import lookup
from weir.kube.events import EventRecorder
from weir.operator.instance.desired import Options
from weir.operator.instance.distribution import load_catalog
from weir.operator.instance.reconciler import FluxInstanceReconciler
from weir.operator.report.build import ComponentState
from weir.operator.report.metrics import OperatorMetrics
from weir.operator.report.reconciler import FluxReportReconciler, ReportBootstrap
from weir.operator.rset.controller import resourceset_controllers
from weir.operator.settings import OperatorSettings
from weir.runtime.controller import Controller
from weir.runtime.factories import ControllerContext, build_controller
from weir.runtime.groups import GroupRunner

Obj = dict[str, Any]
COMPONENT = "flux-operator"

_METRICS: weakref.WeakKeyDictionary[CollectorRegistry, OperatorMetrics] = (
    weakref.WeakKeyDictionary()
)


def operator_metrics(registry: CollectorRegistry) -> OperatorMetrics:
    """The operator's gauges in ``registry`` (one set per registry)."""
    found = _METRICS.get(registry)
    if found is None:
        found = _METRICS[registry] = OperatorMetrics(registry)
    return found


def local_components(runner: GroupRunner) -> list[ComponentState]:
    """The FluxReport's components in local mode: the in-process groups."""
    out = []
    for name, state in sorted(runner.states().items()):
        ready = state.running and state.synced and not state.error
        if state.error:
            status = f"Failed {state.error}"
        elif ready:
            status = f"Current running in-process, {state.workers} workers per controller"
        else:
            status = "InProgress starting"
        out.append(ComponentState(name, f"weir {weir.__version__} (in-process)", ready, status))
    return out


def controllers(ctx: ControllerContext) -> Sequence[Controller]:
    settings = ctx.run.feature(OperatorSettings)
    namespace = settings.resolved_namespace()
    catalog = tuple(load_catalog(settings.catalog)) if settings.catalog else ()
    options = Options(namespace=namespace, mode=settings.mode, catalog=catalog)
    metrics = operator_metrics(ctx.metrics.registry)
    runner: GroupRunner | None = None
    if settings.mode == "local":
        runner = GroupRunner(ctx.api, ctx.metrics)
        ctx.services.append(runner)
    instances = lookup("FluxInstance")
    reports = lookup("FluxReport")
    instance_informer = ctx.informers.get(instances.resource)
    base = replace(ctx.run, controllers="")
    reconciler = FluxInstanceReconciler(
        ctx.api,
        options,
        base=base,
        runner=runner,
        metrics=metrics,
        events=EventRecorder(ctx.api, COMPONENT),
    )
    instance_controller = build_controller(
        ctx,
        instances.kind,
        instances.resource,
        reconciler,
        component=COMPONENT,
        status_manager=COMPONENT,
    )
    report_reconciler = FluxReportReconciler(
        ctx.api,
        namespace,
        metrics,
        instance_informer.get,
        default_interval=settings.reporting_interval,
        components=(lambda: local_components(runner)) if runner is not None else None,
    )
    report_controller = build_controller(
        ctx,
        reports.kind,
        reports.resource,
        report_reconciler,
        component=COMPONENT,
        status_manager=COMPONENT,
    )

    def instance_changed(event_type: str, obj: Obj) -> Iterable[str]:
        if (obj.get("metadata") or {}).get("namespace") != namespace:
            return ()
        return (f"{namespace}/{INSTANCE_NAME}",)

    report_controller.watch(instance_informer, instance_changed)
    ctx.services.append(ReportBootstrap(ctx.api, namespace))
    return [instance_controller, report_controller, *resourceset_controllers(ctx, metrics)]
