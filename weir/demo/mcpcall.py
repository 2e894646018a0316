"""Call one tool of ``make up``'s MCP server from a shell, as an AI assistant would: for the
guided tour, without setting up an assistant. ``python -m weir.demo mcp explain_failure
kind=Kustomization name=apps namespace=flux-system``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from weir.errors import UsageError


def parse_arguments(pairs: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs; values that parse as JSON (numbers, true/false) are taken as such,
    anything else as a string."""
    arguments: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"{pair!r}: give tool arguments as key=value")
        try:
            arguments[key] = json.loads(value)
        except ValueError:
            arguments[key] = value
    return arguments


async def call_tool(url: str, tool: str, arguments: dict[str, Any]) -> tuple[bool, str]:
    """(is_error, text) of one tool call."""
    from mcp import Client  # noqa: PLC0415 -- the MCP SDK only for this command

    async with Client(url, read_timeout_seconds=120) as client:
        result = await client.call_tool(tool, arguments)
    text = "\n".join(str(getattr(c, "text", c)) for c in result.content)
    return bool(result.is_error), text


async def list_tools(url: str) -> list[tuple[str, str]]:
    """(name, first line of the description) of every tool."""
    from mcp import Client  # noqa: PLC0415

    async with Client(url, read_timeout_seconds=60) as client:
        tools = await client.list_tools()
    return [(t.name, first_sentence(t.description or "")) for t in tools.tools]


def first_sentence(text: str, limit: int = 100) -> str:
    line = " ".join(text.split())
    head, sep, _ = line.partition(". ")
    line = head + ("." if sep else "")
    return line if len(line) <= limit else line[: limit - 1] + "…"
