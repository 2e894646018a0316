"""``get_resourcesets`` and ``explain_resourceset``: the operator's ResourceSets and their
input providers, and why a ResourceSet generated what it did (or nothing).

``get_resourcesets`` lists every ResourceSet (Ready, revision, how many objects it generated,
its providers) and every ResourceSetInputProvider (type, URL, how many input sets it exports,
its next deployment window). ``explain_resourceset`` follows one ResourceSet: its dependencies,
each provider's exported inputs and schedule (a closed window explains why inputs did not
change), the inventory it generated and its history, with findings first."""

from __future__ import annotations

from typing import Annotated, Any

from kubernetes_asyncio.client import ApiClient
from mcp_types import CallToolResult
from pydantic import Field

from weir.api.kinds import KINDS
from weir.kube import apply as kapi
from weir.kube.errors import ApiError, NotFoundError
from weir.kube.informer import list_all
from weir.mcp.env import ToolEnv
from weir.mcp.output import respond
from weir.mcp.tooling import READ, ToolSpec
from weir.mcp.tools.params import Name, Namespace
from weir.operator.resourceset import selects_provider

AllNamespaces = Annotated[str | None, Field(description="Namespace; default: every namespace.")]

Obj = dict[str, Any]


def _ready(obj: Obj) -> Obj:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return dict(cond)
    return {}


def _where(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


async def _list(api: ApiClient, kind: str, namespace: str | None) -> list[Obj]:
    try:
        items, _ = await list_all(api, KINDS[kind].resource, namespace=namespace or None)
    except NotFoundError:
        return []
    return list(items)


def providers_of(rset: Obj, providers: list[Obj]) -> list[Obj]:
    """The providers a ResourceSet's ``inputsFrom`` selects (same namespace)."""
    out = {
        str((p.get("metadata") or {}).get("name")): p
        for p in providers
        if selects_provider(rset, p)
    }
    return list(out.values())


def rset_row(rset: Obj, providers: list[Obj]) -> Obj:
    status = rset.get("status") or {}
    ready = _ready(rset)
    return {
        "resourceSet": _where(rset),
        "ready": ready.get("status", "Unknown"),
        "reason": ready.get("reason", ""),
        "message": ready.get("message", ""),
        "revision": status.get("lastAppliedRevision", ""),
        "generated": len((status.get("inventory") or {}).get("entries") or []),
        "inlineInputs": len((rset.get("spec") or {}).get("inputs") or []),
        "providers": [_where(p) for p in providers_of(rset, providers)],
    }


def provider_row(provider: Obj) -> Obj:
    spec, status = provider.get("spec") or {}, provider.get("status") or {}
    ready = _ready(provider)
    row: Obj = {
        "provider": _where(provider),
        "type": spec.get("type", ""),
        "url": spec.get("url", ""),
        "ready": ready.get("status", "Unknown"),
        "message": ready.get("message", ""),
        "exportedInputs": len(status.get("exportedInputs") or []),
    }
    if spec.get("schedule"):
        row["schedule"] = spec["schedule"]
        row["nextWindow"] = (status.get("nextSchedule") or {}).get("when") or "open now"
    return row


async def overview(api: ApiClient, namespace: str | None) -> Obj:
    rsets = await _list(api, "ResourceSet", namespace)
    providers = await _list(api, "ResourceSetInputProvider", namespace)
    return {
        "resourceSets": [rset_row(r, providers) for r in rsets],
        "providers": [provider_row(p) for p in providers],
    }


async def explain(api: ApiClient, name: str, namespace: str) -> Obj:
    try:
        rset = await kapi.get(api, KINDS["ResourceSet"].resource, namespace, name)
    except NotFoundError:
        return {"error": f"ResourceSet {namespace}/{name} not found: check the name and namespace"}
    providers = providers_of(rset, await _list(api, "ResourceSetInputProvider", namespace))
    status = rset.get("status") or {}
    ready = _ready(rset)
    findings: list[str] = []
    if ready.get("status") != "True":
        findings.append(
            f"Ready={ready.get('status', 'Unknown')} {ready.get('reason', '')}: "
            f"{ready.get('message', 'not reconciled yet')}"
        )
        if ready.get("reason") == "BuildFailed":
            findings.append(
                "the templates or inputs are wrong: nothing was applied and the objects "
                "generated before are untouched; fix the template (line and column in the "
                "message) or the inputs"
            )
        if ready.get("reason") == "DependencyNotReady":
            findings.append("a dependsOn object is missing or not ready (see dependsOn)")
    for p in providers:
        row = provider_row(p)
        if row["ready"] != "True":
            findings.append(f"provider {row['provider']} is not ready: {row['message']}")
        if row.get("nextWindow") not in (None, "open now"):
            findings.append(
                f"provider {row['provider']} is outside its deployment windows: its inputs "
                f"change only when the next window opens at {row['nextWindow']}"
            )
        if not row["exportedInputs"]:
            findings.append(
                f"provider {row['provider']} exports no inputs: nothing is generated from it "
                "(check its filter, labels and skip labels)"
            )
    refs = (rset.get("spec") or {}).get("inputsFrom") or []
    if refs and not providers:
        findings.append("inputsFrom selects no provider in this namespace")
    if not findings:
        count = len((status.get("inventory") or {}).get("entries") or [])
        findings.append(f"Ready: {ready.get('message', '')}; {count} objects generated")
    return {
        "findings": findings,
        "resourceSet": rset_row(rset, providers),
        "dependsOn": (rset.get("spec") or {}).get("dependsOn") or [],
        "providers": [
            {**provider_row(p), "inputs": (p.get("status") or {}).get("exportedInputs") or []}
            for p in providers
        ],
        "inventory": [e.get("id") for e in (status.get("inventory") or {}).get("entries") or []],
        "history": status.get("history") or [],
    }


def tools(env: ToolEnv) -> list[ToolSpec]:
    async def get_resourcesets(namespace: AllNamespaces = None) -> CallToolResult:
        """List the ResourceSets (Ready, revision, number of generated objects, the input
        providers they read) and the ResourceSetInputProviders (type, URL, number of exported
        input sets, deployment windows and when the next one opens). ``namespace``: one
        namespace (empty: all). Use it to find preview environments and app definitions."""
        api = await env.api()
        try:
            data = await overview(api, namespace or None)
        except ApiError as e:
            data = {"error": f"cannot list ResourceSets: {e.reason or e.code}"}
        return respond(data, env.settings.max_output)

    async def explain_resourceset(name: Name, namespace: Namespace = None) -> CallToolResult:
        """Explain one ResourceSet: findings first (why it is not ready, a provider outside
        its deployment window or exporting nothing, a dependency not ready), then its
        providers with their exported inputs, its dependsOn, the objects it generated and its
        history."""
        api = await env.api()
        ns = env.namespace(namespace)
        try:
            data = await explain(api, name, ns)
        except ApiError as e:
            data = {"error": f"cannot read ResourceSet {ns}/{name}: {e.reason or e.code}"}
        return respond(data, env.settings.max_output)

    return [
        ToolSpec(get_resourcesets, "ResourceSets and input providers", READ),
        ToolSpec(explain_resourceset, "Explain a ResourceSet", READ),
    ]
