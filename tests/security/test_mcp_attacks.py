"""Attacks on the MCP server, against a real API server (the SDK's client; ``weir mcp`` over
HTTP as a user starts it). Each test is one attack that must fail:

- DNS rebinding of the HTTP endpoint (``Host`` of the attacker) -> 421; a browser page of
  another origin -> 403;
- a read-only server asked to write (tools it does not list) -> unknown tool, nothing changed;
- Secret values read through ``get_resource``, ``list_resources``, ``get_helmrelease_values``
  -> masked;
- guessing a secret value with ``compare_helmrelease_values`` (a HelmRelease of one's own with
  the guess inline, compared with the victim's): the answer is the same for a right and a wrong
  guess.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient
from mcp import Client
from mcp_types import CallToolResult, TextContent

from weir.kube import apply as kapi
from weir.kube.resources import CONFIG_MAPS
from weir.mcp import McpSettings, build_server
from weir.types import Obj

pytestmark = pytest.mark.usefixtures("flux_crds")
MANAGER = "weir-attack-suite"
PASSWORD = "S3cr3tP@ss-xyz"
ATTACKER = "attacker.example"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "attack", "version": "1"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _text(result: CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, TextContent))


def _data(result: CallToolResult) -> Obj:
    assert not result.is_error, _text(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def _client(kubeconfig: str, namespace: str, **settings: Any) -> Client:
    return Client(build_server(McpSettings(kubeconfig=kubeconfig, namespace=namespace, **settings)))


@contextlib.asynccontextmanager
async def weir_mcp_http(kubeconfig: str, namespace: str, *args: str) -> AsyncIterator[str]:
    """``weir mcp --transport http`` on a free loopback port; yields its URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "weir.cli.main",
        "mcp",
        "--transport",
        "http",
        "--addr",
        "127.0.0.1:0",
        "--kubeconfig",
        kubeconfig,
        "-n",
        namespace,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    url, seen = "", list[str]()
    drain: asyncio.Task[bytes] | None = None
    try:
        async with asyncio.timeout(30):
            while not url:
                line = (await proc.stderr.readline()).decode()
                if not line:
                    raise AssertionError(f"weir mcp exited: {''.join(seen)}")
                seen.append(line)
                record = json.loads(line) if line.startswith("{") else {}
                if record.get("msg") == "mcp server listening":
                    url = record["url"]
        drain = asyncio.create_task(proc.stderr.read())
        yield url
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                async with asyncio.timeout(15):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if drain is not None:
            drain.cancel()


async def test_dns_rebinding_of_the_http_endpoint(kubeconfig: str, namespace: str) -> None:
    async with (
        weir_mcp_http(kubeconfig, namespace, "--allowed-host", "mcp.example.com") as url,
        httpx.AsyncClient(timeout=10) as http,
    ):
        port = httpx.URL(url).port
        rebound = {**ACCEPT, "Host": f"{ATTACKER}:{port}", "Origin": f"http://{ATTACKER}:{port}"}
        assert (await http.post(url, json=INIT, headers=rebound)).status_code == 421
        foreign = {**ACCEPT, "Origin": f"http://{ATTACKER}"}
        assert (await http.post(url, json=INIT, headers=foreign)).status_code == 403
        for host in (f"127.0.0.1:{port}", "mcp.example.com"):
            answered = await http.post(url, json=INIT, headers={**ACCEPT, "Host": host})
            assert answered.status_code == 200, (host, answered.text)


async def test_read_only_server_cannot_write(
    kube: ApiClient, kubeconfig: str, namespace: str
) -> None:
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": namespace},
        "data": {"a": "1"},
    }
    await kapi.apply(kube, cm, MANAGER, force=True)
    async with _client(kubeconfig, namespace, read_only=True) as mcp:
        names = {t.name for t in (await mcp.list_tools()).tools}
        for write in ("apply_manifest", "delete_resource", "reconcile", "suspend", "resume"):
            assert write not in names
            forced = await mcp.call_tool(write, {"kind": "cm", "name": "settings"})
            assert forced.is_error
            assert f"Unknown tool: {write}" in _text(forced)
        manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '2'}"
        applied = await mcp.call_tool("apply_manifest", {"manifest": manifest})
        assert applied.is_error
    live = await kapi.get(kube, CONFIG_MAPS, namespace, "settings")
    assert live["data"] == {"a": "1"}


def _secret(ns: str, name: str, values: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": ns,
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": values},
        },
        "data": {"values.yaml": base64.b64encode(values.encode()).decode()},
        "stringData": {"token": PASSWORD},
    }


def _release(ns: str, name: str, values: Obj, values_from: list[Obj]) -> Obj:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "interval": "10m",
            "suspend": True,
            "chart": {
                "spec": {
                    "chart": "app",
                    "sourceRef": {"kind": "HelmRepository", "name": "charts"},
                }
            },
            "valuesFrom": values_from,
            "values": values,
        },
    }


async def test_secret_values_are_masked_in_every_read(
    kube: ApiClient, kubeconfig: str, namespace: str
) -> None:
    ns = namespace
    await kapi.apply(kube, _secret(ns, "db", f"db:\n  password: {PASSWORD}\n"), MANAGER)
    await kapi.apply(
        kube,
        _release(ns, "victim", {"db": {"user": "app"}}, [{"kind": "Secret", "name": "db"}]),
        MANAGER,
    )
    async with _client(kubeconfig, ns) as mcp:
        calls: list[tuple[str, Obj]] = [
            ("get_resource", {"kind": "Secret", "name": "db"}),
            ("list_resources", {"kind": "Secret"}),
            ("get_helmrelease_values", {"name": "victim"}),
            ("get_helmrelease_values", {"name": "victim", "path": "db.password"}),
        ]
        for tool, args in calls:
            result = await mcp.call_tool(tool, args)
            body = _text(result) + json.dumps(result.structured_content)
            assert not result.is_error, body
            assert PASSWORD not in body, tool
            assert base64.b64encode(PASSWORD.encode()).decode() not in body, tool
        secret = _data(await mcp.call_tool("get_resource", {"kind": "Secret", "name": "db"}))
        assert secret["data"] == {"values.yaml": "***", "token": "***"}


async def test_compare_values_does_not_confirm_a_guessed_secret(
    kube: ApiClient, kubeconfig: str, namespace: str
) -> None:
    ns = namespace
    await kapi.apply(kube, _secret(ns, "db", f"db:\n  password: {PASSWORD}\n"), MANAGER)
    victim = _release(ns, "victim", {"replicas": 1}, [{"kind": "Secret", "name": "db"}])
    await kapi.apply(kube, victim, MANAGER)
    for name, guess in (("right", PASSWORD), ("wrong", "not-the-password")):
        mine = _release(ns, f"guess-{name}", {"replicas": 1, "db": {"password": guess}}, [])
        await kapi.apply(kube, mine, MANAGER)
    answers: dict[str, Obj] = {}
    async with _client(kubeconfig, ns) as mcp:
        for name in ("right", "wrong"):
            result = await mcp.call_tool(
                "compare_helmrelease_values", {"name": "victim", "other_name": f"guess-{name}"}
            )
            answers[name] = _data(result)
    right, wrong = answers["right"], answers["wrong"]
    assert right["summary"] == wrong["summary"]
    rows = {r["path"]: r for r in right["differences"]}
    assert rows["db.password"]["change"] == "unknown"
    assert rows["db.password"]["secret"] is True
    assert rows["db.password"]["a"] == "***"
    assert right["differences"] == [
        {**r, "b": PASSWORD} if r["path"] == "db.password" else r for r in wrong["differences"]
    ]
