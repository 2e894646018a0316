"""The web API against the real API server: filtering, pagination, detail, graph, workloads,
actions, artifact download, the OpenAPI document and the base path (no controllers run: the
demo fleet's status is written as a controller would)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import eventually
from weir.api import KINDS
from weir.artifact.local import LocalArtifacts
from weir.kube import apply
from weir.source.server import ArtifactServer
from weir.testing import seeded_fleet as demo
from weir.web.api import ENDPOINTS
from weir.web.service import WebUI
from weir.web.settings import WebSettings
from weir.web.standalone import running_ui

pytestmark = pytest.mark.usefixtures("flux_crds")
KS = KINDS["Kustomization"].resource
GIT = KINDS["GitRepository"].resource
HEADERS = {"X-Weir-Request": "1"}


@pytest.fixture(scope="module")
async def ui(kube: ApiClient, flux_crds: None) -> AsyncIterator[WebUI]:
    settings = WebSettings(addr="127.0.0.1:0", heartbeat=0.5, action_timeout=3.0)
    async with running_ui(kube, settings) as started:
        yield started


@pytest.fixture
async def http(ui: WebUI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=ui.url, timeout=10) as client:
        yield client


async def fleet(api: ApiClient, ui: WebUI, ns: str) -> None:
    await demo.populate(api, ns)

    def seen() -> bool:
        hr = ui.cache.row("HelmRelease", ns, "podinfo")
        dep = ui.cache.row("Deployment", ns, "podinfo")
        ks = ui.cache.row("Kustomization", ns, "apps")
        objects = sum(1 for r in ui.cache.flux_rows() if r["namespace"] == ns)
        # every demo object (a relist after a 429 can bring some later than others)
        return bool(hr and dep and ks and ks["status"] == "failed" and objects >= 6)

    await eventually(seen, "the demo fleet in the UI's cache")


async def get(http: httpx.AsyncClient, path: str, **params: Any) -> Any:
    resp = await http.get(path, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_list_filters_and_sorts(
    kube: ApiClient, ui: WebUI, http: httpx.AsyncClient, namespace: str
) -> None:
    await fleet(kube, ui, namespace)
    page = await get(http, "/api/v1/resources", namespace=namespace)
    keys = [r["key"] for r in page["items"]]
    assert page["total"] == 6
    assert f"Kustomization/{namespace}/apps" in keys
    assert page["counts"]["failed"] == 1
    assert page["counts"]["ready"] == 5

    by_kind = await get(http, "/api/v1/resources", namespace=namespace, kind="ks,hr")
    assert sorted(r["kind"] for r in by_kind["items"]) == [
        "HelmRelease",
        "Kustomization",
        "Kustomization",
    ]
    failed = await get(http, "/api/v1/resources", namespace=namespace, status="failed")
    assert [r["name"] for r in failed["items"]] == ["apps"]
    assert failed["items"][0]["reason"] == "BuildFailed"

    wild = await get(http, "/api/v1/resources", namespace=namespace, name="*INFO")
    assert {r["name"] for r in wild["items"]} == {"podinfo", f"{namespace}-podinfo"}
    sub = await get(http, "/api/v1/resources", namespace=namespace, name="fra")
    assert [r["name"] for r in sub["items"]] == ["infra"]
    ns_wild = await get(http, "/api/v1/resources", namespace=namespace[:4] + "*", name="infra")
    assert f"Kustomization/{namespace}/infra" in [r["key"] for r in ns_wild["items"]]

    urgent = await get(http, "/api/v1/resources", namespace=namespace, sort="status")
    assert urgent["items"][0]["name"] == "apps"

    hr = (await get(http, "/api/v1/resources", namespace=namespace, kind="HelmRelease"))["items"][0]
    assert hr["source"] == f"HelmChart/{namespace}/{namespace}-podinfo"
    assert hr["manager"] == f"Kustomization/{namespace}/apps"
    assert hr["revision"] == "6.5.0"

    favorites = await get(
        http,
        "/api/v1/resources",
        key=[f"Kustomization/{namespace}/infra", f"GitRepository/{namespace}/fleet"],
    )
    assert sorted(r["name"] for r in favorites["items"]) == ["fleet", "infra"]


async def test_bad_queries_are_400(http: httpx.AsyncClient) -> None:
    for params in ({"kind": "nope"}, {"status": "great"}, {"limit": "0"}, {"continue": "%%"}):
        resp = await http.get("/api/v1/resources", params=params)
        assert resp.status_code == 400, params
        assert resp.json()["status"] == 400
    assert (await http.get("/api/v1/nothing")).status_code == 404


async def test_pagination_walks_every_row_once(
    kube: ApiClient, ui: WebUI, http: httpx.AsyncClient, namespace: str
) -> None:
    await demo.bulk(kube, namespace, 45, failing_every=5)
    # the seeded statuses are written after the objects: wait until the cache has both
    await eventually(
        lambda: (
            len(
                [
                    r
                    for r in ui.cache.flux_rows(["Kustomization"])
                    if r["namespace"] == namespace and r["status"] != "unknown"
                ]
            )
            == 45
        ),
        "45 Kustomizations cached with their statuses",
    )
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"namespace": namespace, "kind": "ks", "limit": 10}
        if token:
            params["continue"] = token
        page = await get(http, "/api/v1/resources", **params)
        assert page["total"] == 45
        seen.extend(r["name"] for r in page["items"])
        pages += 1
        token = page["continue"]
        if token is None:
            break
    assert pages == 5
    assert seen == sorted(seen)
    assert len(set(seen)) == 45

    # Sorted by status, the failing ones (every 5th) come first, across pages too.
    first = await get(
        http, "/api/v1/resources", namespace=namespace, kind="ks", sort="status", limit=9
    )
    assert {r["status"] for r in first["items"]} == {"failed"}
    second = await get(
        http,
        "/api/v1/resources",
        namespace=namespace,
        kind="ks",
        sort="status",
        limit=9,
        **{"continue": first["continue"]},
    )
    assert [r["status"] for r in second["items"]] == ["ready"] * 9


async def test_detail_links_everything(
    kube: ApiClient, ui: WebUI, http: httpx.AsyncClient, namespace: str
) -> None:
    await fleet(kube, ui, namespace)
    ns = namespace
    apps = await get(http, f"/api/v1/resources/Kustomization/{ns}/apps")
    assert apps["row"]["status"] == "failed"
    assert apps["source"]["key"] == f"GitRepository/{ns}/fleet"
    assert apps["source"]["view"] == "resource"
    assert [d["key"] for d in apps["dependsOn"]] == [f"Kustomization/{ns}/infra"]
    assert apps["inventory"][0]["key"] == f"HelmRelease/{ns}/podinfo"
    assert apps["inventory"][0]["status"] == "ready"
    assert "reconcile" in apps["actions"]
    assert "suspend" in apps["actions"]
    assert "sourceRef:" in apps["yaml"]["spec"]
    assert "managedFields" not in apps["object"]["metadata"]

    infra = await get(http, f"/api/v1/resources/ks/{ns}/infra")
    assert [d["name"] for d in infra["dependents"]] == ["apps"]
    redis = next(i for i in infra["inventory"] if i["kind"] == "Deployment")
    assert redis["view"] == "workload"
    settings = next(i for i in infra["inventory"] if i["kind"] == "ConfigMap")
    assert settings["view"] is None

    hr = await get(http, f"/api/v1/resources/hr/{ns}/podinfo")
    assert hr["managers"][0]["key"] == f"Kustomization/{ns}/apps"
    assert hr["values"]["composed"] == {"replicaCount": 2, "ui": {"color": "#34577c"}}
    assert hr["history"][0]["chartVersion"] == "6.5.0"
    assert "reconcile-source" in hr["actions"]

    git = await get(http, f"/api/v1/resources/GitRepository/{ns}/fleet")
    assert git["artifact"]["revision"] == demo.REVISION
    assert "download" in git["actions"]

    missing = await http.get(f"/api/v1/resources/Kustomization/{ns}/nope")
    assert missing.status_code == 404


async def test_graph_and_workloads(
    kube: ApiClient, ui: WebUI, http: httpx.AsyncClient, namespace: str
) -> None:
    await fleet(kube, ui, namespace)
    ns = namespace
    graph = await get(http, "/api/v1/graph", namespace=ns)
    edges = {(e["from"], e["to"], e["type"]) for e in graph["edges"]}
    assert (f"GitRepository/{ns}/fleet", f"Kustomization/{ns}/apps", "source") in edges
    assert (f"Kustomization/{ns}/infra", f"Kustomization/{ns}/apps", "dependsOn") in edges
    assert (f"Kustomization/{ns}/apps", f"HelmRelease/{ns}/podinfo", "manages") in edges
    assert (f"HelmRepository/{ns}/charts", f"HelmChart/{ns}/{ns}-podinfo", "source") in edges
    assert (f"HelmChart/{ns}/{ns}-podinfo", f"HelmRelease/{ns}/podinfo", "source") in edges
    assert (f"HelmRelease/{ns}/podinfo", f"Deployment/{ns}/podinfo", "manages") in edges
    statuses = {n["id"]: n["status"] for n in graph["nodes"]}
    assert statuses[f"Kustomization/{ns}/apps"] == "failed"

    focus = await get(http, "/api/v1/graph", focus=f"HelmRelease/{ns}/podinfo")
    ids = {n["id"] for n in focus["nodes"]}
    assert f"Kustomization/{ns}/infra" in ids  # upstream through dependsOn
    assert f"Deployment/{ns}/podinfo" in ids  # downstream
    assert f"Deployment/{ns}/redis" not in ids  # a sibling, not on the path
    # issue 12.7: an unknown or malformed focus is an error with a message, not an empty graph
    unknown = await http.get("/api/v1/graph", params={"focus": f"Kustomization/{ns}/nope"})
    assert unknown.status_code == 404
    assert "not in the graph" in unknown.json()["error"]
    bad = await http.get("/api/v1/graph", params={"focus": "bad"})
    assert bad.status_code == 400
    assert "Kind/namespace/name" in bad.json()["error"]

    workloads = await get(http, "/api/v1/workloads", namespace=ns)
    assert {(r["kind"], r["name"], r["manager"]) for r in workloads["items"]} == {
        ("Deployment", "podinfo", f"HelmRelease/{ns}/podinfo"),
        ("Deployment", "redis", f"Kustomization/{ns}/infra"),
    }
    detail = await get(http, f"/api/v1/workloads/Deployment/{ns}/podinfo")
    # Pods exist (and become ready) only when the kwok tier (kube-controller-manager, kwok
    # nodes) already runs in this session, which depends on the order the tests ran in.
    assert detail["row"]["ready"] in ("0/2", "1/2", "2/2")
    assert all(p["name"].startswith("podinfo-") for p in detail["pods"])
    assert [m["key"] for m in detail["managers"]] == [
        f"HelmRelease/{ns}/podinfo",
        f"Kustomization/{ns}/apps",
    ]
    assert (await http.get(f"/api/v1/workloads/Deployment/{ns}/nope")).status_code == 404


async def test_actions_change_the_cluster(
    kube: ApiClient, ui: WebUI, http: httpx.AsyncClient, namespace: str
) -> None:
    await fleet(kube, ui, namespace)
    ns = namespace
    url = f"/api/v1/resources/Kustomization/{ns}/infra"
    refused = await http.post(f"{url}/suspend")
    assert refused.status_code == 403

    resp = await http.post(f"{url}/suspend", headers=HEADERS)
    assert resp.status_code == 200, resp.text
    assert resp.json()["row"]["status"] == "suspended"
    live = await apply.get(kube, KS, ns, "infra")
    assert live["spec"]["suspend"] is True
    conflict = await http.post(f"{url}/reconcile", headers=HEADERS)
    assert conflict.status_code == 409

    head = ui.changes.head
    resp = await http.post(f"{url}/resume", headers=HEADERS)
    assert resp.status_code == 202
    action_id = resp.json()["actionId"]
    live = await apply.get(kube, KS, ns, "infra")
    assert "suspend" not in live["spec"]
    token = live["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"]
    assert live["metadata"]["managedFields"][-1]["manager"] == "weir-web"

    # No controller runs in this tier: the wait ends in a timeout, reported on the stream.
    def outcome() -> dict[str, Any] | None:
        for change in ui.changes.since(head) or []:
            if change.type == "ACTION" and change.data["actionId"] == action_id:
                return dict(change.data)
        return None

    done = await eventually(outcome, "the resume outcome", timeout=10)
    assert done["result"] == "timeout"

    resp = await http.post(f"{url}/reconcile", headers=HEADERS)
    assert resp.status_code == 202
    live = await apply.get(kube, KS, ns, "infra")
    assert live["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"] != token

    unknown = await http.post(f"{url}/explode", headers=HEADERS)
    assert unknown.status_code == 404
    gone = await http.post(f"/api/v1/resources/Kustomization/{ns}/nope/suspend", headers=HEADERS)
    assert gone.status_code == 404

    await eventually(lambda: _has_web_action(http, url), "a WebAction event (audit)")


async def _has_web_action(http: httpx.AsyncClient, url: str) -> bool:
    items = (await get(http, f"{url}/events"))["items"]
    return any(e["reason"] == "WebAction" for e in items)


async def test_artifact_download(
    kube: ApiClient, ui: WebUI, http: httpx.AsyncClient, namespace: str, tmp_path: Path
) -> None:
    ns = namespace
    (tmp_path / "gitrepository" / ns / "fleet").mkdir(parents=True)
    payload = b"\x1f\x8b" + b"artifact-bytes" * 1000
    (tmp_path / "gitrepository" / ns / "fleet" / "abc.tar.gz").write_bytes(payload)
    server = ArtifactServer(str(tmp_path), "127.0.0.1", 0)
    await server.start()
    try:
        repo = demo.git_repository(ns, "fleet")
        art = demo.artifact(demo.REVISION, "fleet")
        art["url"] = f"http://{server.addr}/gitrepository/{ns}/fleet/abc.tar.gz"
        art["path"] = f"gitrepository/{ns}/fleet/abc.tar.gz"
        await demo.create(kube, repo, {"artifact": art})
        await eventually(
            lambda: ((ui.cache.get("GitRepository", ns, "fleet") or {}).get("status") or {}).get(
                "artifact"
            ),
            "the artifact in the cache",
        )
        resp = await http.get(f"/api/v1/resources/GitRepository/{ns}/fleet/artifact")
        assert resp.status_code == 200
        assert resp.content == payload
        assert "abc.tar.gz" in resp.headers["content-disposition"]
        notsource = await http.get(f"/api/v1/resources/Kustomization/{ns}/x/artifact")
        assert notsource.status_code in (400, 404)
    finally:
        await server.stop()


async def test_openapi_lists_every_endpoint(http: httpx.AsyncClient) -> None:
    doc = await get(http, "/api/openapi.json")
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == {(e.method, e.path) for e in ENDPOINTS}
    refs = {
        v.removeprefix("#/components/schemas/")
        for v in _refs(doc["paths"]) | _refs(doc["components"])
    }
    assert refs <= set(doc["components"]["schemas"])


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                found.add(v)
            else:
                found |= _refs(v)
    elif isinstance(node, list):
        for v in node:
            found |= _refs(v)
    return found


async def test_base_path(kube: ApiClient, ui: WebUI, namespace: str, tmp_path: Path) -> None:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text(
        '<!doctype html><html><head><base href="/"><script src="./assets/app.js"></script>'
        "</head><body></body></html>"
    )
    (static / "assets" / "app.js").write_text("console.log('weir')")
    settings = WebSettings(addr="127.0.0.1:0", base_path="gitops/", static_dir=static)
    async with running_ui(kube, settings, namespace=namespace, sync_timeout=30) as prefixed:
        assert prefixed.url.endswith("/gitops")
        root = prefixed.server.url
        async with httpx.AsyncClient(base_url=root, timeout=10) as client:
            resp = await client.get("/gitops/api/v1/resources")
            assert resp.status_code == 200
            assert resp.json()["items"] == []  # only this (empty) namespace is watched
            assert (await client.get("/api/v1/resources")).status_code != 200
            doc = (await client.get("/gitops/api/openapi.json")).json()
            assert doc["servers"] == [{"url": "/gitops"}]
            redirect = await client.get("/")
            assert redirect.status_code == 307
            assert redirect.headers["location"] == "/gitops/"
            deep = await client.get("/gitops/resources/Kustomization/a/b?tab=events")
            assert deep.status_code == 200
            assert '<base href="/gitops/">' in deep.text
            asset = await client.get("/gitops/assets/app.js")
            assert asset.text == "console.log('weir')"
            assert "immutable" in asset.headers["cache-control"]
            assert (await client.get("/gitops/assets/nope.js")).status_code == 404
            assert (await client.get("/gitops/../etc/passwd")).status_code in (200, 404)
            health = await client.get("/gitops/api/healthz")
            assert health.json()["ok"] is True


async def test_artifact_of_the_own_storage_is_read_from_disk(
    kube: ApiClient, namespace: str, tmp_path: Path
) -> None:
    """In ``weir run`` the UI serves its process's own artifacts from disk: with replicas
    behind one storage address, that address may reach a standby (nothing listens here)."""
    ns = namespace
    folder = tmp_path / "gitrepository" / ns / "fleet"
    folder.mkdir(parents=True)
    (folder / "abc.tar.gz").write_bytes(b"\x1f\x8bown-storage")
    local = LocalArtifacts()
    local.register("http://weir-storage.invalid:9090", tmp_path)
    settings = WebSettings(addr="127.0.0.1:0", heartbeat=0.5)
    ui = WebUI(kube, settings, local=local)
    await ui.start(30)
    try:
        art = demo.artifact(demo.REVISION, "fleet")
        art["url"] = f"http://weir-storage.invalid:9090/gitrepository/{ns}/fleet/abc.tar.gz"
        art["path"] = f"gitrepository/{ns}/fleet/abc.tar.gz"
        await demo.create(kube, demo.git_repository(ns, "fleet"), {"artifact": art})
        await eventually(
            lambda: ((ui.cache.get("GitRepository", ns, "fleet") or {}).get("status") or {}).get(
                "artifact"
            ),
            "the artifact in the cache",
        )
        async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
            resp = await http.get(f"/api/v1/resources/GitRepository/{ns}/fleet/artifact")
        assert resp.status_code == 200, resp.text
        assert resp.content == b"\x1f\x8bown-storage"
        assert "abc.tar.gz" in resp.headers["content-disposition"]
    finally:
        await ui.stop()
