"""`weir mcp` end to end: the server started as a user starts it, over stdio (spawned by the SDK's
stdio client) and over streamable HTTP (on a free loopback port, the SDK's streamable-HTTP
client), every tool called against a fleet that weir's controllers reconcile from a real Git
server; read-only mode, impersonation and the tool-call log checked on the real thing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client import ApiClient
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_types import CallToolResult, TextContent

from tests.support.oidc import id_token_for, oidc_app, web_config, write_config
from tests.support.rbac import bind, grant_kustomizations, install_web_roles
from tests.support.waiting import eventually, wait_for
from weir.api import KINDS
from weir.auth.users import token_digest
from weir.kube import apply as kapi
from weir.kube import transport
from weir.kube.errors import NotFoundError
from weir.kube.informer import list_all
from weir.kube.resources import CONFIG_MAPS, EVENTS, ResourceRef
from weir.runtime import conditions
from weir.runtime.manager import Manager
from weir.testing.gitea import GiteaServer
from weir.testing.gitrepo import GitRepoFixture
from weir.testing.gitserver import GitHttpServer
from weir.types import Obj

KS = ResourceRef("kustomize.toolkit.fluxcd.io", "v1", "kustomizations", True, "Kustomization")
PODS = ResourceRef("", "v1", "pods", True, "Pod")
MANAGER = "weir-e2e-mcp"
SECRET = "s3cr3t-db-password"
HELM_SECRET = "helm-secret-value-42"
WRITE_TOOLS = {"reconcile", "suspend", "resume", "apply_manifest", "delete_resource"}
READ_TOOLS = {
    "get_overview",
    "get_flux_instance",
    "get_resourcesets",
    "explain_resourceset",
    "get_resource",
    "list_resources",
    "get_events",
    "get_pod_logs",
    "get_dependency_graph",
    "get_history",
    "explain_failure",
    "diff_kustomization",
    "get_helmrelease_values",
    "compare_helmrelease_values",
    "get_api_versions",
    "get_kubeconfig_contexts",
    "set_kubeconfig_context",
    "search_docs",
}


# --------------------------------------------------------------------------------- helpers
def weir_mcp_argv(*args: str) -> list[str]:
    """``weir mcp ARGS`` as a Python command line (``python -m weir.cli.main mcp``), or the
    command module on its own while ``weir.cli.main`` does not register it yet."""
    try:
        from weir.cli.main import app  # noqa: PLC0415

        registered = any(c.name == "mcp" for c in app.registered_commands)
    except ImportError:  # the command module is being extended elsewhere: use ours alone
        registered = False
    if registered:
        return ["-m", "weir.cli.main", "mcp", *args]
    return ["-m", "weir.cli.mcp", *args]


def text(result: CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, TextContent))


def data(result: CallToolResult) -> Obj:
    assert not result.is_error, text(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def error(result: CallToolResult) -> str:
    assert result.is_error, text(result)
    return text(result)


def configmap(name: str, **values: str) -> str:
    lines = "".join(f"  {k}: {v!r}\n" for k, v in values.items())
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n{lines}"


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: main
        image: example.invalid/web:1
"""
DB_SECRET = f"""apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: {SECRET}
"""


def ready_at(sha: str) -> Callable[[Obj], bool]:
    def check(obj: Obj) -> bool:
        ready = conditions.get(obj, "Ready") or {}
        return ready.get("status") == "True" and sha in str(
            (obj.get("status") or {}).get("lastAppliedRevision")
        )

    return check


def reason_is(reason: str) -> Callable[[Obj], bool]:
    return lambda o: (conditions.get(o, "Ready") or {}).get("reason") == reason


@dataclass
class Fleet:
    namespace: str
    sha: str
    pod: str
    kubeconfig: str


async def apply(api: ApiClient, obj: Obj) -> None:
    await kapi.apply(api, obj, MANAGER, force=True)


def helm_release(ns: str, env: str, replicas: int) -> Obj:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": f"erigon-{env}", "namespace": ns},
        "spec": {
            "interval": "10m",
            "suspend": True,
            "chart": {
                "spec": {
                    "chart": "erigon",
                    "sourceRef": {"kind": "HelmRepository", "name": "charts"},
                }
            },
            "valuesFrom": [{"kind": "Secret", "name": f"{env}-values"}],
            "values": {"replicas": replicas},
        },
    }


