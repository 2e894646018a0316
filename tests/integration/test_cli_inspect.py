"""`weir tree`, `trace`, `events`, `stats`, `export`, `check` and `version` in a subprocess
against the real API server, with a small fleet whose status is written as a controller would."""

from __future__ import annotations

import asyncio
import re

import pytest
import yaml
from kubernetes_asyncio.client import ApiClient

from tests.support import flux
from tests.support.cli import Watcher, weir
from weir.api import KINDS
from weir.kube import apply
from weir.kube.events import EventRecorder
from weir.kube.resources import ResourceRef

CONFIGMAPS = ResourceRef("", "v1", "configmaps", True, "ConfigMap")


@pytest.fixture
async def fleet(kube: ApiClient, namespace: str) -> str:
    await flux.install_crds(kube)
    await flux.populate(kube, namespace)
    return namespace


async def test_tree_and_trace(kubeconfig: str, fleet: str) -> None:
    ns = fleet
    text, as_json, traced, traced_json, unmanaged, not_tree = await asyncio.gather(
        weir("tree", "ks", "apps", "-n", ns, kubeconfig=kubeconfig),
        weir("tree", "kustomization", "apps", "-n", ns, "-o", "json", kubeconfig=kubeconfig),
        weir("trace", "configmap/podinfo", "-n", ns, kubeconfig=kubeconfig),
        weir("trace", "cm", "cfg", "-n", ns, "-o", "json", kubeconfig=kubeconfig),
        weir("trace", "namespace", ns, kubeconfig=kubeconfig),
        weir("tree", "gitrepo", "fleet", "-n", ns, kubeconfig=kubeconfig),
    )
    assert text.code == 0, text
    assert text.stdout == (
        f"Kustomization/{ns}/apps\n"
        f"├── Namespace/{ns}\n"
        f"├── ConfigMap/{ns}/settings\n"
        f"├── Kustomization/{ns}/infra\n"
        f"│   └── ConfigMap/{ns}/cfg\n"
        f"└── HelmRelease/{ns}/podinfo\n"
        f"    └── ConfigMap/{ns}/podinfo\n"
    )
    tree = as_json.json()
    assert tree["kind"] == "Kustomization"
    nested = {c["name"]: c for c in tree["children"]}
    assert nested["infra"]["children"][0]["name"] == "cfg"
    assert nested["podinfo"]["children"][0] == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "namespace": ns,
        "name": "podinfo",
        "children": [],
    }

    assert traced.code == 0, traced
    blocks = traced.stdout.split("---\n")
    assert blocks[0].startswith("ConfigMap:")
    assert blocks[1].startswith("HelmRelease:")
    assert "Helm install succeeded" in blocks[1]
    assert blocks[2].startswith("HelmChart:")
    assert re.search(r"^Revision: +6\.5\.0$", blocks[2], re.MULTILINE)
    assert blocks[3].startswith("HelmRepository:")
    assert blocks[4].startswith("Kustomization:")
    assert re.search(rf"^Revision: +{flux.REVISION}$", blocks[4], re.MULTILINE)
    assert blocks[5].startswith("GitRepository:")

    found = traced_json.json()
    assert found["object"]["kind"] == "ConfigMap"
    managers = [(m["kind"], m["name"], m["ready"]) for m in found["managers"]]
    assert managers == [("Kustomization", "infra", "False"), ("Kustomization", "apps", "True")]
    assert found["managers"][0]["sources"][0]["kind"] == "GitRepository"
    assert found["managers"][0]["path"] == "./infra"

    assert unmanaged.code == 1, unmanaged
    assert "is not managed by a Kustomization or HelmRelease" in unmanaged.stderr
    assert not_tree.code == 2, not_tree
    assert "Kustomizations (ks) and HelmReleases (hr)" in not_tree.stderr


async def test_events(kube: ApiClient, kubeconfig: str, fleet: str) -> None:
    ns = fleet
    recorder = EventRecorder(kube, "kustomize-controller")
    live_infra = await apply.get(kube, flux.resource(KINDS["Kustomization"]), ns, "infra")
    await recorder.warning(live_infra, "BuildFailed", "kustomize build failed: accumulating")
    live_cfg = await apply.get(kube, CONFIGMAPS, ns, "cfg")
    await recorder.normal(
        {**live_cfg, "apiVersion": "v1", "kind": "ConfigMap"}, "Configured", "ConfigMap configured"
    )
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": ns}}
    await recorder.normal(await flux.create(kube, other), "Noise", "not Flux-related")

    listed, for_json = await asyncio.gather(
        weir("events", "-n", ns, kubeconfig=kubeconfig),
        weir("events", "--for", "ks/infra", "-n", ns, "-o", "json", kubeconfig=kubeconfig),
    )
    assert listed.code == 0, listed
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert any("Kustomization/infra" in ln and "BuildFailed" in ln for ln in lines)
    assert any("ConfigMap/cfg" in ln and "Configured" in ln for ln in lines)
    assert not any("Noise" in ln for ln in lines)

    items = for_json.json()["items"]
    assert [e["reason"] for e in items] == ["BuildFailed"]

    async with Watcher("events", "-n", ns, "-w", "-o", "json", kubeconfig=kubeconfig) as w:
        await w.wait_for("BuildFailed")
        await recorder.warning(live_infra, "HealthCheckFailed", "timeout waiting for: Deployment")
        await w.wait_for("HealthCheckFailed")
        assert await w.interrupt() == 0


