"""The MCP tools against the real API server, through the SDK's client (in memory): objects,
pagination and field selection, Secret and Helm-values masking, impersonation with the cluster's
RBAC, applying and deleting, Events, logs, and the Flux read tools on objects whose status is
written here (suspended, so that controllers running in the same session leave them alone)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient
from mcp import Client
from mcp_types import CallToolResult, TextContent

from weir.api import KINDS
from weir.kube import apply as kapi
from weir.kube.resources import CONFIG_MAPS, ResourceRef
from weir.mcp import McpSettings, build_server
from weir.types import Obj

pytestmark = pytest.mark.usefixtures("flux_crds")
MANAGER = "weir-mcp-test"
ROLES = ResourceRef("rbac.authorization.k8s.io", "v1", "roles", True, "Role")
BINDINGS = ResourceRef("rbac.authorization.k8s.io", "v1", "rolebindings", True, "RoleBinding")
SECRET_VALUE = "correct-horse-battery"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def text(result: CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, TextContent))


def data(result: CallToolResult) -> Obj:
    assert not result.is_error, text(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def error(result: CallToolResult) -> str:
    assert result.is_error, text(result)
    return text(result)


async def create(api: ApiClient, obj: Obj) -> Obj:
    return await kapi.apply(api, obj, MANAGER, force=True)


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


async def set_status(api: ApiClient, obj: Obj, status: Obj) -> None:
    info = KINDS[obj["kind"]]
    meta = obj["metadata"]
    await kapi.patch_status(
        api, info.resource, meta["namespace"], meta["name"], status, "weir-mcp-test-controller"
    )


def cond(type_: str, status: str, reason: str, message: str) -> Obj:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2026-01-02T03:04:05Z",
    }


def connect(kubeconfig: str, namespace: str, **settings: Any) -> Client:
    """An in-memory client of a server for ``namespace`` (enter it in the test's own task: the
    SDK's task groups cannot span a fixture's set-up and tear-down)."""
    return Client(build_server(McpSettings(kubeconfig=kubeconfig, namespace=namespace, **settings)))


async def test_get_and_list_with_fields_pagination_and_masking(
    kube: ApiClient, kubeconfig: str, namespace: str
) -> None:
    async with connect(kubeconfig, namespace) as mcp:
        ns = namespace
        for i in range(3):
            await create(
                kube,
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"cm-{i}", "namespace": ns, "labels": {"app": "demo"}},
                    "data": {"k": str(i)},
                },
            )
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "db",
                "namespace": ns,
                "annotations": {LAST_APPLIED: f'{{"data": "{SECRET_VALUE}"}}'},
            },
            "data": {"password": b64(SECRET_VALUE)},
        }
        await create(kube, secret)

        got = data(await mcp.call_tool("get_resource", {"kind": "cm", "name": "cm-1"}))
        assert got["data"] == {"k": "1"}
        assert "managedFields" not in got["metadata"]
        fields = data(
            await mcp.call_tool(
                "get_resource",
                {"kind": "configmaps", "name": "cm-2", "fields": ["data.k", "metadata.labels.app"]},
            )
        )
        assert fields["fields"] == {"data.k": "2", "metadata.labels.app": "demo"}

        page = data(
            await mcp.call_tool(
                "list_resources", {"kind": "configmap", "label_selector": "app=demo", "limit": 2}
            )
        )
        assert page["count"] == 2
        assert page["continue"]
        rest = data(
            await mcp.call_tool(
                "list_resources",
                {
                    "kind": "configmap",
                    "label_selector": "app=demo",
                    "continue_token": page["continue"],
                },
            )
        )
        names = [i["name"] for i in page["items"] + rest["items"]]
        assert sorted(names) == ["cm-0", "cm-1", "cm-2"]
        assert "continue" not in rest

        # Secrets: values masked in get, in list summaries and in selected fields; the
        # last-applied annotation (which repeats them) is dropped.
        result = await mcp.call_tool("get_resource", {"kind": "secret", "name": "db"})
        assert data(result)["data"] == {"password": "***"}
        assert SECRET_VALUE not in text(result)
        assert b64(SECRET_VALUE) not in text(result)
        listed = await mcp.call_tool("list_resources", {"kind": "secrets"})
        assert {"name": "db", "keys": ["password"]}.items() <= next(
            i for i in data(listed)["items"] if i["name"] == "db"
        ).items()
        selected = await mcp.call_tool(
            "list_resources", {"kind": "secrets", "fields": ["data", "metadata.annotations"]}
        )
        assert b64(SECRET_VALUE) not in text(selected)
        assert SECRET_VALUE not in text(selected)

        missing = error(await mcp.call_tool("get_resource", {"kind": "cm", "name": "nope"}))
        assert "not found" in missing
        unknown = error(await mcp.call_tool("list_resources", {"kind": "widgetz"}))
        assert "no resource type" in unknown


async def test_secret_values_shown_only_when_masking_is_off(
    kube: ApiClient, kubeconfig: str, namespace: str
) -> None:
    await create(
        kube,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "plain", "namespace": namespace},
            "data": {"token": b64(SECRET_VALUE)},
        },
    )
    settings = McpSettings(kubeconfig=kubeconfig, namespace=namespace, mask_secrets=False)
    async with Client(build_server(settings)) as client:
        got = data(await client.call_tool("get_resource", {"kind": "secret", "name": "plain"}))
    assert got["data"] == {"token": b64(SECRET_VALUE)}


def helm_release(ns: str, name: str, values: Obj, values_from: list[Obj]) -> Obj:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "interval": "10m",
            "suspend": True,
            "chart": {
                "spec": {
                    "chart": "erigon",
                    "version": "1.2.x",
                    "sourceRef": {"kind": "HelmRepository", "name": "charts"},
                }
            },
            "valuesFrom": values_from,
            "values": values,
        },
    }


async def test_helm_values_from_secrets_are_masked_and_compared(
    kube: ApiClient, kubeconfig: str, namespace: str
) -> None:
    async with connect(kubeconfig, namespace) as mcp:
        ns = namespace
        await create(
            kube,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "common", "namespace": ns},
                "data": {"values.yaml": "image:\n  tag: v2.60\nreplicas: 1\n"},
            },
        )
        for name, password in (("staging-db", "staging-pass-1"), ("prod-db", "prod-pass-2")):
            await create(
                kube,
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": name, "namespace": ns},
                    "data": {
                        "values.yaml": b64(f"db:\n  password: {password}\n  user: erigon\n"),
                        "rpc": b64(f"rpc-token-{password}"),
                    },
                },
            )
        for env_name, replicas in (("staging", 1), ("prod", 3)):
            await create(
                kube,
                helm_release(
                    ns,
                    f"erigon-{env_name}",
                    {"replicas": replicas, "network": "mainnet"},
                    [
                        {"kind": "ConfigMap", "name": "common"},
                        {"kind": "Secret", "name": f"{env_name}-db"},
                        {
                            "kind": "Secret",
                            "name": f"{env_name}-db",
                            "valuesKey": "rpc",
                            "targetPath": "rpc.token",
                        },
                    ],
                ),
            )

        result = await mcp.call_tool("get_helmrelease_values", {"name": "erigon-prod"})
        values = data(result)["values"]
        assert values["image"] == {"tag": "v2.60"}
        assert values["replicas"] == 3
        assert values["db"] == {"password": "***", "user": "***"}
        assert values["rpc"] == {"token": "***"}
        assert "prod-pass-2" not in text(result)
        assert data(result)["chart"]["chart"] == "erigon"
        sub = data(
            await mcp.call_tool(
                "get_helmrelease_values", {"name": "erigon-prod", "path": "image.tag"}
            )
        )
        assert sub["values"] == "v2.60"

        compared = await mcp.call_tool(
            "compare_helmrelease_values", {"name": "erigon-staging", "other_name": "erigon-prod"}
        )
        diff = data(compared)
        rows = {r["path"]: r for r in diff["differences"]}
        assert rows["replicas"] == {"path": "replicas", "change": "changed", "a": 1, "b": 3}
        assert rows["db.password"]["secret"] is True
        assert rows["db.password"]["a"] == rows["db.password"]["b"] == "***"
        assert rows["rpc.token"]["secret"] is True
        # Equal secret values are not reported as equal: masked values are never compared.
        assert rows["db.user"] == {
            "path": "db.user",
            "change": "unknown",
            "a": "***",
            "b": "***",
            "secret": True,
        }
        assert diff["summary"]["unknown"] == 3
        assert diff["chart"]["same"] is True
        body = text(compared)
        assert "staging-pass-1" not in body
        assert "prod-pass-2" not in body

        unmasked = McpSettings(kubeconfig=kubeconfig, namespace=ns, mask_secrets=False)
        async with Client(build_server(unmasked)) as client:
            plain = data(await client.call_tool("get_helmrelease_values", {"name": "erigon-prod"}))
        assert plain["values"]["db"]["password"] == "prod-pass-2"


async def test_impersonated_user_gets_the_clusters_forbidden(
    kube: ApiClient, kubeconfig: str, namespace: str
) -> None:
    ns = namespace
    user = f"alice-{uuid.uuid4().hex[:6]}"
    await create(
        kube,
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "cm-reader", "namespace": ns},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
        },
    )
    await create(
        kube,
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "alice-reads", "namespace": ns},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "cm-reader",
            },
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
        },
    )
    await create(
        kube,
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "visible", "namespace": ns}},
    )
    settings = McpSettings(
        kubeconfig=kubeconfig, namespace=ns, kube_as=user, kube_as_groups=("weir-test-team",)
    )
    async with Client(build_server(settings)) as client:
        allowed = data(await client.call_tool("get_resource", {"kind": "cm", "name": "visible"}))
        assert allowed["metadata"]["name"] == "visible"
        denied = error(await client.call_tool("get_resource", {"kind": "secret", "name": "x"}))
        assert "403 Forbidden" in denied
        assert f'User "{user}" cannot get resource "secrets"' in denied
        assert f"as {user}" in denied
        write = error(await client.call_tool("delete_resource", {"kind": "cm", "name": "visible"}))
        assert "403 Forbidden" in write
        assert "cannot delete" in write
    assert await kapi.get(kube, CONFIG_MAPS, ns, "visible")


async def test_apply_and_delete_refuse_flux_managed_objects(
    kube: ApiClient, kubeconfig: str, namespace: str
) -> None:
    async with connect(kubeconfig, namespace) as mcp:
        ns = namespace
        manifest = (
            'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-mcp\ndata:\n  a: "1"\n'
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: second\n  namespace: {ns}\n"
        )
        checked = data(
            await mcp.call_tool("apply_manifest", {"manifest": manifest, "dry_run": True})
        )
        assert [r["action"] for r in checked["results"]] == ["created", "created"]
        first = data(await mcp.call_tool("apply_manifest", {"manifest": manifest}))
        assert [r["object"] for r in first["results"]] == [
            f"ConfigMap/{ns}/from-mcp",
            f"ConfigMap/{ns}/second",
        ]
        again = data(await mcp.call_tool("apply_manifest", {"manifest": manifest}))
        assert [r["action"] for r in again["results"]] == ["unchanged", "unchanged"]
        changed = data(
            await mcp.call_tool("apply_manifest", {"manifest": manifest.replace('"1"', '"2"')})
        )
        assert [r["action"] for r in changed["results"]] == ["configured", "unchanged"]
        assert (await kapi.get(kube, CONFIG_MAPS, ns, "from-mcp"))["data"] == {"a": "2"}

        managed = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "managed",
                "namespace": ns,
                "labels": {
                    "kustomize.toolkit.fluxcd.io/name": "apps",
                    "kustomize.toolkit.fluxcd.io/namespace": ns,
                },
            },
        }
        await create(kube, managed)
        refused = error(
            await mcp.call_tool(
                "apply_manifest",
                {"manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: managed}\n"},
            )
        )
        assert f"managed by Kustomization/{ns}/apps" in refused
        assert "allow_flux_managed" in refused
        refused = error(await mcp.call_tool("delete_resource", {"kind": "cm", "name": "managed"}))
        assert f"managed by Kustomization/{ns}/apps" in refused

        dry = data(
            await mcp.call_tool(
                "delete_resource", {"kind": "cm", "name": "from-mcp", "dry_run": True}
            )
        )
        assert dry["deleted"] is False
        assert await kapi.get(kube, CONFIG_MAPS, ns, "from-mcp")
        gone = data(await mcp.call_tool("delete_resource", {"kind": "cm", "name": "from-mcp"}))
        assert gone == {"object": f"ConfigMap/{ns}/from-mcp", "dryRun": False, "deleted": True}
        forced = data(
            await mcp.call_tool(
                "delete_resource", {"kind": "cm", "name": "managed", "allow_flux_managed": True}
            )
        )
        assert forced["deleted"] is True
        bad = error(await mcp.call_tool("apply_manifest", {"manifest": "kind: [unclosed"}))
        assert "not valid YAML" in bad


async def test_events_and_logs(kube: ApiClient, kubeconfig: str, namespace: str) -> None:
    async with connect(kubeconfig, namespace) as mcp:
        ns = namespace
        for i, (type_, reason) in enumerate((("Normal", "Started"), ("Warning", "BackOff"))):
            await kapi.create(
                kube,
                ResourceRef("", "v1", "events", True, "Event"),
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": f"ev-{i}", "namespace": ns},
                    "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": ns},
                    "type": type_,
                    "reason": reason,
                    "message": f"message {i}",
                    "lastTimestamp": f"2026-01-0{i + 1}T00:00:00Z",
                    "source": {"component": "kubelet"},
                },
            )
        found = data(await mcp.call_tool("get_events", {"kind": "pod", "name": "web-0"}))
        assert [e["reason"] for e in found["events"]] == ["BackOff", "Started"]  # newest first
        warnings = data(await mcp.call_tool("get_events", {"type": "Warning"}))
        assert [e["object"] for e in warnings["events"]] == ["Pod/web-0"]

        # A pod no node runs has no log yet, and the answer says why.
        await create(
            kube,
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "idle", "namespace": ns},
                "spec": {
                    "nodeSelector": {"weir.test/none": "x"},
                    "containers": [{"name": "main", "image": "example.invalid/idle:1"}],
                },
            },
        )
        logs = data(await mcp.call_tool("get_pod_logs", {"name": "idle"}))
        assert logs["lines"] == 0
        assert "Pending" in logs["note"]
        wrong = error(await mcp.call_tool("get_pod_logs", {"name": "idle", "container": "x"}))
        assert "choose one of main" in wrong


async def test_flux_read_tools_on_written_status(
    kube: ApiClient, kubeconfig: str, namespace: str
) -> None:
    async with connect(kubeconfig, namespace) as mcp:
        ns = namespace
        revision = "main@sha1:" + "a" * 40
        git = {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": ns},
            "spec": {"url": "https://example.invalid/fleet", "interval": "1m", "suspend": True},
        }
        await create(kube, git)
        await set_status(
            kube,
            git,
            {
                "conditions": [cond("Ready", "True", "Succeeded", "stored artifact")],
                "artifact": {
                    "revision": revision,
                    "digest": "sha256:" + "0" * 64,
                    "lastUpdateTime": "2026-01-02T03:04:05Z",
                    "path": "x",
                    "url": "http://127.0.0.1:1/x.tar.gz",
                },
            },
        )

        def ks(name: str, **spec: Any) -> Obj:
            return {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": name, "namespace": ns},
                "spec": {
                    "interval": "10m",
                    "prune": True,
                    "suspend": True,
                    "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                    **spec,
                },
            }

        infra = ks("infra", path="./infra")
        apps = ks("apps", path="./apps", dependsOn=[{"name": "infra"}, {"name": "ghost"}])
        for obj in (infra, apps):
            await create(kube, obj)
        await set_status(
            kube,
            infra,
            {
                "conditions": [
                    cond(
                        "Ready",
                        "False",
                        "BuildFailed",
                        "kustomize build failed: failed to decode Kubernetes YAML from "
                        "infra/broken.yaml: yaml: line 3: did not find expected key",
                    )
                ],
                "lastAttemptedRevision": revision,
                "lastAppliedRevision": "main@sha1:" + "b" * 40,
                "history": [
                    {
                        "digest": "sha256:" + "1" * 64,
                        "firstReconciled": "2026-01-02T03:04:05Z",
                        "lastReconciled": "2026-01-02T03:05:05Z",
                        "lastReconciledDuration": "1.2s",
                        "lastReconciledStatus": "ReconciliationSucceeded",
                        "totalReconciliations": 4,
                        "metadata": {"revision": "main@sha1:" + "b" * 40},
                    }
                ],
            },
        )
        await set_status(
            kube,
            apps,
            {
                "conditions": [
                    cond("Ready", "False", "DependencyNotReady", "dependency 'infra' is not ready")
                ]
            },
        )

        graph = data(await mcp.call_tool("get_dependency_graph", {}))
        assert f"GitRepository/{ns}/fleet -> Kustomization/{ns}/infra (source)" in graph["edges"]
        assert f"Kustomization/{ns}/infra -> Kustomization/{ns}/apps (dependsOn)" in graph["edges"]
        problems = {p["node"]: p for p in graph["problems"]}
        assert problems[f"Kustomization/{ns}/infra"]["rootCause"] is True
        assert sorted(problems[f"Kustomization/{ns}/apps"]["blockedBy"]) == [
            f"Kustomization/{ns}/ghost",
            f"Kustomization/{ns}/infra",
        ]
        assert problems[f"Kustomization/{ns}/ghost"]["problem"] == "referenced but not found"
        focused = data(await mcp.call_tool("get_dependency_graph", {"kind": "ks", "name": "infra"}))
        assert focused["scope"] == f"Kustomization/{ns}/infra"

        history = data(await mcp.call_tool("get_history", {"kind": "ks", "name": "infra"}))
        assert history["history"][0]["reconciliations"] == 4
        assert history["lastAttemptedRevision"] == revision
        source = data(await mcp.call_tool("get_history", {"kind": "gitrepo", "name": "fleet"}))
        assert source["artifact"]["revision"] == revision

        explained = data(await mcp.call_tool("explain_failure", {"kind": "ks", "name": "infra"}))
        assert explained["state"] == "suspended"
        assert explained["lastError"]["files"] == ["infra/broken.yaml"]
        assert explained["lastError"]["line"] == 3
        assert "did not find expected key" in explained["findings"][0]
        assert any("still runs revision" in f for f in explained["findings"])
        assert explained["sources"][0]["ready"] == "True"
        blocked = data(await mcp.call_tool("explain_failure", {"kind": "ks", "name": "apps"}))
        assert any("dependency" in f and "ghost" in f for f in blocked["findings"])
        assert any("infra" in f and "not ready" in f for f in blocked["findings"])

        # A plain object managed by a failing Kustomization: its manager is part of the answer.
        await create(
            kube,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": "settings",
                    "namespace": ns,
                    "labels": {
                        "kustomize.toolkit.fluxcd.io/name": "infra",
                        "kustomize.toolkit.fluxcd.io/namespace": ns,
                    },
                },
            },
        )
        plain = data(await mcp.call_tool("explain_failure", {"kind": "cm", "name": "settings"}))
        assert plain["managedBy"]["object"] == f"Kustomization/{ns}/infra"
        assert any("manager" in f for f in plain["findings"])

        overview = data(await mcp.call_tool("get_overview", {"namespace": ns}))
        ks_report = overview["kinds"]["Kustomization"]
        assert ks_report["counts"]["failing"] == 2
        assert {f["object"] for f in ks_report["failing"]} == {
            f"Kustomization/{ns}/infra",
            f"Kustomization/{ns}/apps",
        }
