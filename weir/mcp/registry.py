"""Registering tools: annotations on every tool, write tools left out in read-only mode, and one
wrapper around every call that bounds its time, turns weir's errors into results the model can
read, and writes the tool-call log."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import yaml
from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations

from weir.errors import WeirError
from weir.kube.errors import ForbiddenError, UnauthorizedError
from weir.mcp.audit import CallLog
from weir.mcp.env import ToolEnv

log = logging.getLogger("weir.mcp")

ToolFn = Callable[..., Awaitable[CallToolResult]]

READ = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
"""Annotations of every read tool: no change to the cluster, safe to repeat."""


def writes(*, destructive: bool, idempotent: bool) -> ToolAnnotations:
    """Annotations of a tool that changes the cluster."""
    return ToolAnnotations(
        read_only_hint=False,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=False,
    )


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its function (name and docstring become the tool's name and description),
    a title and its annotations. Tools whose annotations are not read-only are write tools."""

    fn: ToolFn
    title: str
    annotations: ToolAnnotations

    @property
    def name(self) -> str:
        return self.fn.__name__

    @property
    def is_write(self) -> bool:
        return not self.annotations.read_only_hint


def describe_error(error: BaseException, env: ToolEnv) -> str:
    """The message a model reads for a failed call: weir's text (what failed, what to do), plus
    who the cluster refused when it did."""
    text = str(error)
    if isinstance(error, ForbiddenError | UnauthorizedError):
        return f"the cluster refused the request made as {env.settings.identity}: {text}"
    return text


def _text_chars(result: CallToolResult) -> int:
    return sum(len(c.text) for c in result.content if isinstance(c, TextContent))


def wrap(spec: ToolSpec, env: ToolEnv, calls: CallLog) -> ToolFn:
    """``spec.fn`` with a deadline, readable errors and a log record per call."""
    fn = spec.fn

    @functools.wraps(fn)
    async def call(**kwargs: Any) -> CallToolResult:
        started = time.monotonic()
        error: str | None = None
        chars = 0
        try:
            async with asyncio.timeout(env.settings.call_timeout):
                result = await fn(**kwargs)
            chars = _text_chars(result)
            return result
        except ToolError as e:
            error = str(e)
            raise
        except (WeirError, ValueError, yaml.YAMLError) as e:  # weir's timeouts included
            error = describe_error(e, env)
            raise ToolError(error) from e
        except TimeoutError as e:
            error = (
                f"{spec.name} did not finish within {env.settings.call_timeout:g}s: narrow the "
                "request, or start the server with a larger --timeout"
            )
            raise ToolError(error) from e
        except Exception as e:
            error = f"{type(e).__name__}: {e}"
            log.exception("tool failed unexpectedly", extra={"tool": spec.name})
            raise
        finally:
            calls.record(
                spec.name,
                kwargs,
                error=error,
                duration=time.monotonic() - started,
                result_chars=chars,
            )

    return call


def register(
    server: MCPServer[Any], specs: Iterable[ToolSpec], env: ToolEnv, calls: CallLog
) -> list[str]:
    """Add the tools to ``server`` (write tools only when not read-only); returns their names."""
    names = []
    for spec in specs:
        if spec.is_write and env.settings.read_only:
            continue
        annotations = spec.annotations.model_copy(update={"title": spec.title})
        server.add_tool(
            wrap(spec, env, calls),
            name=spec.name,
            title=spec.title,
            annotations=annotations,
            structured_output=False,
        )
        names.append(spec.name)
    return names
