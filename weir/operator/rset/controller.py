"""The ResourceSet and ResourceSetInputProvider controllers, as the operator hosts them (the
Flux Operator runs both in its own process): ``weir run --controllers=operator`` starts them
beside FluxInstance and FluxReport; ``--controllers=resourcesets`` starts only them (with the
source, kustomize and helm controllers when the operator is not used)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from weir.api.kinds import lookup
from weir.kube.events import EventRecorder
from weir.operator.inputs.reconciler import ResourceSetInputProviderReconciler
from weir.operator.report.metrics import OperatorMetrics
from weir.operator.resourceset import selects_provider
from weir.operator.rset.reconciler import ResourceSetReconciler
from weir.operator.settings import OperatorSettings
from weir.runtime.controller import Controller
from weir.runtime.factories import ControllerContext, build_controller
from weir.types import Obj

COMPONENT = "flux-operator"


def resourceset_controllers(ctx: ControllerContext, metrics: OperatorMetrics) -> list[Controller]:
    settings = ctx.feature(OperatorSettings)
    rsets = lookup("ResourceSet")
    providers = lookup("ResourceSetInputProvider")
    provider_informer = ctx.informers.get(providers.resource)
    events = EventRecorder(ctx.api, COMPONENT)
    rset_reconciler = ResourceSetReconciler(
        ctx.api,
        provider_informer.list,
        events=events,
        metrics=metrics,
        requeue_dependency=settings.requeue_dependency,
        default_service_account=settings.default_service_account,
    )
    rset_controller = build_controller(
        ctx,
        rsets.kind,
        rsets.resource,
        rset_reconciler,
        component=COMPONENT,
        status_manager=COMPONENT,
    )
    rset_informer = ctx.informers.get(rsets.resource)

    def provider_changed(event_type: str, obj: Obj) -> Iterable[str]:
        """A provider's exported inputs changed: queue the ResourceSets that read them."""
        namespace = (obj.get("metadata") or {}).get("namespace")
        for rset in rset_informer.list(namespace):
            if selects_provider(rset, obj):
                meta = rset.get("metadata") or {}
                yield f"{meta.get('namespace')}/{meta.get('name')}"

    rset_controller.watch(provider_informer, provider_changed)
    provider_controller = build_controller(
        ctx,
        providers.kind,
        providers.resource,
        ResourceSetInputProviderReconciler(ctx.api, events=events, metrics=metrics),
        component=COMPONENT,
        status_manager=COMPONENT,
    )
    return [rset_controller, provider_controller]


def controllers(ctx: ControllerContext) -> Sequence[Controller]:
    """``--controllers=resourcesets`` (nothing when the operator, which hosts them, runs)."""
    from weir.operator.controller import operator_metrics  # noqa: PLC0415
    from weir.runtime.factories import REGISTRY  # noqa: PLC0415

    if any(r.name == "operator" for r in REGISTRY.select(ctx.run.controllers)):
        return []
    return resourceset_controllers(ctx, operator_metrics(ctx.metrics.registry))
