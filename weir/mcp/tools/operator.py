"""``get_flux_instance``: the FluxInstance and the FluxReport, as the Flux MCP server's tool of
that name returns them: which controllers run (and how), their readiness, the distribution
and what is reconciled, in one call."""

from __future__ import annotations

from typing import Any

from kubernetes_asyncio.client import ApiClient
from mcp_types import CallToolResult

from weir.api.kinds import KINDS
from weir.kube.errors import ApiError, NotFoundError
from weir.kube.informer import list_all
from weir.mcp.env import ToolEnv
from weir.mcp.output import respond
from weir.mcp.tooling import READ, ToolSpec

Obj = dict[str, Any]


def _clean(obj: Obj) -> Obj:
    meta = dict(obj.get("metadata") or {})
    meta.pop("managedFields", None)
    return {**obj, "metadata": meta}


async def _all(api: ApiClient, kind: str) -> list[Obj]:
    try:
        items, _ = await list_all(api, KINDS[kind].resource)
    except NotFoundError:
        return []
    return [_clean(o) for o in items]


async def flux_instance(api: ApiClient) -> Obj:
    """The instances and reports of the cluster (normally one of each, in the operator's
    namespace), with a one-line summary."""
    instances, reports = await _all(api, "FluxInstance"), await _all(api, "FluxReport")
    data: Obj = {}
    if not instances:
        data["summary"] = (
            "no FluxInstance: the controllers were started without the operator (weir run) "
            "or are not installed"
        )
    for inst in instances:
        ready: Obj = next(
            (
                c
                for c in (inst.get("status") or {}).get("conditions") or []
                if c.get("type") == "Ready"
            ),
            {},
        )
        where = f"{inst['metadata'].get('namespace')}/{inst['metadata'].get('name')}"
        revision = (inst.get("status") or {}).get("lastAppliedRevision") or "none applied yet"
        data["summary"] = (
            f"FluxInstance {where}: Ready={ready.get('status', 'Unknown')} "
            f"({ready.get('message', 'not reconciled yet')}); revision {revision}"
        )
    data["instances" if len(instances) != 1 else "instance"] = (
        instances if len(instances) != 1 else instances[0]
    )
    data["reports" if len(reports) != 1 else "report"] = (
        reports if len(reports) != 1 else reports[0]
    )
    return data


def tools(env: ToolEnv) -> list[ToolSpec]:
    async def get_flux_instance() -> CallToolResult:
        """The FluxInstance (components, cluster size, sharding, sync; status with the
        installed revision, components, inventory, history and what weir does not act on)
        and the FluxReport (distribution, controllers' readiness, per-kind counts of running,
        failing and suspended objects, artifact sizes, the cluster sync's state). Start here
        to learn how weir is installed and whether its controllers are healthy."""
        api = await env.api()
        try:
            data = await flux_instance(api)
        except ApiError as e:
            data = {"error": f"cannot read FluxInstances: {e.reason or e.code}"}
        return respond(data, env.settings.max_output)

    return [ToolSpec(get_flux_instance, "The Flux installation", READ)]
