"""Argument errors as one line a model (or a person) reads: ``reconcile: kind: must be one of
'Kustomization', 'HelmRelease', ... (got 'ks2'); name: required``, instead of pydantic's
multi-line report with a documentation URL. The MCP SDK validates the arguments before weir's
tool function runs, so :class:`ToolServer` rewrites the SDK's error."""

from __future__ import annotations

from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from pydantic import ValidationError

from weir.mcp.env import ToolEnv

MAX_SHOWN = 40


def _problem(err: Any) -> str:
    where = ".".join(str(p) for p in err.get("loc") or ()) or "arguments"
    if err.get("type") == "missing":
        return f"{where}: required"
    message = str(err.get("msg") or "invalid").replace("Input should be", "must be")
    given = repr(err.get("input"))
    if len(given) > MAX_SHOWN:
        given = given[: MAX_SHOWN - 1] + "…"
    return f"{where}: {message} (got {given})"


def argument_error(tool: str, error: ValidationError) -> str:
    """One line: the tool, then each bad argument and what it must be."""
    problems = "; ".join(dict.fromkeys(_problem(e) for e in error.errors()))
    return f"{tool}: invalid arguments: {problems}"


class ToolServer(MCPServer[ToolEnv]):
    """The SDK's server with weir's one-line argument errors."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as e:
            cause = e.__cause__
            if isinstance(cause, ValidationError) and not isinstance(e, UnexpectedToolError):
                raise ToolError(argument_error(name, cause)) from cause
            raise
