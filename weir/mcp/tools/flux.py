"""Write tools for Flux objects: ``reconcile``, ``suspend``, ``resume`` (shared with the CLI
through :mod:`weir.actions`).

Each write leaves an audit Event on the object (reason ``McpAction``, component ``weir-mcp``,
naming the caller), as the web UI's actions do (``WebAction``): ``kubectl events`` shows who
asked, and the notification controller's Alerts forward it like any other Event.
"""

from __future__ import annotations

from typing import Annotated

from mcp_types import CallToolResult
from pydantic import Field

from weir.actions.objects import get_object
from weir.actions.reconcile import (
    ObjectKey,
    ReconcileOutcome,
    request_reconcile,
    source_chain,
    wait_reconciled,
)
from weir.actions.reconcile import reconcile as reconcile_object
from weir.actions.suspend import resume as resume_object
from weir.actions.suspend import suspend as suspend_object
from weir.api.kinds import KindInfo
from weir.errors import WeirError
from weir.kube.events import EventRecorder
from weir.mcp import kinds
from weir.mcp.env import ToolEnv
from weir.mcp.output import respond
from weir.mcp.settings import FIELD_MANAGER
from weir.mcp.tooling import ToolSpec, writes
from weir.mcp.tools.params import FluxKind, Name, Namespace, TimeoutSeconds, Wait
from weir.types import Obj

AUDIT_COMPONENT = "weir-mcp"
AUDIT_REASON = "McpAction"
MARGIN = 5.0
"""Seconds kept free of a call's deadline to report a wait that timed out."""


async def _audit(env: ToolEnv, info: KindInfo, namespace: str, name: str, action: str) -> None:
    """Record ``<action> requested through the weir MCP server by <caller>`` (best effort:
    the action happened whether or not its Event can be written)."""
    api = await env.service_api()
    try:
        obj = await get_object(api, info, namespace, name)
    except WeirError:
        return
    message = f"{action} requested through the weir MCP server by {env.identity}"
    await EventRecorder(api, AUDIT_COMPONENT).normal(obj, AUDIT_REASON, message)


def _outcomes(outcomes: list[ReconcileOutcome]) -> Obj:
    return {
        "ready": bool(outcomes) and all(o.ready for o in outcomes),
        "outcomes": [{**o.to_dict(), "summary": o.describe()} for o in outcomes],
    }


def tools(env: ToolEnv) -> list[ToolSpec]:
    def wait_limit(requested: int) -> float:
        return max(1.0, min(float(requested), env.settings.call_timeout - MARGIN))

    async def reconcile(
        *,
        kind: FluxKind,
        name: Name,
        namespace: Namespace = None,
        with_source: Annotated[
            bool, Field(description="Reconcile its sources first (fetch the latest commit/chart).")
        ] = False,
        force: Annotated[
            bool, Field(description="HelmRelease only: run a one-off Helm upgrade.")
        ] = False,
        wait: Wait = True,
        timeout_seconds: TimeoutSeconds = 120,
    ) -> CallToolResult:
        """Ask the controller to reconcile a Flux object now (Flux's requestedAt annotation),
        its sources first with with_source, and wait for the outcome. Applying a new
        revision may create, change and prune objects in the cluster."""
        api = await env.api()
        info = kinds.flux_kind(kind)
        ns = env.namespace(namespace)
        if not wait:
            obj = await get_object(api, info, ns, name)
            steps = [*source_chain(info, obj)] if with_source else []
            steps.append(ObjectKey(info, ns, name))
            requested = []
            for step in steps:
                target = step.info is info and step.name == name and step.namespace == ns
                token, _ = await request_reconcile(
                    api,
                    step.info,
                    step.namespace,
                    step.name,
                    force=force and target,
                    field_manager=FIELD_MANAGER,
                )
                requested.append({"object": str(step), "requestedAt": token})
            await _audit(env, info, ns, name, "reconcile")
            return respond(
                {"requested": requested, "note": "not waited for; get_resource shows progress"},
                env.settings.max_output,
            )
        outcomes = await reconcile_object(
            api,
            info,
            ns,
            name,
            with_source=with_source,
            timeout=wait_limit(timeout_seconds),
            force=force,
            field_manager=FIELD_MANAGER,
        )
        await _audit(env, info, ns, name, "reconcile")
        return respond(_outcomes(outcomes), env.settings.max_output)

    async def suspend(*, kind: FluxKind, name: Name, namespace: Namespace = None) -> CallToolResult:
        """Suspend reconciliation of a Flux object (spec.suspend: true): the controller leaves
        it, and what it applied, as they are until it is resumed."""
        api = await env.api()
        info = kinds.flux_kind(kind)
        ns = env.namespace(namespace)
        await suspend_object(api, info, ns, name, field_manager=FIELD_MANAGER)
        await _audit(env, info, ns, name, "suspend")
        return respond(
            {"object": kinds.display(info.kind, ns, name), "suspended": True},
            env.settings.max_output,
        )

    async def resume(
        *,
        kind: FluxKind,
        name: Name,
        namespace: Namespace = None,
        wait: Wait = True,
        timeout_seconds: TimeoutSeconds = 120,
    ) -> CallToolResult:
        """Resume reconciliation of a suspended Flux object and request a reconcile at once;
        waits for its outcome unless wait is false. The run may create, change and prune
        objects."""
        api = await env.api()
        info = kinds.flux_kind(kind)
        ns = env.namespace(namespace)
        token, _ = await resume_object(api, info, ns, name, field_manager=FIELD_MANAGER)
        await _audit(env, info, ns, name, "resume")
        data: Obj = {"object": kinds.display(info.kind, ns, name), "suspended": False}
        if wait:
            outcome = await wait_reconciled(
                api, info, ns, name, token, timeout=wait_limit(timeout_seconds)
            )
            data.update(_outcomes([outcome]))
        return respond(data, env.settings.max_output)

    return [
        ToolSpec(reconcile, "Reconcile now", writes(destructive=True, idempotent=True)),
        ToolSpec(suspend, "Suspend reconciliation", writes(destructive=False, idempotent=True)),
        ToolSpec(resume, "Resume reconciliation", writes(destructive=True, idempotent=True)),
    ]
