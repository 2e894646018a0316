"""The server's shape, without a cluster: tools and their annotations, read-only mode, errors
that say what to do, the tool-call log, HTTP host checks, and the command's flags."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import typer
from mcp import Client
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent
from starlette.applications import Starlette
from typer.testing import CliRunner

from weir.actions.errors import ReconcileTimeoutError
from weir.actions.reconcile import suspended_error
from weir.api import KINDS
from weir.cli.mcp import command
from weir.errors import UsageError
from weir.mcp import McpSettings, build_http_app, build_server
from weir.mcp.audit import CallLog
from weir.mcp.env import ToolEnv
from weir.mcp.server import transport_security
from weir.mcp.tooling import READ, ToolSpec, describe_error, wrap

WRITES = {"reconcile", "suspend", "resume", "apply_manifest", "delete_resource"}
NOT_DESTRUCTIVE = {"suspend"}


async def test_every_tool_is_annotated_and_documented() -> None:
    async with Client(build_server(McpSettings())) as client:
        assert client.instructions is not None
        assert "explain_failure" in client.instructions
        tools = (await client.list_tools()).tools
    assert len(tools) == 19
    assert {t.name for t in tools} >= WRITES
    for tool in tools:
        hints = tool.annotations
        assert hints is not None, tool.name
        assert tool.title
        assert hints.title == tool.title
        assert hints.read_only_hint is (tool.name not in WRITES), tool.name
        assert hints.destructive_hint is (tool.name in WRITES - NOT_DESTRUCTIVE), tool.name
        assert hints.idempotent_hint is True
        assert hints.open_world_hint is False
        assert tool.description, tool.name
        assert len(tool.description) > 60, tool.name
        assert "properties" in tool.input_schema, tool.name
        for name, schema in tool.input_schema["properties"].items():
            assert schema.get("description"), f"{tool.name}.{name} has no description"


async def test_read_only_mode_registers_no_write_tool() -> None:
    async with Client(build_server(McpSettings(read_only=True))) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert not names & WRITES
        assert len(names) == 14
        forced = await client.call_tool("apply_manifest", {"manifest": "kind: ConfigMap"})
    assert forced.is_error
    assert isinstance(forced.content[0], TextContent)
    assert "Unknown tool: apply_manifest" in forced.content[0].text


async def test_errors_say_what_to_do_and_are_logged(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    settings = McpSettings(kubeconfig=str(tmp_path / "missing"), tool_log=str(log))
    async with Client(build_server(settings)) as client:
        result = await client.call_tool("get_overview", {})
        bad_path = await client.call_tool(
            "get_resource", {"kind": "cm", "name": "x", "fields": ["a[b"]}
        )
        bad_kind = await client.call_tool("reconcile", {"kind": "deployment", "name": "x"})
    assert result.is_error
    first = result.content[0]
    assert isinstance(first, TextContent)
    assert "cannot load kubeconfig" in first.text
    assert bad_path.is_error
    assert bad_kind.is_error
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["tool"] for r in records] == ["get_overview", "get_resource", "reconcile"]
    assert all(r["outcome"] == "error" for r in records)


def test_settings_are_checked() -> None:
    with pytest.raises(UsageError, match="needs --kube-as"):
        McpSettings(kube_as_groups=("ops",))
    with pytest.raises(UsageError, match="--max-output"):
        McpSettings(max_output=10)
    assert McpSettings(kube_as="bob", kube_as_groups=("a", "b")).identity == "bob (groups a, b)"
    assert McpSettings().identity == "kubeconfig user"


def test_transport_security_allows_loopback_and_named_hosts() -> None:
    settings = transport_security("0.0.0.0", 9081, ("mcp.example.com", "10.0.0.1:8443"))
    assert settings.enable_dns_rebinding_protection
    hosts = settings.allowed_hosts
    for host in ("127.0.0.1:*", "localhost:*", "[::1]:*", "mcp.example.com", "10.0.0.1:8443"):
        assert host in hosts
    assert "127.0.0.1:9081" in hosts
    assert "evil.example.com:*" not in hosts


async def test_http_app_refuses_foreign_host_headers() -> None:
    app = build_http_app(build_server(McpSettings()), path="/mcp")
    assert isinstance(app, Starlette)  # without --users-file: the SDK's app as it is
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport) as http:
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
            headers = {"Host": "evil.example.com", "Accept": "application/json, text/event-stream"}
            refused = await http.post("http://evil.example.com/mcp", json=body, headers=headers)
    assert refused.status_code in (400, 403, 421)
    with pytest.raises(UsageError, match="must start with /"):
        build_http_app(build_server(McpSettings()), path="mcp")


def test_command_flags_are_checked() -> None:
    app = typer.Typer()
    app.command()(command)
    runner = CliRunner()
    bad = runner.invoke(app, ["--transport", "sse"])
    assert isinstance(bad.exception, UsageError)
    assert "use stdio or http" in str(bad.exception)
    groups = runner.invoke(app, ["--kube-as-group", "ops"])
    assert isinstance(groups.exception, UsageError)
    assert "--kube-as" in str(groups.exception)
    helptext = runner.invoke(app, ["--help"]).output
    for flag in ("--read-only", "--kube-as", "--mask-secrets", "--tool-log", "--addr", "--path"):
        assert flag in helptext


async def test_the_call_wrapper_bounds_time_and_keeps_weirs_messages(tmp_path: Path) -> None:
    env = ToolEnv(McpSettings(call_timeout=0.05))
    calls = CallLog("kubeconfig user", read_only=False, path=str(tmp_path / "log.jsonl"))

    async def slow() -> CallToolResult:
        """Sleeps."""
        await asyncio.sleep(5)
        raise AssertionError("not reached")

    async def waited() -> CallToolResult:
        """Times out on its own, with weir's message."""
        raise ReconcileTimeoutError("Kustomization a/b: reconciliation did not finish within 3s")

    async def broken() -> CallToolResult:
        """Crashes."""
        raise KeyError("bug")

    for fn, expected in (
        (slow, "slow did not finish within 0.05s"),
        (waited, "reconciliation did not finish within 3s"),
    ):
        with pytest.raises(ToolError, match=expected):
            await wrap(ToolSpec(fn, "t", READ), env, calls)()
    with pytest.raises(KeyError):
        await wrap(ToolSpec(broken, "t", READ), env, calls)()
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [(r["tool"], r["outcome"]) for r in records] == [
        ("slow", "error"),
        ("waited", "error"),
        ("broken", "error"),
    ]


