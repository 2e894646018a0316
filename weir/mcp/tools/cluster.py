"""The cluster the tools talk to: ``get_api_versions`` (which kinds the API server serves, by
preferred version), and, outside a cluster with one caller, ``get_kubeconfig_contexts`` and
``set_kubeconfig_context`` (switch the cluster the next calls go to; in memory only)."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field

from weir.kube import transport
from weir.kubeconfig import kubeconfig_files, merge_configs, resolve
from weir.mcp.env import ToolEnv
from weir.mcp.output import respond
from weir.mcp.tooling import READ, ToolSpec
from weir.types import Obj

SWITCH = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
"""Switching contexts changes no cluster: only where this server's next calls go."""

Group = Annotated[
    str | None,
    Field(description="Only kinds of API groups containing this text, e.g. fluxcd.io or apps."),
]
ContextName = Annotated[str, Field(description="A context name of the kubeconfig.")]


async def api_versions(env: ToolEnv, group: str | None) -> Obj:
    api = await env.api()
    groups = await transport.request(api, "GET", "/apis")
    kinds: dict[str, str] = {}
    for entry in groups.get("groups") or []:
        name = str(entry.get("name", ""))
        if group and group not in name:
            continue
        preferred = (entry.get("preferredVersion") or {}).get("groupVersion")
        if not preferred:
            continue
        body = await transport.request(api, "GET", f"/apis/{preferred}")
        for res in body.get("resources") or []:
            if "/" not in str(res.get("name", "")):
                kinds.setdefault(f"{res.get('kind')}.{name}", str(preferred))
    if not group or group in ("core", "v1"):
        core = await transport.request(api, "GET", "/api/v1")
        for res in core.get("resources") or []:
            if "/" not in str(res.get("name", "")):
                kinds.setdefault(str(res.get("kind")), "v1")
    return {"count": len(kinds), "kinds": dict(sorted(kinds.items()))}


def contexts(env: ToolEnv) -> Obj:
    files = [p for p in kubeconfig_files(env.settings.kubeconfig) if p.is_file()]
    config: dict[str, Any] = merge_configs(
        [c for c in (yaml.safe_load(p.read_text()) for p in files) if isinstance(c, dict)]
    )
    clusters = {c.get("name"): (c.get("cluster") or {}) for c in config.get("clusters") or []}
    current = env.context or config.get("current-context")
    out = []
    for ctx in config.get("contexts") or []:
        body = ctx.get("context") or {}
        out.append(
            {
                "name": ctx.get("name"),
                "cluster": body.get("cluster"),
                "server": (clusters.get(body.get("cluster")) or {}).get("server"),
                "namespace": body.get("namespace") or "default",
                "user": body.get("user"),
                "current": ctx.get("name") == current,
            }
        )
    return {"files": [str(p) for p in files], "current": current, "contexts": out}


def tools(env: ToolEnv) -> list[ToolSpec]:
    async def get_api_versions(*, group: Group = None) -> CallToolResult:
        """Every kind the API server serves (custom resources included) with its preferred
        apiVersion, e.g. `Kustomization.kustomize.toolkit.fluxcd.io: kustomize.toolkit.
        fluxcd.io/v1`; use it before writing a manifest or to check which Flux APIs exist."""
        return respond(await api_versions(env, group), env.settings.max_output)

    specs = [ToolSpec(get_api_versions, "API versions", READ)]
    if not env.can_switch_context:
        return specs

    async def get_kubeconfig_contexts() -> CallToolResult:
        """The contexts of the kubeconfig (name, cluster, server, namespace, user) and which
        one the tools use now."""
        return respond(contexts(env), env.settings.max_output)

    async def set_kubeconfig_context(*, name: ContextName) -> CallToolResult:
        """Send the next calls to another context of the kubeconfig (this server only, in
        memory: the kubeconfig file is not changed)."""
        await env.switch_context(name)
        target = resolve(env.settings.kubeconfig, name)
        return respond(
            {"context": name, "server": target.server, "namespace": target.namespace},
            env.settings.max_output,
        )

    specs += [
        ToolSpec(get_kubeconfig_contexts, "Kubeconfig contexts", READ),
        ToolSpec(set_kubeconfig_context, "Switch kubeconfig context", SWITCH),
    ]
    return specs
