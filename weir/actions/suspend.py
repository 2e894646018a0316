"""Suspending and resuming reconciliation (``spec.suspend``; the Flux Operator's kinds use the
annotation ``fluxcd.controlplane.io/reconcile: disabled|enabled`` instead).

Resume clears ``spec.suspend`` and sets a fresh ``reconcile.fluxcd.io/requestedAt`` in the same
merge patch, so the controller runs at once; the caller may then wait for the token with
:func:`weir.actions.reconcile.wait_reconciled`.
"""

from __future__ import annotations

from kubernetes_asyncio.client import ApiClient

from weir.actions.errors import NotSuspendableError
from weir.actions.objects import get_object, resource_for
from weir.actions.reconcile import FIELD_MANAGER, REQUESTED_AT, new_token
from weir.api import KindInfo
from weir.kube import apply
from weir.types import Obj

OPERATOR_GROUP = "fluxcd.controlplane.io"
RECONCILE_ANNOTATION = "fluxcd.controlplane.io/reconcile"


def _check(info: KindInfo) -> None:
    if info.group == OPERATOR_GROUP:
        return
    spec = info.model.model_fields.get("spec")
    spec_type = getattr(spec, "annotation", None)
    fields = getattr(spec_type, "model_fields", {})
    if "suspend" not in fields:
        raise NotSuspendableError(f"{info.kind} has no spec.suspend: it cannot be suspended")


async def suspend(
    api: ApiClient, info: KindInfo, namespace: str, name: str, *, field_manager: str = FIELD_MANAGER
) -> Obj:
    """Set ``spec.suspend: true``; returns the patched object."""
    _check(info)
    await get_object(api, info, namespace, name)  # a clear error when it does not exist
    body: Obj = {"spec": {"suspend": True}}
    if info.group == OPERATOR_GROUP:
        body = {"metadata": {"annotations": {RECONCILE_ANNOTATION: "disabled"}}}
    return await apply.patch(
        api, resource_for(info), namespace, name, body, field_manager=field_manager
    )


async def resume(
    api: ApiClient,
    info: KindInfo,
    namespace: str,
    name: str,
    *,
    token: str | None = None,
    field_manager: str = FIELD_MANAGER,
) -> tuple[str, Obj]:
    """Remove ``spec.suspend`` and request a reconcile; returns the token and the object."""
    _check(info)
    await get_object(api, info, namespace, name)
    token = token or new_token()
    body: Obj = {"spec": {"suspend": None}, "metadata": {"annotations": {REQUESTED_AT: token}}}
    if info.group == OPERATOR_GROUP:
        annotations = {REQUESTED_AT: token, RECONCILE_ANNOTATION: "enabled"}
        body = {"metadata": {"annotations": annotations}}
    patched = await apply.patch(
        api, resource_for(info), namespace, name, body, field_manager=field_manager
    )
    return token, patched