async def test_argument_errors_are_one_line_without_pydantic_text() -> None:
    """Issue 12.9: a bad argument answered pydantic's multi-line report with a URL."""
    async with Client(build_server(McpSettings())) as client:
        missing = await client.call_tool("reconcile", {"kind": "Kustomization"})
        wrong = await client.call_tool(
            "get_events", {"limit": "many", "kind": "Kustomization", "name": "x"}
        )
    for result in (missing, wrong):
        assert result.is_error
        first = result.content[0]
        assert isinstance(first, TextContent)
        text = first.text
        assert "\n" not in text, text
        assert "pydantic" not in text, text
        assert "http" not in text, text
        assert "validation error" not in text, text
    assert isinstance(missing.content[0], TextContent)
    assert missing.content[0].text.endswith("reconcile: invalid arguments: name: required")
    assert isinstance(wrong.content[0], TextContent)
    assert "limit: " in wrong.content[0].text
    assert "(got 'many')" in wrong.content[0].text


def test_suspended_error_names_the_resume_tool() -> None:
    """Issue 12.9: the MCP error for a suspended object suggested the CLI."""
    info = KINDS["Kustomization"]
    error = suspended_error(info, "flux-system", "apps")
    assert "`weir resume ks apps -n flux-system`" in str(error)  # the CLI's hint stays
    text = describe_error(error, ToolEnv(McpSettings()))
    assert "weir resume" not in text
    assert "`resume` tool (kind=Kustomization, name=apps, namespace=flux-system)" in text
