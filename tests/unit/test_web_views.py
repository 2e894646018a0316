"""The views' pure parts: graph building and scoping, controller health, settings, the static
bundle's base path, the OpenAPI document, pods and selectors, artifact file names."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from starlette.requests import Request

from weir.actions.errors import ObjectNotFoundError
from weir.actions.health import unattended
from weir.errors import UsageError
from weir.types import Obj
from weir.web import status as st
from weir.web.api import ENDPOINTS
from weir.web.artifact import artifact_filename
from weir.web.cache import ViewCache, slim_event, slim_workload
from weir.web.graph import pipeline_graph
from weir.web.openapi import document
from weir.web.settings import WebSettings, normalize_base_path
from weir.web.static import StaticUI
from weir.web.workloads import label_selector, pod_row


def ks(name: str, ns: str = "ns", source: str = "repo", **spec: Any) -> Obj:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"sourceRef": {"kind": "GitRepository", "name": source}, **spec},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def inventory(obj: Obj, *ids: str) -> Obj:
    obj["status"]["inventory"] = {"entries": [{"id": i, "v": "v1"} for i in ids]}
    return obj


class StubCache:
    """What the graph reads of a ViewCache."""

    def __init__(self, objects: list[Obj], workloads: list[Obj]) -> None:
        self.objects = objects
        self.workloads = [st.workload_row(w) for w in workloads]
        self.rows = {st.flux_row(o)["key"]: st.flux_row(o) for o in objects}
        self.rows.update({w["key"]: w for w in self.workloads})

    def flux_objects(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o["kind"] == kind]

    def row(self, kind: str, namespace: str, name: str) -> Obj | None:
        return self.rows.get(st.key_of(kind, namespace, name))

    def workload_rows(self) -> list[Obj]:
        return self.workloads


def owned_deployment(name: str, owner: str) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": "ns",
            "labels": {
                "kustomize.toolkit.fluxcd.io/name": owner,
                "kustomize.toolkit.fluxcd.io/namespace": "ns",
            },
        },
        "spec": {"replicas": 1},
        "status": {},
    }


def test_graph_edges_and_scopes() -> None:
    repo = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "repo", "namespace": "ns"},
        "spec": {},
    }
    root = inventory(
        ks("root"), "ns_infra_kustomize.toolkit.fluxcd.io_Kustomization", "ns_cm__ConfigMap"
    )
    infra = ks("infra")
    apps = ks("apps", dependsOn=[{"name": "infra"}])
    other = ks("other", ns="elsewhere", source="gone")
    cache = StubCache([repo, root, infra, apps, other], [owned_deployment("web", "apps")])
    graph = pipeline_graph(cast(ViewCache, cache))
    edges = {(e["from"], e["to"], e["type"]) for e in graph["edges"]}
    assert edges == {
        ("GitRepository/ns/repo", "Kustomization/ns/root", "source"),
        ("GitRepository/ns/repo", "Kustomization/ns/infra", "source"),
        ("GitRepository/ns/repo", "Kustomization/ns/apps", "source"),
        ("Kustomization/ns/root", "Kustomization/ns/infra", "manages"),
        ("Kustomization/ns/infra", "Kustomization/ns/apps", "dependsOn"),
        ("Kustomization/ns/apps", "Deployment/ns/web", "manages"),
        ("GitRepository/elsewhere/gone", "Kustomization/elsewhere/other", "source"),
    }
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes["GitRepository/elsewhere/gone"]["status"] == "missing"
    assert nodes["Deployment/ns/web"]["view"] == "workload"
    assert "ConfigMap/ns/cm" not in nodes  # only pipeline kinds are drawn

    focus = pipeline_graph(cast(ViewCache, cache), focus="Kustomization/ns/infra")
    assert {n["id"] for n in focus["nodes"]} == {
        "GitRepository/ns/repo",
        "Kustomization/ns/root",
        "Kustomization/ns/infra",
        "Kustomization/ns/apps",
        "Deployment/ns/web",
    }
    scoped = pipeline_graph(cast(ViewCache, cache), namespace="elsewhere")
    assert {n["id"] for n in scoped["nodes"]} == {
        "GitRepository/elsewhere/gone",
        "Kustomization/elsewhere/other",
    }
    small = pipeline_graph(cast(ViewCache, cache), max_nodes=2)
    assert small["truncated"] is True
    assert len(small["nodes"]) == 2
    with pytest.raises(ObjectNotFoundError):  # issue 12.7: a 404 with a message, not []
        pipeline_graph(cast(ViewCache, cache), focus="Kustomization/ns/nope")
    with pytest.raises(UsageError):  # a 400
        pipeline_graph(cast(ViewCache, cache), focus="bad")


def test_unattended_objects() -> None:
    now = 1_000_000.0
    old = "1970-01-12T13:00:00Z"  # > 120 s before `now`
    fresh = "1970-01-12T13:46:30Z"  # 10 s before `now`
    obj: Obj = {
        "metadata": {"generation": 2, "creationTimestamp": old},
        "status": {"observedGeneration": 1},
    }
    assert unattended(obj, now)
    obj["metadata"]["creationTimestamp"] = fresh
    assert not unattended(obj, now)
    obj = {
        "metadata": {"generation": 1, "annotations": {"reconcile.fluxcd.io/requestedAt": old}},
        "status": {"observedGeneration": 1, "lastHandledReconcileAt": "earlier"},
    }
    assert unattended(obj, now)
    obj["status"]["lastHandledReconcileAt"] = old
    assert not unattended(obj, now)


def test_suspended_objects_are_not_unattended() -> None:
    """Issue 12.2: a suspended HelmRelease with generation > observedGeneration made the
    dashboard say "not reconciled for over 120s: is it running?" (Degraded)."""
    now = 1_000_000.0
    old = "1970-01-12T13:00:00Z"
    obj: Obj = {
        "kind": "HelmRelease",
        "metadata": {
            "generation": 3,
            "creationTimestamp": old,
            "annotations": {"reconcile.fluxcd.io/requestedAt": old},
        },
        "spec": {"suspend": True},
        "status": {"observedGeneration": 2, "lastHandledReconcileAt": "earlier"},
    }
    assert not unattended(obj, now)
    obj["spec"]["suspend"] = False
    assert unattended(obj, now)


def test_settings() -> None:
    assert normalize_base_path("") == ""
    assert normalize_base_path("/") == ""
    assert normalize_base_path("gitops/") == "/gitops"
    assert normalize_base_path("/ops/weir") == "/ops/weir"
    for bad in ("/a/../b", "/a b", "/a//b", "/<x>"):
        with pytest.raises(UsageError):
            normalize_base_path(bad)
    assert not WebSettings(addr="0").enabled
    assert WebSettings(base_path="x/").normalized().base_path == "/x"


def request(path: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": f"/{path}",
            "path_params": {"path": path},
            "headers": [],
        }
    )


async def test_static_bundle(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(
        '<html><head><base href="/" /><script src="./assets/a.js"></script></head></html>'
    )
    (tmp_path / "assets" / "a.js").write_text("js")
    (tmp_path.parent / "secret.txt").write_text("no")
    ui = StaticUI(tmp_path, "/ops")
    index = await ui.serve(request("resources/Kustomization/a/b"))
    assert index.status_code == 200
    assert b'<base href="/ops/">' in index.body
    assert (await ui.serve(request("assets/a.js"))).status_code == 200
    assert (await ui.serve(request("assets/missing.js"))).status_code == 404
    assert (await ui.serve(request("../secret.txt"))).status_code == 200  # the SPA, not the file
    assert b"<base" in (await ui.serve(request("../secret.txt"))).body
    missing = StaticUI(tmp_path / "nothing", "")
    assert b"scripts/build-ui.sh" in (await missing.serve(request(""))).body


def test_openapi_document() -> None:
    doc = document("/base")
    assert doc["servers"] == [{"url": "/base"}]
    assert {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops} == {
        (e.method, e.path) for e in ENDPOINTS
    }
    schemas = doc["components"]["schemas"]
    for e in ENDPOINTS:
        assert e.response in schemas, e.path
        op = doc["paths"][e.path][e.method.lower()]
        declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
        assert declared == {seg[1:-1] for seg in e.path.split("/") if seg.startswith("{")}


def test_selectors_pods_and_slimming() -> None:
    assert label_selector(None) is None
    assert (
        label_selector(
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["a", "b"]},
                    {"key": "x", "operator": "Exists"},
                    {"key": "y", "operator": "DoesNotExist"},
                ],
            }
        )
        == "app=web,tier in (a,b),x,!y"
    )
    pod = {
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "n1"},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {"name": "a", "ready": True, "restartCount": 1, "state": {"running": {}}},
                {
                    "name": "b",
                    "ready": False,
                    "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                },
            ],
        },
    }
    found = pod_row(pod)
    assert (found["status"], found["ready"], found["restarts"], found["reason"]) == (
        "failed",
        "1/2",
        5,
        "CrashLoopBackOff",
    )
    slim = slim_workload(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "d", "annotations": {"big": "x" * 1000}, "managedFields": [{}]},
            "spec": {
                "replicas": 2,
                "template": {
                    "metadata": {},
                    "spec": {"containers": [{"name": "c", "image": "i", "env": []}]},
                },
            },
            "status": {"readyReplicas": 2},
        }
    )
    assert slim["metadata"] == {"name": "d"}
    assert slim["spec"]["template"] == {"spec": {"containers": [{"name": "c", "image": "i"}]}}
    event = slim_event(
        {
            "metadata": {
                "name": "e",
                "annotations": {"kustomize.toolkit.fluxcd.io/revision": "r1", "other": "x"},
            },
            "involvedObject": {"kind": "Kustomization"},
            "reason": "R",
        }
    )
    assert event["metadata"]["annotations"] == {"kustomize.toolkit.fluxcd.io/revision": "r1"}


def test_artifact_filename() -> None:
    name = artifact_filename(
        "GitRepository", "ns", "repo", {"path": "gitrepository/ns/repo/ab c.tar.gz"}
    )
    assert name == "gitrepository-ns-repo-ab_c.tar.gz"