@pytest.fixture(scope="module")
async def fleet(
    controllers: Manager, kube: ApiClient, kubeconfig: str, git_server: GitHttpServer
) -> AsyncIterator[Fleet]:
    """A namespace with a GitRepository and three Kustomizations reconciled by weir's
    controllers (infra; apps, which depends on infra; broken, whose build fails), a Deployment
    with a running pod (kwok), and two HelmReleases whose values come from Secrets."""
    api = kube
    ns = f"mcp-{uuid.uuid4().hex[:8]}"
    core = k8s.CoreV1Api(api)
    await core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=ns)))
    repo: GitRepoFixture = git_server.create_repo(f"mcp-fleet-{uuid.uuid4().hex[:8]}.git")
    sha = repo.commit(
        {
            "infra/cm.yaml": configmap("infra", tier="base"),
            "apps/settings.yaml": configmap("settings", network="mainnet"),
            "apps/secret.yaml": DB_SECRET,
            "apps/web.yaml": DEPLOYMENT,
            "broken/ok.yaml": configmap("ok", v="1"),
            "broken/bad.yaml": "kind: [unclosed\n",
        },
        "fleet",
    )
    await apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": ns},
            "spec": {"url": repo.url, "interval": "10m", "ref": {"branch": "master"}},
        },
    )
    for name, extra in (
        ("infra", {}),
        ("apps", {"dependsOn": [{"name": "infra"}]}),
        ("broken", {}),
    ):
        await apply(
            api,
            {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": name, "namespace": ns},
                "spec": {
                    "interval": "10m",
                    "prune": True,
                    "path": f"./{name}",
                    "targetNamespace": ns,
                    "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                    **extra,
                },
            },
        )
    for env, replicas in (("staging", 1), ("prod", 3)):
        password = HELM_SECRET if env == "prod" else "staging-only"
        await apply(
            api,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": f"{env}-values", "namespace": ns},
                "stringData": {"values.yaml": f"db:\n  password: {password}\n"},
            },
        )
        await apply(api, helm_release(ns, env, replicas))
    await wait_for(api, KS, ns, "infra", ready_at(sha), "infra applied", 90)
    await wait_for(api, KS, ns, "apps", ready_at(sha), "apps applied", 90)
    await wait_for(api, KS, ns, "broken", reason_is("BuildFailed"), "broken failing", 90)
    await wait_for_event(api, ns, "broken", "BuildFailed")
    pod = ""
    for _ in range(300):
        pods = await web_pods(api, ns)
        if pods:
            pod = pods[0]["metadata"]["name"]
            break
        await asyncio.sleep(0.1)
    assert pod, "the Deployment made no pod"
    try:
        yield Fleet(ns, sha, pod, kubeconfig)
    finally:
        await core.delete_namespace(ns)


async def wait_for_event(api: ApiClient, ns: str, name: str, reason: str) -> None:
    """Events are recorded after the status is written: wait for the one the tests read."""
    selector = f"involvedObject.name={name},reason={reason}"

    async def found() -> bool:
        body = await transport.request(
            api, "GET", EVENTS.path(ns), params={"fieldSelector": selector}
        )
        return bool(body.get("items"))

    await eventually(found, f"a {reason} Event for {name}", 30)


async def web_pods(api: ApiClient, ns: str) -> list[Obj]:
    pods, _ = await list_all(api, PODS, namespace=ns, label_selector="app=web")
    return pods


async def drift(api: ApiClient, ns: str) -> None:
    """Change a managed ConfigMap beside Git, as `kubectl edit` would."""
    await kapi.patch(
        api,
        CONFIG_MAPS,
        ns,
        "settings",
        {"data": {"network": "holesky"}},
        field_manager="kubectl-edit",
    )


