"""The operator in local mode against a real API server: a FluxInstance drives weir's
controllers in the operator's process (``make up``'s case).

Each test runs ``weir run --controllers=operator`` in-process with ``--watch-namespace`` set
to the test's namespace (the operator's namespace), so the controllers it starts see only
that namespace's objects.
"""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_asyncio import client
from mcp import Client

from tests.support.cli import weir
from tests.support.operator import (
    INSTANCES,
    REPORTS,
    condition,
    failed_with,
    gone,
    instance,
    ready,
    runner_of,
    scrape,
    wait_until,
)
from tests.support.waiting import wait_for
from weir.api.kinds import KINDS
from weir.kube import apply as kapi
from weir.kube.errors import ApiError
from weir.kube.resources import CONFIG_MAPS
from weir.mcp import McpSettings, build_server
from weir.operator.instance.distribution import FLUX_VERSION
from weir.operator.report.build import CRDS
from weir.runtime.manager import Manager
from weir.testing.controllers import running_operator
from weir.testing.gitserver import GitHttpServer

Obj = dict[str, Any]
MANAGER = "test"
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: synced
  namespace: {namespace}
data:
  from: git
"""


def _group(manager: Manager, name: str) -> Any:
    return runner_of(manager).groups.get(name)


async def _apply(kube: client.ApiClient, obj: Obj) -> Obj:
    return await kapi.apply(kube, obj, MANAGER, force=True)


async def _patch_spec(kube: client.ApiClient, namespace: str, spec: Obj) -> Obj:
    return await kapi.patch(kube, INSTANCES, namespace, "flux", {"spec": spec})


async def _wait_instance(
    kube: client.ApiClient, namespace: str, check: Any, what: str, timeout: float = 90.0
) -> Obj:
    return await wait_for(kube, INSTANCES, namespace, "flux", check, what, timeout)


async def _secret(kube: client.ApiClient, namespace: str, name: str, data: dict[str, str]) -> None:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "data": encoded,
    }
    await _apply(kube, body)


async def test_an_instance_runs_syncs_resizes_and_uninstalls(
    kube: client.ApiClient, kubeconfig: str, flux_crds: None, namespace: str, tmp_path: Path
) -> None:
    with GitHttpServer(tmp_path / "git", basic_auth=("git", "hunter2-secret")) as server:
        repo = server.create_repo("fleet.git", default_branch="main")
        repo.commit({"deploy/configmap.yaml": CONFIGMAP.format(namespace=namespace)}, "fleet")
        await _secret(
            kube, namespace, "git-auth", {"username": "git", "password": "hunter2-secret"}
        )
        spec = {
            "distribution": {"version": "2.x", "registry": "ghcr.io/fluxcd"},
            "components": ["source-controller", "kustomize-controller", "helm-controller"],
            "cluster": {"size": "medium"},
            "sync": {
                "kind": "GitRepository",
                "url": repo.url,
                "ref": "refs/heads/main",
                "path": "deploy",
                "pullSecret": "git-auth",
                "interval": "1m",
            },
        }
        await _apply(kube, instance(namespace, spec))
        async with running_operator(
            kubeconfig, tmp_path / "storage", namespace, watch_namespace=namespace
        ) as manager:
            got = await _wait_instance(kube, namespace, ready, "the instance Ready")
            status = got["status"]
            assert condition(got)["reason"] == "ReconciliationSucceeded"
            assert condition(got)["message"].startswith("Reconciliation finished in ")
            assert status["lastAppliedRevision"].startswith(f"v{FLUX_VERSION}@sha256:")
            assert status["lastAttemptedRevision"] == status["lastAppliedRevision"]
            assert [c["name"] for c in status["components"]] == spec["components"]
            ids = {e["id"] for e in status["inventory"]["entries"]}
            assert f"{namespace}_kustomize-controller-settings__ConfigMap" in ids
            assert f"{namespace}_{namespace}_source.toolkit.fluxcd.io_GitRepository" in ids
            assert f"{namespace}_{namespace}_kustomize.toolkit.fluxcd.io_Kustomization" in ids
            assert not [i for i in ids if i.endswith("_apps_Deployment")], "local: in-process"
            assert status["history"][0]["lastReconciledStatus"] == "ReconciliationSucceeded"
            assert status["history"][0]["metadata"] == {"flux": f"v{FLUX_VERSION}"}
            assert {n["field"] for n in status["notApplicable"]} >= {
                "spec.migrateResources",
                "spec.distribution.registry",
            }

            # the sync source and Kustomization were created and synced the repository
            await wait_for(
                kube,
                CONFIG_MAPS,
                namespace,
                "synced",
                lambda o: o["data"] == {"from": "git"},
                "the ConfigMap from Git",
            )

            # weir get instance, as a user runs it
            listed = await weir("get", "instance", "-n", namespace, kubeconfig=kubeconfig)
            assert listed.code == 0, listed
            header, row = (re.split(r"\s{3,}", ln.strip()) for ln in listed.stdout.splitlines())
            assert header[:4] == ["NAME", "REVISION", "SUSPENDED", "READY"]
            assert row[:4] == ["flux", status["lastAppliedRevision"], "False", "True"]
            exported = await weir(
                "get", "report", "flux", "-n", namespace, "-o", "yaml", kubeconfig=kubeconfig
            )
            assert exported.code == 0, exported
            assert yaml.safe_load(exported.stdout)["kind"] == "FluxReport"
            suspended = await weir(
                "suspend", "instance", "flux", "-n", namespace, kubeconfig=kubeconfig
            )
            assert suspended.code == 0, suspended
            got = await kapi.get(kube, INSTANCES, namespace, "flux")
            annotations = got["metadata"]["annotations"]
            assert annotations["fluxcd.controlplane.io/reconcile"] == "disabled"
            resumed = await weir(
                "resume", "instance", "flux", "-n", namespace, kubeconfig=kubeconfig
            )
            assert resumed.code == 0, resumed

            # three groups run in this process, with the medium profile
            runner = runner_of(manager)
            assert sorted(runner.states()) == [
                "helm-controller",
                "kustomize-controller",
                "source-controller",
            ]
            kustomize = _group(manager, "kustomize-controller")
            [ks_controller] = kustomize.controllers
            assert ks_controller.queue.workers == 10

            # size medium -> large: 20 workers, live, the same controller object
            before = status["lastAppliedRevision"]
            await _patch_spec(kube, namespace, {"cluster": {"size": "large"}})
            await _wait_instance(
                kube,
                namespace,
                lambda o: ready(o) and o["status"]["lastAppliedRevision"] != before,
                "the large profile applied",
            )
            assert _group(manager, "kustomize-controller") is kustomize
            assert kustomize.controllers == [ks_controller]
            assert ks_controller.queue.workers == 20
            assert kustomize.state.starts == 1, "resized, not restarted"
            assert _group(manager, "source-controller").state.workers == 10

            # helm-controller removed: its controllers stop, its objects are collected
            helm = _group(manager, "helm-controller")
            await _patch_spec(
                kube, namespace, {"components": ["source-controller", "kustomize-controller"]}
            )
            got = await _wait_instance(
                kube,
                namespace,
                lambda o: ready(o) and len(o["status"]["components"]) == 2,
                "helm-controller removed",
            )
            assert "helm-controller" not in runner.states()
            assert not helm.state.running
            assert all(c.queue.shutting_down for c in helm.controllers)
            assert await gone(kube, "ConfigMap", namespace, "helm-controller-settings")
            assert await gone(kube, "ServiceAccount", namespace, "helm-controller")
            assert not [
                i
                for i in (e["id"] for e in got["status"]["inventory"]["entries"])
                if "helm-controller" in i
            ]

            # the report, field by field
            report = await _fresh_report(kube, namespace)
            spec_r = report["spec"]
            assert spec_r["distribution"] == {
                "status": "Installed",
                "managedBy": "weir",
                "version": f"v{FLUX_VERSION}",
            }
            assert [c["name"] for c in spec_r["components"]] == [
                "kustomize-controller",
                "source-controller",
            ]
            for component in spec_r["components"]:
                assert component["ready"] is True
                assert component["image"].endswith("(in-process)")
                assert component["status"].startswith("Current running in-process")
            by_kind = {r["kind"]: r for r in spec_r["reconcilers"]}
            assert by_kind["GitRepository"]["apiVersion"] == "source.toolkit.fluxcd.io/v1"
            git_stats = by_kind["GitRepository"]["stats"]
            assert git_stats["running"] >= 1
            assert git_stats["suspended"] == 0
            assert git_stats["totalSize"].endswith(("B", "KiB", "MiB"))
            assert "totalSize" not in by_kind["Kustomization"]["stats"]
            assert spec_r["sync"]["id"] == f"kustomization/{namespace}"
            assert spec_r["sync"]["path"] == "deploy"
            assert spec_r["sync"]["source"] == repo.url
            assert spec_r["sync"]["ready"] is True
            assert spec_r["sync"]["status"].startswith("Applied revision: refs/heads/main@sha1:")
            assert spec_r["operator"]["apiVersion"] == "fluxcd.controlplane.io/v1"
            assert spec_r["cluster"]["serverVersion"].startswith("v1.")
            assert isinstance(spec_r["cluster"]["nodes"], int)
            assert condition(report)["message"].startswith("Reporting finished in ")

            # MCP: get_flux_instance, through the SDK's client
            settings = McpSettings(kubeconfig=kubeconfig, namespace=namespace)
            async with Client(build_server(settings)) as mcp:
                result = await mcp.call_tool("get_flux_instance", {})
            assert not result.is_error
            answer = result.structured_content
            assert isinstance(answer, dict)
            instances = answer.get("instances") or [answer["instance"]]
            reports = answer.get("reports") or [answer["report"]]
            [mine] = [i for i in instances if i["metadata"]["namespace"] == namespace]
            assert mine["spec"]["components"] == ["source-controller", "kustomize-controller"]
            assert "managedFields" not in mine["metadata"]
            [my_report] = [r for r in reports if r["metadata"]["namespace"] == namespace]
            assert my_report["spec"]["distribution"]["managedBy"] == "weir"

            # the metrics, parsed with Prometheus' parser
            metrics = await scrape(manager)
            [info] = [
                s for s in metrics["flux_instance_info"] if s["exported_namespace"] == namespace
            ]
            assert info["name"] == "flux"
            assert info["kind"] == "FluxInstance"
            assert info["ready"] == "True"
            assert info["reason"] == "ReconciliationSucceeded"
            assert info["registry"] == "ghcr.io/fluxcd"
            assert info["revision"].startswith(f"v{FLUX_VERSION}@sha256:")
            [ks_info] = [
                s
                for s in metrics["flux_resource_info"]
                if s["kind"] == "Kustomization" and s["exported_namespace"] == namespace
            ]
            assert ks_info["source_name"] == namespace
            assert ks_info["path"] == "deploy"
            assert ks_info["ready"] == "True"
            assert ks_info["revision"].startswith("refs/heads/main@sha1:")
            [git_info] = [
                s
                for s in metrics["flux_resource_info"]
                if s["kind"] == "GitRepository" and s["exported_namespace"] == namespace
            ]
            assert (git_info["url"], git_info["ref"]) == (repo.url, "refs/heads/main")

            # uninstall: the controllers stop, the sync objects go, what they applied stays
            await kapi.delete(kube, INSTANCES, namespace, "flux")
            await wait_until(
                lambda: gone(kube, "Kustomization", namespace, namespace), "sync objects gone"
            )
            await wait_until(lambda: not runner.states(), "the groups stopped")
            assert await gone(kube, "GitRepository", namespace, namespace)
            assert not await gone(kube, "ConfigMap", namespace, "synced"), "workloads stay"
            crd = await kapi.get(kube, CRDS, None, KINDS["Kustomization"].crd_name)
            assert crd["metadata"]["annotations"]["fluxcd.controlplane.io/prune"] == "disabled"


async def _fresh_report(kube: client.ApiClient, namespace: str) -> Obj:
    """The report once it shows a Ready sync (asking for a new one while it does not)."""

    async def check() -> Obj | None:
        report = await kapi.get(kube, REPORTS, namespace, "flux")
        sync = (report.get("spec") or {}).get("sync") or {}
        if sync.get("ready") and len(report["spec"].get("components") or []) == 2:
            return report
        stamp = uuid.uuid4().hex
        await kapi.patch(
            kube,
            REPORTS,
            namespace,
            "flux",
            {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": stamp}}},
        )
        await asyncio.sleep(0.5)
        return None

    result: Obj = await wait_until(check, "a report with the synced Kustomization", 90)
    return result


async def test_bad_input_leaves_the_running_controllers_as_they_were(
    kube: client.ApiClient, kubeconfig: str, flux_crds: None, namespace: str, tmp_path: Path
) -> None:
    good: Obj = {
        "distribution": {"version": "2.x", "registry": "ghcr.io/fluxcd"},
        "components": ["source-controller", "kustomize-controller"],
        "cluster": {"size": "small"},
    }
    await _apply(kube, instance(namespace, good))
    async with running_operator(
        kubeconfig, tmp_path / "storage", namespace, watch_namespace=namespace
    ) as manager:
        await _wait_instance(kube, namespace, ready, "the good instance Ready")
        runner = runner_of(manager)
        groups = dict(runner.groups)
        controllers = {n: list(g.controllers) for n, g in groups.items()}
        workers = {n: g.state.workers for n, g in groups.items()}

        def unchanged() -> None:
            assert dict(runner.groups) == groups
            for name, group in groups.items():
                assert group.state.running
                assert group.controllers == controllers[name]
                assert group.state.workers == workers[name]

        cases: list[tuple[Obj, str, list[str]]] = [
            (
                {"distribution": {"version": "3.x", "registry": "ghcr.io/fluxcd"}},
                "ArtifactFailed",
                ["no weir release implements a Flux version in '3.x'", "e.g. '2.x'"],
            ),
            (
                {"components": ["source-controller", "image-reflector-controller"]},
                "BuildFailed",
                ["image-reflector-controller is not part of this weir release", "remove it"],
            ),
            (
                {
                    "kustomize": {
                        "patches": [
                            {
                                "target": {"kind": "Deployment", "name": "source-controller"},
                                "patch": "- op: replace\n  path: /spec/nope/nope\n  value: 1\n",
                            }
                        ]
                    }
                },
                "BuildFailed",
                ["spec.kustomize.patches do not apply", "fix the patch or its target"],
            ),
            (
                {
                    "kustomize": {
                        "patches": [
                            {
                                "target": {
                                    "kind": "ConfigMap",
                                    "name": "kustomize-controller-settings",
                                },
                                "patch": "- op: replace\n  path: /data/concurrent\n  value: lots\n",
                            }
                        ]
                    }
                },
                "BuildFailed",
                ["concurrent must be a positive integer, not 'lots'"],
            ),
            (
                {
                    "sync": {
                        "kind": "GitRepository",
                        "url": "http://127.0.0.1:9/nowhere.git",
                        "ref": "refs/heads/main",
                        "path": "deploy",
                    }
                },
                "HealthCheckFailed",
                [
                    f"sync source GitRepository/{namespace}/{namespace} is not ready",
                    "spec.sync.url",
                ],
            ),
        ]
        for change, reason, words in cases:
            await _apply(kube, instance(namespace, {**good, **change}))
            got = await _wait_instance(
                kube, namespace, failed_with(reason), f"Ready=False {reason}"
            )
            message = condition(got)["message"]
            for word in words:
                assert word in message, message
            unchanged()
            await _apply(kube, instance(namespace, good))
            await _wait_instance(kube, namespace, ready, f"Ready again after {reason}")
            unchanged()

        # an invalid size never reaches the operator: the API server refuses it, saying why
        with pytest.raises(ApiError) as err:
            await _patch_spec(kube, namespace, {"cluster": {"size": "huge"}})
        assert err.value.code == 422
        assert 'supported values: "small", "medium", "large"' in str(err.value)
        unchanged()


async def test_one_instance_per_cluster(
    kube: client.ApiClient, kubeconfig: str, flux_crds: None, namespace: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    labels = {"weir.test/operator": run}
    spec = {
        "distribution": {"version": "2.x", "registry": "ghcr.io/fluxcd"},
        "components": ["source-controller"],
        "commonMetadata": {"labels": labels},
    }
    other = f"{namespace}-other"
    core = client.CoreV1Api(kube)
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    try:
        await _apply(kube, instance(namespace, spec, labels))
        async with running_operator(
            kubeconfig,
            tmp_path / "storage",
            namespace,
            watch_label_selector=f"weir.test/operator={run}",
        ) as manager:
            await _wait_instance(kube, namespace, ready, "the first instance Ready")
            group = _group(manager, "source-controller")
            await _apply(kube, instance(other, spec, labels))
            got = await wait_for(
                kube,
                INSTANCES,
                other,
                "flux",
                failed_with("ReconciliationFailed"),
                "the second instance refused",
            )
            assert condition(got, "Stalled")["status"] == "True"
            message = condition(got)["message"]
            assert "only one FluxInstance per cluster" in message
            assert f"{namespace}/flux" in message
            first = await kapi.get(kube, INSTANCES, namespace, "flux")
            assert ready(first)
            assert _group(manager, "source-controller") is group
            assert group.state.running
            await kapi.delete(kube, INSTANCES, other, "flux")
            await wait_until(lambda: _instance_gone(kube, other), "the refused instance deleted")
            assert group.state.running, "deleting the refused one uninstalls nothing"
    finally:
        await core.delete_namespace(other)


async def _instance_gone(kube: client.ApiClient, namespace: str) -> bool:
    try:
        await kapi.get(kube, INSTANCES, namespace, "flux")
    except ApiError:
        return True
    return False


async def test_two_shards_reconcile_only_their_labelled_objects(
    kube: client.ApiClient,
    kubeconfig: str,
    flux_crds: None,
    namespace: str,
    tmp_path: Path,
    git_server: GitHttpServer,
) -> None:
    repo = git_server.create_repo(f"shards-{uuid.uuid4().hex[:6]}.git", default_branch="main")
    repo.commit({"README": "shards"}, "init")
    spec = {
        "distribution": {"version": "2.x", "registry": "ghcr.io/fluxcd"},
        "components": ["source-controller"],
        "sharding": {"shards": ["shard1", "shard2"]},
    }
    await _apply(kube, instance(namespace, spec))
    async with running_operator(
        kubeconfig, tmp_path / "storage", namespace, watch_namespace=namespace
    ) as manager:
        await _wait_instance(kube, namespace, ready, "the sharded instance Ready")
        runner = runner_of(manager)
        assert sorted(runner.states()) == [
            "source-controller",
            "source-controller-shard1",
            "source-controller-shard2",
        ]
        gits = KINDS["GitRepository"].resource
        for name, shard in (("one", "shard1"), ("two", "shard2"), ("main", None)):
            labels = {"sharding.fluxcd.io/key": shard} if shard else {}
            await _apply(
                kube,
                {
                    "apiVersion": "source.toolkit.fluxcd.io/v1",
                    "kind": "GitRepository",
                    "metadata": {"name": name, "namespace": namespace, "labels": labels},
                    "spec": {"interval": "10m", "url": repo.url, "ref": {"branch": "main"}},
                },
            )
        ports = {}
        for name in ("one", "two", "main"):
            got = await wait_for(kube, gits, namespace, name, ready, f"GitRepository {name}")
            ports[name] = got["status"]["artifact"]["url"].split("/")[2]

        def served_by(unit: str) -> str:
            ctx = runner.groups[unit].ctx
            assert ctx is not None
            storage = next(s for s in ctx.services if hasattr(s, "storage"))
            return str(storage.storage.base_url).split("/")[2]

        assert ports["one"] == served_by("source-controller-shard1")
        assert ports["two"] == served_by("source-controller-shard2")
        assert ports["main"] == served_by("source-controller")
        assert len(set(ports.values())) == 3

        def cached(unit: str) -> set[str]:
            [controller] = [c for c in runner.groups[unit].controllers if c.kind == "GitRepository"]
            return {o["metadata"]["name"] for o in controller.informer.list()}

        assert cached("source-controller-shard1") == {"one"}
        assert cached("source-controller-shard2") == {"two"}
        assert cached("source-controller") == {"main"}
