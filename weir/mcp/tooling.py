"""Registering tools: annotations on every tool, write tools left out in read-only mode, and one
wrapper around every call that bounds its time, turns weir's errors into results the model can
read, and writes the tool-call log."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import yaml
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations

from weir.actions.errors import SuspendedError
from weir.errors import WeirError
from weir.kube.errors import ForbiddenError, UnauthorizedError
from weir.log import kv
from weir.mcp.audit import CallLog
from weir.mcp.auth import CALLER, Callers, callers_for
from weir.mcp.env import ToolEnv

log = logging.getLogger("weir.mcp")

ToolFn = Callable[..., Awaitable[CallToolResult]]
CONTEXT_PARAM = "weir_mcp_context"
"""The parameter the SDK fills with the request's Context (see :func:`wrap`)."""

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
    if isinstance(error, SuspendedError) and error.kind:
        return (
            f"{error.kind}/{error.namespace}/{error.name} is suspended: resume it with the "
            f"`resume` tool (kind={error.kind}, name={error.name}, namespace={error.namespace}), "
            "which also reconciles it"
        )
    if isinstance(error, ForbiddenError | UnauthorizedError):
        return f"the cluster refused the request made as {env.identity}: {text}"
    return text


def _text_chars(result: CallToolResult) -> int:
    return sum(len(c.text) for c in result.content if isinstance(c, TextContent))


def wrap(spec: ToolSpec, env: ToolEnv, calls: CallLog, callers: Callers | None = None) -> ToolFn:
    """``spec.fn`` with a deadline, readable errors and a log record per call."""
    fn = spec.fn
    named = callers if callers is not None else callers_for(env.settings)

    @functools.wraps(fn)
    async def call(**kwargs: Any) -> CallToolResult:
        ctx: Context[Any] | None = kwargs.pop(CONTEXT_PARAM, None)
        caller = None
        if named is not None:  # only the HTTP transport gets here: BearerGate checked it
            headers = (ctx.headers if ctx is not None else None) or {}
            caller = await named.identify(headers)
            if caller is None:
                raise ToolError("this call carries no valid bearer token")
        token = CALLER.set(caller)
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
            log.exception("tool failed unexpectedly", extra=kv(tool=spec.name))
            raise
        finally:
            calls.record(
                spec.name,
                kwargs,
                error=error,
                duration=time.monotonic() - started,
                result_chars=chars,
                identity=env.identity if caller else None,
            )
            CALLER.reset(token)

    # The SDK hands the request's Context to a parameter annotated with it: add one to what
    # the tool declares, so that the caller's headers reach the call. The annotations are
    # evaluated here, in the tool's module: the SDK would look names up in this one.
    signature = inspect.signature(fn, eval_str=True)  # types, not strings: see below
    extra = inspect.Parameter(
        CONTEXT_PARAM, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Context
    )
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), extra]
    )
    call.__annotations__ = {**typing.get_type_hints(fn), CONTEXT_PARAM: Context}
    return call


def register(
    server: MCPServer[Any], specs: Iterable[ToolSpec], env: ToolEnv, calls: CallLog
) -> list[str]:
    """Add the tools to ``server`` (write tools only when not read-only); returns their names."""
    names = []
    callers = callers_for(env.settings)
    for spec in specs:
        if spec.is_write and env.settings.read_only:
            continue
        annotations = spec.annotations.model_copy(update={"title": spec.title})
        server.add_tool(
            wrap(spec, env, calls, callers),
            name=spec.name,
            title=spec.title,
            annotations=annotations,
            structured_output=False,
        )
        names.append(spec.name)
    return names
