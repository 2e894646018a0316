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
from weir.operator.rset.reconciler import ResourceSetReconciler
from weir.operator.settings import OperatorSettings
from weir.runtime.controller import Controller
from weir.runtime.factories import ControllerContext, build_controller
from weir.types import Obj

COMPONENT = "flux-operator"


def _refers_to(rset: Obj, provider: Obj) -> bool:
    """Whether ``rset``'s ``inputsFrom`` selects ``provider`` (same namespace)."""
    meta = provider.get("metadata") or {}
    labels = meta.get("labels") or {}
    for ref in (rset.get("spec") or {}).get("inputsFrom") or []:
        if ref.get("name") and ref.get("name") == meta.get("name"):
            return True
        selector = ref.get("selector")
        if selector is not None and _matches(selector, labels):
            return True
    return False


def _matches(selector: Obj, labels: dict[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for req in selector.get("matchExpressions") or []:
        key, op, values = req.get("key"), req.get("operator"), req.get("values") or []
        present = key in labels
        if op == "In" and (not present or labels[key] not in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


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
            if _refers_to(rset, obj):
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
