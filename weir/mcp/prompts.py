"""Prompts: ready-made requests a person picks in their assistant (the Flux Operator's MCP
server ships the same two, under the same names and arguments), which walk the assistant
through weir's tools to the root cause of a failing Kustomization or HelmRelease."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server import MCPServer
from pydantic import Field

Name = Annotated[str, Field(description="Name of the object.")]
Namespace = Annotated[str, Field(description="Namespace of the object.")]
Cluster = Annotated[
    str | None,
    Field(description="Kubeconfig context to look at (switched with set_kubeconfig_context)."),
]


def _context_step(cluster: str | None) -> str:
    if not cluster:
        return ""
    return (
        f"0. Call `set_kubeconfig_context` with name={cluster!r} (if the tool is not offered, "
        "the server runs inside that cluster: go on).\n"
    )


def debug_flux_kustomization(name: Name, namespace: Namespace, cluster: Cluster = None) -> str:
    """Find out why a Flux Kustomization is not ready, and how to fix it."""
    return f"""Troubleshoot the Flux Kustomization {namespace}/{name}.

{_context_step(cluster)}1. Call `explain_failure` with kind=Kustomization, name={name!r},
   namespace={namespace!r}: it names the failing phase (source, build, apply, health
   check, dependency), the error, the files and lines it points at, and the next steps.
2. Call `get_dependency_graph` with kind=Kustomization, name={name!r}, namespace={namespace!r} to
   see whether its source or a `dependsOn` is what fails (look at `problems` and `rootCause`).
3. Call `get_events` for it (kind=ks) and `get_history` to see when it last worked and which
   revision changed things.
4. If the build or apply fails, call `diff_kustomization` to see what reconciling now would
   change; if a health check fails, read the unready workloads with `list_resources` and
   `get_pod_logs`.
5. Answer with: the root cause (one sentence), the evidence (tool results, quoted), and the
   fix — as a change in Git (the file and what to change). Only suggest `reconcile`,
   `suspend` or `resume` when they are the fix; do not apply anything without being asked.
"""


def debug_flux_helmrelease(name: Name, namespace: Namespace, cluster: Cluster = None) -> str:
    """Find out why a Flux HelmRelease is not ready, and how to fix it."""
    return f"""Troubleshoot the Flux HelmRelease {namespace}/{name}.

{_context_step(cluster)}1. Call `explain_failure` with kind=HelmRelease, name={name!r},
   namespace={namespace!r}: it names the failing phase (chart source, values,
   install/upgrade, tests, remediation) and the error.
2. Call `get_dependency_graph` with kind=hr, name={name!r}, namespace={namespace!r} to check its
   chart source (HelmChart, HelmRepository or OCIRepository) and its `dependsOn`.
3. Call `get_history` for it: the release revisions (chart and app version, status) show what
   changed since it last worked; `get_helmrelease_values` shows the values the chart gets.
4. Call `get_events` for it (kind=hr), and for the workloads it deploys `list_resources` and
   `get_pod_logs` when they are not ready.
5. Answer with: the root cause (one sentence), the evidence (tool results, quoted), and the
   fix — as a change in Git (values, chart version). Only suggest `reconcile`, `suspend` or
   `resume` when they are the fix; do not apply anything without being asked.
"""


PROMPTS: tuple[Any, ...] = (debug_flux_kustomization, debug_flux_helmrelease)


def register(server: MCPServer[Any]) -> list[str]:
    """Add the prompts to ``server``; returns their names."""
    for fn in PROMPTS:
        server.prompt(title=fn.__doc__.splitlines()[0] if fn.__doc__ else None)(fn)
    return [fn.__name__ for fn in PROMPTS]
