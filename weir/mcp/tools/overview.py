"""``get_overview``: the state of GitOps in the cluster on one page."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from kubernetes_asyncio.client import ApiClient
from mcp_types import CallToolResult
from pydantic import Field

from weir.actions.check import server_version
from weir.actions.objects import (
    ALL_KINDS,
    condition,
    condition_status,
    is_suspended,
    list_objects,
    meta,
)
from weir.actions.stats import count
from weir.api import KindInfo
from weir.errors import KubeError
from weir.kube import transport
from weir.kube.errors import ApiError, ForbiddenError
from weir.kube.informer import list_all
from weir.kube.resources import ResourceRef
from weir.mcp.env import ToolEnv
from weir.mcp.output import clip, respond
from weir.mcp.summaries import age
from weir.mcp.tooling import READ, ToolSpec
from weir.types import Obj

LEASES = ResourceRef("coordination.k8s.io", "v1", "leases", True, "Lease")
DEPLOYMENTS = ResourceRef("apps", "v1", "deployments", True, "Deployment")
PART_OF = "app.kubernetes.io/part-of"
CONTROLLER_LEASE_SUFFIX = "leader-election"
MAX_LISTED = 25
NOT_NODE_LEASES = "metadata.namespace!=kube-node-lease"
MAX_LEASES = 500


def _entry(info: KindInfo, obj: Mapping[str, Any]) -> Obj:
    m = meta(obj)
    ready = condition(obj, "Ready") or {}
    out: Obj = {"object": f"{info.kind}/{m.get('namespace')}/{m.get('name')}"}
    if ready:
        out["reason"] = ready.get("reason")
        out["message"] = clip(str(ready.get("message", "")), 300)
        out["since"] = age(ready.get("lastTransitionTime"))
    return out


def kind_report(info: KindInfo, objs: Sequence[Mapping[str, Any]]) -> Obj:
    """Counts of one kind, and the failing / never-reconciled / suspended objects."""
    stats = count(info.kind, objs, info.has_status).to_dict()
    stats.pop("kind", None)
    stats.pop("hasStatus", None)
    failing = [o for o in objs if condition_status(o, "Ready") == "False"]
    stalled = [o for o in objs if condition_status(o, "Stalled") == "True"]
    unhandled = [
        o for o in objs if info.has_status and condition(o, "Ready") is None and not is_suspended(o)
    ]
    out: Obj = {"counts": stats}
    if failing:
        out["failing"] = [_entry(info, o) for o in failing[:MAX_LISTED]]
    if stalled:
        out["stalled"] = [f"{meta(o).get('namespace')}/{meta(o).get('name')}" for o in stalled]
    if unhandled:
        out["notReconciledYet"] = [
            f"{meta(o).get('namespace')}/{meta(o).get('name')}" for o in unhandled[:MAX_LISTED]
        ]
    suspended = [o for o in objs if is_suspended(o)]
    if suspended:
        out["suspended"] = [
            f"{meta(o).get('namespace')}/{meta(o).get('name')}" for o in suspended[:MAX_LISTED]
        ]
    return out


async def _kind(api: ApiClient, info: KindInfo, namespace: str | None) -> tuple[str, Obj]:
    try:
        objs = await list_objects(api, info, namespace)
    except ForbiddenError:
        return info.kind, {"error": "not visible to this identity (RBAC forbids listing)"}
    except KubeError as e:
        return info.kind, {"error": clip(str(e), 300)}
    if not objs:
        return info.kind, {}
    return info.kind, kind_report(info, objs)


def lease_row(lease: Mapping[str, Any]) -> Obj:
    m, spec = meta(lease), lease.get("spec") or {}
    return {
        "lease": f"{m.get('namespace')}/{m.get('name')}",
        "holder": spec.get("holderIdentity") or None,
        "renewed": age(spec.get("renewTime")),
        "leaseDurationSeconds": spec.get("leaseDurationSeconds"),
    }


def deployment_row(dep: Mapping[str, Any]) -> Obj:
    m, spec, st = meta(dep), dep.get("spec") or {}, dep.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    return {
        "deployment": f"{m.get('namespace')}/{m.get('name')}",
        "ready": f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        "images": [c.get("image") for c in containers],
    }


async def controllers(api: ApiClient) -> Obj:
    """Controllers that make themselves known: leader-election Leases of weir and Flux, and
    Deployments labelled ``app.kubernetes.io/part-of: weir|flux``."""
    out: Obj = {}
    try:
        body = await transport.request(
            api,
            "GET",
            LEASES.path(None),
            params={"fieldSelector": NOT_NODE_LEASES, "limit": MAX_LEASES},
        )
        leases = body.get("items") or []
        out["leases"] = [
            lease_row(x)
            for x in leases
            if str(meta(x).get("name", "")).endswith(CONTROLLER_LEASE_SUFFIX)
        ]
    except ApiError as e:
        out["leases"] = f"not visible ({e.reason or e.code})"
    try:
        deps, _ = await list_all(api, DEPLOYMENTS, label_selector=f"{PART_OF} in (weir,flux)")
        out["deployments"] = [deployment_row(d) for d in deps]
    except ApiError as e:
        out["deployments"] = f"not visible ({e.reason or e.code})"
    if out["leases"] == [] and out["deployments"] == []:
        out["note"] = (
            "no controller Lease or Deployment found: controllers may run outside the cluster "
            "(`weir run` without leader election) or not at all; the objects' conditions tell"
        )
    return out


def tools(env: ToolEnv) -> list[ToolSpec]:
    async def get_overview(
        *,
        namespace: Annotated[
            str | None, Field(description="Only this namespace (default: every namespace).")
        ] = None,
    ) -> CallToolResult:
        """Start here. The GitOps state of the cluster on one page: API server version, weir
        and Flux controllers (leader Leases, Deployments), and per Flux kind the counts
        (total/ready/failing/progressing/suspended) with the failing, stalled, suspended and
        never-reconciled objects and their messages."""
        api = await env.api()
        ns = namespace or None
        version_task = asyncio.create_task(server_version(api))
        reports = await asyncio.gather(*(_kind(api, info, ns) for info in ALL_KINDS))
        found = {kind: report for kind, report in reports if report}
        failing = sum(len(r.get("failing", [])) for r in found.values())
        try:
            version = str((await version_task).get("gitVersion") or "unknown")
        except KubeError:
            version = "unknown"
        data: Obj = {
            "cluster": {"version": version, "identity": env.identity},
            "scope": ns or "(all namespaces)",
            "readOnly": env.settings.read_only,
            "failingObjects": failing,
            "controllers": await controllers(api),
            "kinds": found or "no Flux objects found",
        }
        return respond(data, env.settings.max_output)

    return [ToolSpec(get_overview, "GitOps overview", READ)]