# ------------------------------------------------------------------------ the tool tour
async def every_tool(mcp: Client, api: ApiClient, fleet: Fleet) -> None:
    """Call every tool once (most more than once) and check what they say."""
    ns, sha = fleet.namespace, fleet.sha
    listed = await mcp.list_tools()
    names = {t.name for t in listed.tools}
    assert names == READ_TOOLS | WRITE_TOOLS
    for tool in listed.tools:
        hints = tool.annotations
        assert hints is not None, tool.name
        assert hints.read_only_hint is not None, tool.name
        assert hints.destructive_hint is not None
        assert hints.idempotent_hint is not None
        assert hints.read_only_hint == (tool.name in READ_TOOLS), tool.name

    versions = data(await mcp.call_tool("get_api_versions", {"group": "fluxcd.io"}))
    assert versions["kinds"]["Kustomization.kustomize.toolkit.fluxcd.io"] == (
        "kustomize.toolkit.fluxcd.io/v1"
    )
    contexts = data(await mcp.call_tool("get_kubeconfig_contexts", {}))
    assert contexts["current"] == "weir-dev"
    switched = data(await mcp.call_tool("set_kubeconfig_context", {"name": "weir-dev"}))
    assert switched["context"] == "weir-dev"
    found = data(await mcp.call_tool("search_docs", {"query": "web config OIDC issuer"}))
    assert any("oidc" in r["text"].lower() for r in found["results"])
    prompts = {p.name for p in (await mcp.list_prompts()).prompts}
    assert prompts == {"debug_flux_kustomization", "debug_flux_helmrelease"}
    installation = data(await mcp.call_tool("get_flux_instance", {}))
    assert installation["summary"].startswith(("FluxInstance ", "no FluxInstance")), installation
    sets = data(await mcp.call_tool("get_resourcesets", {"namespace": ns}))
    assert sets == {"resourceSets": [], "providers": []}
    missing = data(await mcp.call_tool("explain_resourceset", {"name": "none", "namespace": ns}))
    assert "not found" in missing["error"]

    overview = data(await mcp.call_tool("get_overview", {"namespace": ns}))
    ks_report = overview["kinds"]["Kustomization"]
    assert ks_report["counts"]["total"] == 3
    assert ks_report["counts"]["failing"] == 1
    assert ks_report["failing"][0]["object"] == f"Kustomization/{ns}/broken"

    items = data(await mcp.call_tool("list_resources", {"kind": "ks"}))["items"]
    assert {i["name"]: i["ready"] for i in items} == {
        "apps": "True",
        "broken": "False",
        "infra": "True",
    }
    got = data(
        await mcp.call_tool(
            "get_resource",
            {"kind": "kustomization", "name": "apps", "fields": ["status.lastAppliedRevision"]},
        )
    )
    assert got["fields"]["status.lastAppliedRevision"] == f"master@sha1:{sha}"
    secret = await mcp.call_tool("get_resource", {"kind": "secret", "name": "db"})
    assert data(secret)["data"] == {"password": "***"}
    assert SECRET not in text(secret)

    events = data(await mcp.call_tool("get_events", {"kind": "ks", "name": "broken"}))
    assert any(e["reason"] == "BuildFailed" for e in events["events"])
    logs = error(await mcp.call_tool("get_pod_logs", {"name": fleet.pod}))
    assert "kubelet" in logs  # kwok's fake nodes serve no logs: the answer says where it failed

    graph = data(await mcp.call_tool("get_dependency_graph", {}))
    assert f"GitRepository/{ns}/fleet -> Kustomization/{ns}/apps (source)" in graph["edges"]
    assert f"Kustomization/{ns}/infra -> Kustomization/{ns}/apps (dependsOn)" in graph["edges"]
    problems = {p["node"]: p for p in graph["problems"]}
    assert problems[f"Kustomization/{ns}/broken"]["rootCause"] is True
    assert "bad.yaml" in problems[f"Kustomization/{ns}/broken"]["problem"]
    assert not any(n.startswith(f"Kustomization/{ns}/a") for n in problems)
    # No Helm controller runs here: no HelmChart was generated, so a HelmRelease's source is
    # its chart's HelmRepository, which is missing: the root cause. The graph is the UI's:
    # every edge ends at a node, and the workloads are there.
    assert f"HelmRepository/{ns}/charts -> HelmRelease/{ns}/erigon-prod (source)" in graph["edges"]
    assert problems[f"HelmRepository/{ns}/charts"]["rootCause"] is True
    ids = {n["id"] for n in graph["nodes"]}
    ends = {end for e in graph["edges"] for end in e.split(" (")[0].split(" -> ")}
    assert ends <= ids
    assert any(i.startswith(f"Deployment/{ns}/") for i in ids)

    history = data(await mcp.call_tool("get_history", {"kind": "ks", "name": "apps"}))
    assert history["history"][0]["revision"] == f"master@sha1:{sha}"
    assert history["history"][0]["status"] == "ReconciliationSucceeded"

    explained = data(await mcp.call_tool("explain_failure", {"kind": "ks", "name": "broken"}))
    assert explained["state"] == "failing"
    assert explained["lastError"]["reason"] == "BuildFailed"
    assert any(f.endswith("bad.yaml") for f in explained["lastError"]["files"])
    assert "bad.yaml" in explained["findings"][0]
    assert explained["sources"][0]["ready"] == "True"
    assert explained["nextSteps"]

    await drift(api, ns)
    diff = data(await mcp.call_tool("diff_kustomization", {"name": "apps"}))
    assert diff["differs"] is True
    assert diff["summary"] == {"configured": 1, "unchanged": 2}
    [settings] = diff["objects"]
    assert settings["object"] == f"ConfigMap/{ns}/settings"
    assert settings["action"] == "configured"
    assert settings["changes"] == [
        {"path": "data.network", "before": "holesky", "after": "mainnet"}
    ]
    assert SECRET not in json.dumps(
        data(await mcp.call_tool("diff_kustomization", {"name": "apps", "show_unchanged": True}))
    )
    broken_diff = data(await mcp.call_tool("diff_kustomization", {"name": "broken"}))
    assert broken_diff["build"] == "failed"
    assert "bad.yaml" in broken_diff["error"]

    values = await mcp.call_tool("get_helmrelease_values", {"name": "erigon-prod"})
    assert data(values)["values"] == {"db": {"password": "***"}, "replicas": 3}
    assert HELM_SECRET not in text(values)
    compared = await mcp.call_tool(
        "compare_helmrelease_values", {"name": "erigon-staging", "other_name": "erigon-prod"}
    )
    rows = {r["path"]: r for r in data(compared)["differences"]}
    assert rows["replicas"]["a"] == 1
    assert rows["replicas"]["b"] == 3
    assert rows["db.password"]["secret"] is True
    assert HELM_SECRET not in text(compared)

    # Writes: reconcile (sources first) repairs the drift; suspend and resume round-trip.
    done = data(
        await mcp.call_tool("reconcile", {"kind": "ks", "name": "apps", "with_source": True})
    )
    assert done["ready"] is True
    assert [o["kind"] for o in done["outcomes"]] == ["GitRepository", "Kustomization"]
    live = await kapi.get(api, CONFIG_MAPS, ns, "settings")
    assert live["data"] == {"network": "mainnet"}
    assert data(await mcp.call_tool("suspend", {"kind": "ks", "name": "apps"}))["suspended"]
    assert (await kapi.get(api, KS, ns, "apps"))["spec"]["suspend"] is True
    resumed = data(await mcp.call_tool("resume", {"kind": "ks", "name": "apps"}))
    assert resumed["suspended"] is False
    assert resumed["ready"] is True
    # each write leaves an audit Event (reaching Alerts like any Event), naming the caller
    recorded, _ = await list_all(api, EVENTS, namespace=ns)
    audits = [
        e["message"]
        for e in recorded
        if e.get("reason") == "McpAction" and e["involvedObject"]["name"] == "apps"
    ]
    for action in ("reconcile", "suspend", "resume"):
        assert any(
            m.startswith(f"{action} requested through the weir MCP server by") for m in audits
        )

    manifest = configmap("from-agent", owner="mcp")
    created = data(await mcp.call_tool("apply_manifest", {"manifest": manifest}))
    assert created["results"] == [{"object": f"ConfigMap/{ns}/from-agent", "action": "created"}]
    refused = error(
        await mcp.call_tool("apply_manifest", {"manifest": configmap("settings", network="x")})
    )
    assert f"managed by Kustomization/{ns}/apps" in refused
    deleted = data(await mcp.call_tool("delete_resource", {"kind": "cm", "name": "from-agent"}))
    assert deleted["deleted"] is True
    with pytest.raises(NotFoundError):
        await kapi.get(api, CONFIG_MAPS, ns, "from-agent")


