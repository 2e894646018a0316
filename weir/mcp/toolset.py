"""Every tool of the server, from the groups in :mod:`weir.mcp.tools`."""

from __future__ import annotations

from weir.mcp.env import ToolEnv
from weir.mcp.tooling import ToolSpec
from weir.mcp.tools import (
    cluster,
    diff,
    docs,
    events,
    explain,
    flux,
    graph,
    helm,
    history,
    manifests,
    operator,
    overview,
    resources,
    resourcesets,
)

GROUPS = (
    overview,
    operator,
    resourcesets,
    resources,
    events,
    graph,
    history,
    explain,
    diff,
    helm,
    cluster,
    docs,
    flux,
    manifests,
)


def all_tools(env: ToolEnv) -> list[ToolSpec]:
    """Every tool, read tools first."""
    specs = [spec for group in GROUPS for spec in group.tools(env)]
    return sorted(specs, key=lambda s: s.is_write)
