"""Every read of the web UI as the signed-in user's RBAC allows, against the real API server:
a user bound to ``flux-web-user`` in one namespace sees that namespace only (lists, counts,
namespaces, graph, events, workloads, the live stream) and gets 403 for another; a user bound
to nothing sees a "limited access" dashboard; ``flux-web-user`` everywhere sees everything and
may act on nothing; ``flux-web-admin`` acts, and its action is audited.

Identities come from an authenticating proxy's headers here (the quickest way to be many
users); the OIDC tests sign in through Gitea and end in the same code."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiClient

from tests.integration.test_web_api import HEADERS, KS, fleet
from tests.integration.test_web_sse import messages
from tests.support.rbac import bind, binding_seen, grant_kustomizations, install_web_roles
from tests.support.waiting import eventually
from weir.actions.workloads import JOBS, RESTARTABLE
from weir.auth.users import AuthSettings
from weir.auth.webconfig import parse_web_config
from weir.kube import apply
from weir.kube.events import EVENTS
from weir.testing import seeded_fleet as demo
from weir.web.service import WebUI
from weir.web.settings import WebSettings
from weir.web.standalone import running_ui

pytestmark = pytest.mark.usefixtures("flux_crds")
USER_HEADER = "X-Auth-Request-User"


@pytest.fixture(scope="module")
async def ui(kube: ApiClient) -> AsyncIterator[WebUI]:
    await install_web_roles(kube)
    auth = AuthSettings(mode="proxy", proxy_user_header=USER_HEADER)
    settings = WebSettings(
        addr="127.0.0.1:0", heartbeat=0.3, action_timeout=2.0, auth=auth, access_ttl=0.5
    )
    async with running_ui(kube, settings) as started:
        yield started


@pytest.fixture
async def other_namespace(kube: ApiClient) -> AsyncIterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(kube)
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        await core.delete_namespace(name)


def as_user(user: str, *groups: str) -> dict[str, str]:
    return {**HEADERS, USER_HEADER: user, "X-Forwarded-Groups": ",".join(groups)}


async def flux_event(api: ApiClient, ns: str, name: str, reason: str) -> None:
    await apply.create(
        api,
        EVENTS,
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{name}.{uuid.uuid4().hex[:8]}", "namespace": ns},
            "involvedObject": {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "name": name,
                "namespace": ns,
            },
            "reason": reason,
            "message": f"{reason} in {ns}",
            "type": "Normal",
            "source": {"component": "kustomize-controller"},
            "firstTimestamp": demo.now(),
            "lastTimestamp": demo.now(),
            "count": 1,
        },
    )


async def get(http: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    resp = await http.get(path, params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def two_fleets(kube: ApiClient, ui: WebUI, eth: str, other: str) -> None:
    await fleet(kube, ui, eth)
    await fleet(kube, ui, other)
    await flux_event(kube, eth, "infra", "ReconciliationSucceeded")
    await flux_event(kube, other, "infra", "ReconciliationSucceeded")
    await eventually(
        lambda: {e["metadata"]["namespace"] for e in ui.cache.all_events()} >= {eth, other},
        "both Events cached",
    )


async def test_a_namespace_user_sees_that_namespace_only(
    kube: ApiClient, ui: WebUI, namespace: str, other_namespace: str
) -> None:
    eth, other = namespace, other_namespace
    await two_fleets(kube, ui, eth, other)
    group = f"eth-{eth}"
    await bind(kube, "flux-web-user", group, eth)
    await binding_seen(ui, f"dana-{eth}", group, eth)
    me = as_user(f"dana-{eth}", group)
    async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
        everything = await get(http, "/api/v1/resources", me, limit=1000)
        assert {r["namespace"] for r in everything["items"]} == {eth}
        assert everything["total"] == 6
        assert (await get(http, "/api/v1/namespaces", me))["items"] == [eth]
        workloads = await get(http, "/api/v1/workloads", me, limit=1000)
        assert workloads["items"]
        assert {r["namespace"] for r in workloads["items"]} == {eth}

        overview = await get(http, "/api/v1/overview", me)
        assert overview["totals"]["total"] == 6
        assert overview["access"] == {"filtered": True, "limited": False, "namespaces": [eth]}
        assert {e["object"].split("/")[1] for e in overview["feed"]} == {eth}

        graph = await get(http, "/api/v1/graph", me)
        assert {n["namespace"] for n in graph["nodes"]} == {eth}
        events = await get(http, "/api/v1/events", me)
        assert {e["namespace"] for e in events["items"]} == {eth}
        detail = await get(http, f"/api/v1/resources/Kustomization/{eth}/infra", me)
        assert detail["allowed"] == dict.fromkeys(detail["actions"], False)

        # By name, another namespace is a 403 in the API server's words, not an empty answer.
        for path, params in (
            (f"/api/v1/resources/Kustomization/{other}/infra", {}),
            (f"/api/v1/resources/Kustomization/{other}/infra/events", {}),
            (f"/api/v1/workloads/Deployment/{other}/podinfo", {}),
            ("/api/v1/resources", {"namespace": other}),
            ("/api/v1/events", {"namespace": other}),
            ("/api/v1/graph", {"namespace": other}),
            ("/api/v1/graph", {"focus": f"Kustomization/{other}/infra"}),
        ):
            refused = await http.get(path, params=params, headers=me)
            assert refused.status_code == 403, (path, refused.text)
            assert f'User "dana-{eth}" cannot' in refused.json()["error"]
            assert f'namespace "{other}"' in refused.json()["error"]
        # flux-web-user reads; it has no custom verb, so no action.
        act = await http.post(f"/api/v1/resources/Kustomization/{eth}/infra/suspend", headers=me)
        assert act.status_code == 403
        assert "suspend" in act.json()["error"]
        assert "suspend" not in (await apply.get(kube, KS, eth, "infra"))["spec"]


async def test_the_live_stream_carries_only_visible_changes(
    kube: ApiClient, ui: WebUI, namespace: str, other_namespace: str
) -> None:
    eth, other = namespace, other_namespace
    await two_fleets(kube, ui, eth, other)
    group = f"eth-{eth}"
    await bind(kube, "flux-web-user", group, eth)
    await binding_seen(ui, f"erin-{eth}", group, eth)
    me = as_user(f"erin-{eth}", group)
    seen: list[str] = []
    async with (
        httpx.AsyncClient(base_url=ui.url, timeout=20) as http,
        http.stream("GET", "/api/v1/stream", headers=me) as resp,
    ):
        stream = messages(resp)
        assert (await anext(stream)).event == "hello"
        await apply.patch(kube, KS, other, "infra", {"metadata": {"labels": {"x": "1"}}})
        await apply.patch(kube, KS, eth, "infra", {"metadata": {"labels": {"x": "1"}}})

        async def until_eth() -> None:
            async for msg in stream:
                if msg.event == "changes":
                    seen.extend(c["key"] for c in msg.data["changes"])
                    if f"Kustomization/{eth}/infra" in seen:
                        return

        await asyncio.wait_for(until_eth(), 10)
    assert f"Kustomization/{other}/infra" not in seen
    assert {k.split("/")[1] for k in seen} == {eth}

    async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
        head = (await get(http, "/api/v1/changes", me, since="x"))["head"]
        await apply.patch(kube, KS, other, "infra", {"metadata": {"labels": {"x": "2"}}})
        await apply.patch(kube, KS, eth, "infra", {"metadata": {"labels": {"x": "2"}}})

        async def polled() -> list[str]:
            body = await get(http, "/api/v1/changes", me, since=head)
            return [c["key"] for c in body["changes"]]

        keys = await eventually(polled, "the change in the polling fallback")
        assert {k.split("/")[1] for k in keys} == {eth}


async def test_nobody_sees_a_limited_dashboard(kube: ApiClient, ui: WebUI, namespace: str) -> None:
    await fleet(kube, ui, namespace)
    me = as_user(f"nobody-{namespace}")
    async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
        overview = await get(http, "/api/v1/overview", me)
        assert overview["access"]["limited"] is True
        assert overview["totals"]["total"] == 0
        assert (await get(http, "/api/v1/resources", me))["total"] == 0
        assert (await get(http, "/api/v1/graph", me))["nodes"] == []
        assert (await get(http, "/api/v1/namespaces", me))["items"] == []


async def test_viewers_read_everything_and_admins_act(
    kube: ApiClient, ui: WebUI, namespace: str, other_namespace: str
) -> None:
    eth, other = namespace, other_namespace
    await two_fleets(kube, ui, eth, other)
    viewers, admins = f"viewers-{eth}", f"admins-{eth}"
    await bind(kube, "flux-web-user", viewers)
    await bind(kube, "flux-web-admin", admins)
    viewer, admin = as_user(f"vic-{eth}", viewers), as_user(f"ada-{eth}", admins)
    infra = f"/api/v1/resources/Kustomization/{eth}/infra"
    async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
        seen = await get(http, "/api/v1/resources", viewer, namespace=[eth, other], limit=1000)
        assert {r["namespace"] for r in seen["items"]} == {eth, other}
        shown = await get(http, infra, viewer)
        assert shown["allowed"] == dict.fromkeys(shown["actions"], False)
        refused = await http.post(f"{infra}/suspend", headers=viewer)
        assert refused.status_code == 403

        shown = await get(http, infra, admin)
        assert shown["allowed"] == dict.fromkeys(shown["actions"], True)
        assert set(shown["actions"]) == {"reconcile", "reconcile-source", "suspend"}
        done = await http.post(f"{infra}/suspend", headers=admin)
        assert done.status_code == 200, done.text
        assert (await apply.get(kube, KS, eth, "infra"))["spec"]["suspend"] is True

        async def audited() -> list[Any]:
            found = await get(http, "/api/v1/events", viewer, namespace=eth, reason="WebAction")
            return list(found["items"])

        await eventually(audited, "the WebAction Event in the UI")
        event = (await audited())[0]
        assert event["user"] == f"ada-{eth}"
        assert event["object"] == f"Kustomization/{eth}/infra"
        assert f"by ada-{eth}" in event["message"]
        stored = [
            e
            for e in ui.cache.all_events()
            if e.get("reason") == "WebAction" and e["metadata"]["namespace"] == eth
        ]
        annotations = stored[0]["metadata"]["annotations"]
        assert annotations["event.toolkit.fluxcd.io/action"] == "suspend"
        assert annotations["event.toolkit.fluxcd.io/groups"] == admins
        # ... and the admin's deployment restart runs as the admin.
        restart = await http.post(
            f"/api/v1/workloads/Deployment/{eth}/podinfo/restart", headers=admin
        )
        assert restart.status_code == 200, restart.text
        deployment = await apply.get(kube, RESTARTABLE["Deployment"], eth, "podinfo")
        template = deployment["spec"]["template"]["metadata"]["annotations"]
        assert "kubectl.kubernetes.io/restartedAt" in template
        # Downloading an artifact needs the verb download (the seeded artifact server does
        # not exist: past the check, the admin gets the artifact server's failure, not 403).
        artifact = f"/api/v1/resources/GitRepository/{eth}/fleet/artifact"
        assert (await http.get(artifact, headers=viewer)).status_code == 403
        assert (await http.get(artifact, headers=admin)).status_code != 403
        refused = await http.post(
            f"/api/v1/workloads/Deployment/{eth}/podinfo/restart", headers=viewer
        )
        assert refused.status_code == 403
        assert json.loads(refused.text)["error"].startswith(f'User "vic-{eth}" cannot restart')


async def test_workload_logs_and_run_job_as_the_user(
    kube: ApiClient, ui: WebUI, namespace: str
) -> None:
    """A CronJob's job run by an admin (and refused to a viewer), the log endpoint as each
    user (no pods run in this tier: an empty answer, not an error)."""
    ns = namespace
    await fleet(kube, ui, ns)
    await kapi_apply_cronjob(kube, ns)
    admins, viewers = f"job-admins-{ns}", f"job-viewers-{ns}"
    await bind(kube, "flux-web-admin", admins, ns)
    await bind(kube, "flux-web-user", viewers, ns)
    await binding_seen(ui, "ann", admins, ns)
    await binding_seen(ui, "val", viewers, ns)
    admin, viewer = as_user("ann", admins), as_user("val", viewers)
    await eventually(lambda: ui.cache.row("CronJob", ns, "export"), "the CronJob cached")
    async with httpx.AsyncClient(base_url=ui.url, timeout=10) as http:
        shown = await get(http, f"/api/v1/workloads/CronJob/{ns}/export", viewer)
        assert shown["allowed"] == {"run-job": False, "logs": True}
        shown = await get(http, f"/api/v1/workloads/CronJob/{ns}/export", admin)
        assert shown["allowed"] == {"run-job": True, "logs": True}
        refused = await http.post(f"/api/v1/workloads/CronJob/{ns}/export/run-job", headers=viewer)
        assert refused.status_code == 403
        ran = await http.post(f"/api/v1/workloads/CronJob/{ns}/export/run-job", headers=admin)
        assert ran.status_code == 200, ran.text
        job = await apply.get(kube, JOBS, ns, ran.json()["job"])
        assert job["metadata"]["ownerReferences"][0]["name"] == "export"
        assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
        # Whether pods run depends on the tier's nodes (kwok's serve no logs): either none, or
        # one error per container naming it, never a failed request.
        logs = await get(http, f"/api/v1/workloads/Deployment/{ns}/podinfo/logs", viewer)
        assert logs["lines"] == []
        assert len(logs["errors"]) == len(logs["containers"])
        assert all(e.startswith("podinfo-") for e in logs["errors"])
        bad = await http.get(
            f"/api/v1/workloads/Deployment/{ns}/podinfo/logs",
            params={"tailLines": "0"},
            headers=viewer,
        )
        assert bad.status_code == 400


async def kapi_apply_cronjob(kube: ApiClient, ns: str) -> None:
    await apply.apply(
        kube,
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {
                "name": "export",
                "namespace": ns,
                "labels": {
                    "kustomize.toolkit.fluxcd.io/name": "apps",
                    "kustomize.toolkit.fluxcd.io/namespace": ns,
                },
            },
            "spec": {
                "schedule": "0 3 * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [{"name": "cryo", "image": "example.invalid/cryo:1"}],
                            }
                        }
                    }
                },
            },
        },
        "weir-test",
        force=True,
    )


async def test_fine_grained_actions_need_only_the_custom_verb(
    kube: ApiClient, namespace: str
) -> None:
    """``userActions.access: FineGrained``: a role with the verb ``suspend`` and no ``patch``
    is enough (weir patches); without the verb, nothing."""
    ns = namespace
    config = parse_web_config(
        {
            "apiVersion": "web.fluxcd.controlplane.io/v1",
            "kind": "Config",
            "spec": {"userActions": {"access": "FineGrained"}},
        }
    )
    auth = AuthSettings(mode="proxy", proxy_user_header=USER_HEADER, config=config)
    settings = WebSettings(addr="127.0.0.1:0", heartbeat=0.5, auth=auth, access_ttl=0.5)
    group = f"suspenders-{ns}"
    await grant_kustomizations(kube, ns, group, ["get", "list", "suspend"], name="suspend-only")
    async with running_ui(kube, settings) as fine:
        await fleet(kube, fine, ns)
        await binding_seen(fine, "fay", group, ns)
        infra = f"/api/v1/resources/Kustomization/{ns}/infra"
        async with httpx.AsyncClient(base_url=fine.url, timeout=10) as http:
            done = await http.post(f"{infra}/suspend", headers=as_user("fay", group))
            assert done.status_code == 200, done.text
            assert (await apply.get(kube, KS, ns, "infra"))["spec"]["suspend"] is True
            refused = await http.post(f"{infra}/resume", headers=as_user("fay", group))
            assert refused.status_code == 403
            assert "cannot resume" in refused.json()["error"]