# --------------------------------------------------------------------------- transports
def stdio(fleet: Fleet, *args: str) -> Client:
    params = StdioServerParameters(
        command=sys.executable,
        args=weir_mcp_argv("--kubeconfig", fleet.kubeconfig, "-n", fleet.namespace, *args),
    )
    return Client(params, read_timeout_seconds=120)


@contextlib.asynccontextmanager
async def http_server(fleet: Fleet, *args: str) -> AsyncIterator[str]:
    """``weir mcp --transport http`` on a free loopback port; yields its URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *weir_mcp_argv(
            "--transport",
            "http",
            "--addr",
            "127.0.0.1:0",
            "--kubeconfig",
            fleet.kubeconfig,
            "-n",
            fleet.namespace,
            *args,
        ),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    url = ""
    seen: list[str] = []
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
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/mcp")
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
    drain.cancel()
    assert proc.returncode == 0, "weir mcp did not stop cleanly on SIGTERM"


async def test_every_tool_over_stdio(kube: ApiClient, fleet: Fleet) -> None:
    async with stdio(fleet) as mcp:
        assert mcp.server_info is not None
        assert mcp.server_info.name == "weir"
        await every_tool(mcp, kube, fleet)


async def test_every_tool_over_streamable_http_with_a_call_log(
    kube: ApiClient, fleet: Fleet, tmp_path: Path
) -> None:
    log = tmp_path / "calls.jsonl"
    async with http_server(fleet, "--tool-log", str(log)) as url, Client(url) as mcp:
        await every_tool(mcp, kube, fleet)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    tools = {r["tool"] for r in records}
    assert tools == READ_TOOLS | WRITE_TOOLS
    assert all(r["identity"] == "kubeconfig user" for r in records)
    applied = next(r for r in records if r["tool"] == "apply_manifest")
    assert applied["arguments"]["manifest"]["objects"] == ["ConfigMap/from-agent"]
    failed = [r for r in records if r["outcome"] == "error"]
    # the log of a kwok pod (no kubelet) and the refused change of a managed object
    assert {r["tool"] for r in failed} == {"get_pod_logs", "apply_manifest"}
    assert SECRET not in log.read_text()
    assert HELM_SECRET not in log.read_text()


async def test_read_only_server_has_no_write_tools(kube: ApiClient, fleet: Fleet) -> None:
    async with stdio(fleet, "--read-only") as mcp:
        names = {t.name for t in (await mcp.list_tools()).tools}
        assert names == READ_TOOLS
        forced = await mcp.call_tool("delete_resource", {"kind": "cm", "name": "settings"})
        assert "Unknown tool: delete_resource" in error(forced)
        # Reading still works, and diffs (server-side dry-runs) change nothing.
        assert data(await mcp.call_tool("get_resource", {"kind": "cm", "name": "settings"}))
    assert await kapi.get(kube, CONFIG_MAPS, fleet.namespace, "settings")


async def test_impersonated_user_without_rights_is_refused_by_the_cluster(
    fleet: Fleet,
) -> None:
    user = f"nobody-{uuid.uuid4().hex[:6]}"
    async with http_server(fleet, "--kube-as", user) as url, Client(url) as mcp:
        denied = error(await mcp.call_tool("get_resource", {"kind": "ks", "name": "apps"}))
        assert "403 Forbidden" in denied
        assert f'User "{user}" cannot get resource "kustomizations"' in denied
        refused = error(await mcp.call_tool("suspend", {"kind": "ks", "name": "apps"}))
        assert "403 Forbidden" in refused
        overview = data(await mcp.call_tool("get_overview", {}))
        assert overview["cluster"]["identity"] == user
        assert "not visible" in overview["kinds"]["Kustomization"]["error"]


async def test_users_file_bearer_tokens_and_calls_as_the_caller(
    kube: ApiClient, fleet: Fleet, tmp_path: Path
) -> None:
    """``--users-file``: no token, no MCP; each caller's calls impersonate them, so the cluster
    decides per caller (erin's group may read Kustomizations in the fleet's namespace)."""
    ns = fleet.namespace
    readers = f"ks-readers-{uuid.uuid4().hex[:6]}"
    await grant_kustomizations(kube, ns, readers, ["get", "list"])
    users = tmp_path / "users.yaml"
    users.write_text(
        "users:\n"
        f"- name: erin\n  groups: [agents, {readers}]\n  tokenSHA256: {token_digest('erin-t')}\n"
        f"- name: frank\n  tokenSHA256: {token_digest('frank-t')}\n"
    )
    log = tmp_path / "calls.jsonl"
    async with http_server(fleet, "--users-file", str(users), "--tool-log", str(log)) as url:
        async with httpx2.AsyncClient() as http:
            anonymous = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
            assert anonymous.status_code == 401
            assert anonymous.headers["www-authenticate"].startswith("Bearer")

        @contextlib.asynccontextmanager
        async def as_user(token: str) -> AsyncIterator[Client]:
            headers = {"Authorization": f"Bearer {token}"}
            async with create_mcp_http_client(headers) as http_client:
                transport = streamable_http_client(url, http_client=http_client)
                async with Client(transport) as mcp:
                    yield mcp

        async with as_user("erin-t") as mcp:
            ks = data(await mcp.call_tool("get_resource", {"kind": "ks", "name": "apps"}))
            assert ks["metadata"]["name"] == "apps"
            refused = error(await mcp.call_tool("suspend", {"kind": "ks", "name": "apps"}))
            assert 'User "erin" cannot patch resource "kustomizations"' in refused
            overview = data(await mcp.call_tool("get_overview", {}))
            assert overview["cluster"]["identity"] == f"erin (groups agents, {readers})"
        async with as_user("frank-t") as mcp:
            denied = error(await mcp.call_tool("get_resource", {"kind": "ks", "name": "apps"}))
            assert 'User "frank" cannot get resource "kustomizations"' in denied
    live = await kapi.get(kube, KINDS["Kustomization"].resource, ns, "apps")
    assert not live["spec"].get("suspend")
    who = {r["tool"]: r["identity"] for r in map(json.loads, log.read_text().splitlines())}
    assert who["suspend"].startswith("erin")
    assert who["get_resource"] == "frank"


async def test_oidc_bearer_tokens_audience_checked_and_discovery_metadata(
    kube: ApiClient, fleet: Fleet, gitea: GiteaServer, tmp_path: Path
) -> None:
    """``--web-config`` (the web UI's OIDC config, Gitea as the issuer): the protected resource
    metadata names the issuer; a call needs an ID token whose audience is accepted, and runs
    as the user its claims name (groups from Gitea's organisations; flux-web-user in the
    fleet's namespace lets them read, not act)."""
    ns = fleet.namespace
    await install_web_roles(kube)
    owner = gitea.create_user()
    org = gitea.client(owner).create_org()
    user = gitea.create_user()
    gitea.client(owner).add_org_member(org, user.username)
    await bind(kube, "flux-web-user", org, ns)
    weir_app = oidc_app(gitea, owner, 9)
    agent_app = gitea.client(owner).create_oauth2_application("agent", ["http://127.0.0.1:9/agent"])
    config = write_config(tmp_path / "web.yaml", web_config(gitea, weir_app, 9))
    token = id_token_for(gitea, user, weir_app)
    agent_token = id_token_for(gitea, user, agent_app)

    async with http_server(fleet, "--web-config", str(config)) as url:
        root = url.removesuffix("/mcp")
        async with httpx2.AsyncClient() as http:
            meta = (await http.get(f"{root}/.well-known/oauth-protected-resource/mcp")).json()
            assert meta["resource"] == url
            assert meta["authorization_servers"] == [gitea.issuer]
            anonymous = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
            assert anonymous.status_code == 401
            challenge = anonymous.headers["www-authenticate"]
            assert f'resource_metadata="{root}/.well-known/oauth-protected-resource/mcp"' in (
                challenge
            )
            wrong = await http.post(
                url,
                json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                headers={"Authorization": f"Bearer {agent_token}"},
            )
            assert wrong.status_code == 401, "an ID token for another client is refused"
            assert 'error="invalid_token"' in wrong.headers["www-authenticate"]

        headers = {"Authorization": f"Bearer {token}"}
        async with (
            create_mcp_http_client(headers) as http_client,
            Client(streamable_http_client(url, http_client=http_client)) as mcp,
        ):
            ks = data(await mcp.call_tool("get_resource", {"kind": "ks", "name": "apps"}))
            assert ks["metadata"]["name"] == "apps"
            refused = error(await mcp.call_tool("suspend", {"kind": "ks", "name": "apps"}))
            assert f'User "{user.email}" cannot patch resource "kustomizations"' in refused
            overview = data(await mcp.call_tool("get_overview", {}))
            assert overview["cluster"]["identity"].startswith(user.email)

    # The agent's own client is accepted once named as an audience.
    args = ("--web-config", str(config), "--audience", agent_app.client_id)
    async with http_server(fleet, *args) as url:
        headers = {"Authorization": f"Bearer {agent_token}"}
        async with (
            create_mcp_http_client(headers) as http_client,
            Client(streamable_http_client(url, http_client=http_client)) as mcp,
        ):
            ks = data(await mcp.call_tool("get_resource", {"kind": "ks", "name": "apps"}))
            assert ks["metadata"]["name"] == "apps"