async def test_stats_and_export(kube: ApiClient, kubeconfig: str, fleet: str) -> None:
    ns = fleet
    paused = flux.git_repository(ns, "paused")
    paused["spec"]["suspend"] = True
    await flux.create(kube, paused)
    stats, table, one, every, as_json, refused = await asyncio.gather(
        weir("stats", "-n", ns, "-o", "json", kubeconfig=kubeconfig),
        weir("stats", "-n", ns, kubeconfig=kubeconfig),
        weir("export", "ks", "apps", "-n", ns, kubeconfig=kubeconfig),
        weir("export", "sources", "--all", "-n", ns, kubeconfig=kubeconfig),
        weir("export", "gitrepo", "--all", "-n", ns, "-o", "json", kubeconfig=kubeconfig),
        weir("export", "ks", "-n", ns, kubeconfig=kubeconfig),
    )
    counts = {c["kind"]: c for c in stats.json()}
    assert counts["Kustomization"] == {
        "kind": "Kustomization",
        "total": 2,
        "ready": 1,
        "failing": 1,
        "progressing": 0,
        "suspended": 0,
        "hasStatus": True,
    }
    assert counts["GitRepository"]["total"] == 2
    assert counts["GitRepository"]["suspended"] == 1
    assert counts["HelmRepository"]["progressing"] == 1
    assert table.stdout.splitlines()[0].split() == [
        "KIND",
        "TOTAL",
        "READY",
        "FAILING",
        "PROGRESSING",
        "SUSPENDED",
    ]

    assert one.code == 0, one
    assert one.stdout.startswith("---\n")
    (doc,) = list(yaml.safe_load_all(one.stdout))
    assert doc["metadata"] == {"name": "apps", "namespace": ns}
    assert "status" not in doc
    assert doc["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "fleet"}

    docs = list(yaml.safe_load_all(every.stdout))
    assert {(d["kind"], d["metadata"]["name"]) for d in docs} == {
        ("GitRepository", "fleet"),
        ("GitRepository", "paused"),
        ("HelmRepository", "charts"),
        ("HelmChart", f"{ns}-podinfo"),
    }
    for d in docs:
        assert set(d["metadata"]) <= {"name", "namespace", "labels", "annotations"}

    items = as_json.json()["items"]
    assert [i["metadata"]["name"] for i in items] == ["fleet", "paused"]
    assert refused.code == 2
    assert "--all" in refused.stderr


async def test_check_and_version(kube: ApiClient, kubeconfig: str) -> None:
    await flux.install_crds(kube)
    check, pre, version, client_only, no_cluster, completion = await asyncio.gather(
        weir("check", kubeconfig=kubeconfig),
        weir("check", "--pre", "-o", "json", kubeconfig=kubeconfig),
        weir("version", "-o", "json", kubeconfig=kubeconfig),
        weir("version", "--client"),
        weir("version", kubeconfig="/nonexistent/kubeconfig"),
        weir("completion", "bash"),
    )
    assert check.code == 0, check
    lines = check.stdout.splitlines()
    assert lines[0].startswith("✔ API server https://127.0.0.1:")
    assert "✔ kustomizations.kustomize.toolkit.fluxcd.io/v1" in lines
    assert "✔ can get, list, watch every Flux kind in all namespaces" in lines
    assert lines[-1] == "✔ all checks passed"

    report = pre.json()
    assert report["ok"] is True
    assert [c["check"] for c in report["checks"]] == ["api-server", "kubernetes-version"]

    data = version.json()
    assert data["client"]["version"]
    assert data["server"]["gitVersion"].startswith("v1.")
    assert client_only.stdout.startswith("weir ")
    assert "server" not in client_only.stdout

    assert no_cluster.code == 0, no_cluster
    assert "server: not reachable" in no_cluster.stdout

    assert completion.code == 0, completion
    assert "_WEIR_COMPLETE" in completion.stdout
