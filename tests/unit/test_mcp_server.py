"""The server's shape, without a cluster: tools and their annotations, read-only mode, errors
that say what to do, the tool-call log, HTTP host checks, and the command's flags."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from mcp import Client
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent
from typer.testing import CliRunner

from weir.actions.errors import ReconcileTimeoutError
from weir.actions.reconcile import suspended_error
from weir.api import KINDS
from weir.auth.users import User, load_users, token_digest
from weir.cli.mcp import command
from weir.errors import UsageError
from weir.mcp import McpSettings, build_http_app, build_server
from weir.mcp.audit import CallLog
from weir.mcp.env import ToolEnv
from weir.mcp.server import host_rule
from weir.mcp.tooling import READ, ToolSpec, describe_error, wrap

WRITES = {"reconcile", "suspend", "resume", "apply_manifest", "delete_resource"}
NOT_DESTRUCTIVE = {"suspend"}


async def test_every_tool_is_annotated_and_documented() -> None:
    async with Client(build_server(McpSettings())) as client:
        assert client.instructions is not None
        assert "explain_failure" in client.instructions
        tools = (await client.list_tools()).tools
    assert len(tools) == 23
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
        assert len(names) == 18
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


def test_host_rule_allows_loopback_addresses_and_named_hosts() -> None:
    rule = host_rule("0.0.0.0", ("mcp.example.com", "mcp.internal:8443"))
    for host in ("127.0.0.1:9081", "localhost:1", "[::1]:9081", "10.1.2.3", "mcp.example.com:80"):
        assert rule.host_allowed(host), host
    assert rule.host_allowed("mcp.internal:8443")
    assert not rule.host_allowed("mcp.internal:9081")
    assert not rule.host_allowed("evil.example.com:9081")


async def test_http_app_refuses_foreign_host_headers() -> None:
    server = build_server(McpSettings())
    app = build_http_app(server, path="/mcp")
    async with server.session_manager.run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport) as http:
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
            headers = {"Host": "evil.example.com", "Accept": "application/json, text/event-stream"}
            refused = await http.post("http://evil.example.com/mcp", json=body, headers=headers)
    assert refused.status_code == 421
    assert "allowed-host" in refused.json()["error"]
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


KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: staging
clusters:
- {name: staging, cluster: {server: "https://127.0.0.1:1"}}
- {name: prod, cluster: {server: "https://127.0.0.1:2"}}
users:
- {name: me, user: {token: t}}
contexts:
- {name: staging, context: {cluster: staging, user: me, namespace: ethereum}}
- {name: prod, context: {cluster: prod, user: me}}
"""


def content(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def test_prompts_docs_search_and_kubeconfig_contexts(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(KUBECONFIG)
    async with Client(build_server(McpSettings(kubeconfig=str(config)))) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert set(prompts) == {"debug_flux_kustomization", "debug_flux_helmrelease"}
        assert {a.name for a in prompts["debug_flux_helmrelease"].arguments or []} == {
            "name",
            "namespace",
            "cluster",
        }
        got = await client.get_prompt(
            "debug_flux_kustomization",
            {"name": "apps", "namespace": "flux-system", "cluster": "prod"},
        )
        text = got.messages[0].content
        assert isinstance(text, TextContent)
        assert "explain_failure" in text.text
        assert "name='apps'" in text.text
        assert "set_kubeconfig_context" in text.text

        found = content(await client.call_tool("search_docs", {"query": "sops age decryption"}))
        results = found["results"]
        assert isinstance(results, list)
        assert "0003-sops-decryption" in results[0]["file"]
        nothing = content(await client.call_tool("search_docs", {"query": "zzqqxx"}))
        assert "nothing matched" in str(nothing["results"])

        listed = content(await client.call_tool("get_kubeconfig_contexts", {}))
        assert listed["current"] == "staging"
        assert [c["name"] for c in listed["contexts"]] == ["staging", "prod"]
        switched = content(await client.call_tool("set_kubeconfig_context", {"name": "prod"}))
        assert switched == {
            "context": "prod",
            "server": "https://127.0.0.1:2",
            "namespace": "default",
        }
        assert content(await client.call_tool("get_kubeconfig_contexts", {}))["current"] == "prod"
        unknown = await client.call_tool("set_kubeconfig_context", {"name": "nope"})
        assert unknown.is_error
        assert isinstance(unknown.content[0], TextContent)
        assert "context 'nope' not found" in unknown.content[0].text
    # Several callers share one server: no context switching for them.
    shared = McpSettings(users=load_users_text(tmp_path))
    async with Client(build_server(shared)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert "set_kubeconfig_context" not in names
    assert "get_api_versions" in names


def load_users_text(tmp_path: Path) -> tuple[User, ...]:
    path = tmp_path / "users.yaml"
    path.write_text(f"users:\n- name: a\n  tokenSHA256: {token_digest('t')}\n")
    return load_users(path)
