"""The notification controller against the real API server: Provider, Alert and Receiver
statuses; core/v1 Events reaching a loopback sink through Alerts (generic and Slack formats,
exclusion list, object annotations as metadata); Flux's event endpoint with its 429 for
duplicates; webhooks with a right and a wrong signature."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client import ApiClient

from tests.support.flux import REVISION, create, git_repository
from tests.support.notify_sink import Sink, serving
from tests.support.waiting import wait_for
from tests.unit.test_notification_payloads import SLACK_MESSAGE, TEAMS_MESSAGE, check
from weir.api.kinds import KINDS
from weir.devcluster.process import free_port
from weir.kube import apply
from weir.kube.events import EventRecorder
from weir.notification.settings import NotificationSettings
from weir.runtime.manager import Manager
from weir.runtime.settings import RunSettings

Obj = dict[str, Any]
NOTIFY = "notification.toolkit.fluxcd.io"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
GIT = KINDS["GitRepository"].resource


@dataclass
class Notification:
    manager: Manager
    namespace: str
    receiver_url: str
    events_url: str


@pytest.fixture(scope="module")
async def nc(kube: ApiClient, kubeconfig: str, flux_crds: None) -> AsyncIterator[Notification]:
    namespace = f"t-nc-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube)
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    receiver, events = free_port(), free_port()
    settings = RunSettings(
        controllers="notification",
        kubeconfig=kubeconfig,
        metrics_addr="0",
        health_addr="0",
        watch_namespace=namespace,
        min_retry_delay=0.2,
        graceful_shutdown_timeout=2.0,
        features=(
            NotificationSettings(
                receiver_addr=f"127.0.0.1:{receiver}",
                events_addr=f"127.0.0.1:{events}",
                retry_wait_min=0.05,
            ),
        ),
    )
    manager = Manager(settings)
    task = asyncio.create_task(manager.run())
    try:
        async with asyncio.timeout(60):
            while not (manager.ready()[0] and manager.leading):
                assert not task.done(), task
                await asyncio.sleep(0.05)
        yield Notification(
            manager, namespace, f"http://127.0.0.1:{receiver}", f"http://127.0.0.1:{events}"
        )
    finally:
        manager.request_stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await core.delete_namespace(namespace)


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with serving() as s:
        yield s


def notification(kind: str, namespace: str, name: str, spec: Obj) -> Obj:
    version = "v1" if kind == "Receiver" else "v1beta3"
    return {
        "apiVersion": f"{NOTIFY}/{version}",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


async def secret(kube: ApiClient, namespace: str, name: str, **data: str) -> None:
    await create(
        kube,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        },
    )


def ready_is(status: str, reason: str | None = None) -> Callable[[Obj], bool]:
    def check(obj: Obj) -> bool:
        conds = (obj.get("status") or {}).get("conditions") or []
        ready = next((c for c in conds if c["type"] == "Ready"), None)
        if ready is None or ready["status"] != status:
            return False
        if reason is not None and ready["reason"] != reason:
            return False
        generation = obj["metadata"]["generation"]
        return status != "True" or obj["status"].get("observedGeneration") == generation

    return check


def condition(obj: Obj, kind: str = "Ready") -> Obj:
    return next(c for c in obj["status"]["conditions"] if c["type"] == kind)


# ------------------------------------------------------------------------------- statuses
async def test_provider_status(kube: ApiClient, nc: Notification) -> None:
    ns, res = nc.namespace, KINDS["Provider"].resource
    cases: dict[str, tuple[Obj, str, bool]] = {
        "malformed": ({"type": "slack", "address": "not a url"}, "ValidationFailed", True),
        "unsupported": (
            {"type": "sentry", "address": "https://x.example"},
            "ValidationFailed",
            True,
        ),
        "no-secret": (
            {"type": "generic", "secretRef": {"name": "missing"}},
            "TokenNotFound",
            False,
        ),
        "no-token": (
            {"type": "github", "address": "https://github.com/o/r"},
            "TokenNotFound",
            True,
        ),
    }
    for name, (spec, _, _) in cases.items():
        await create(kube, notification("Provider", ns, name, spec))
    await create(
        kube,
        notification(
            "Provider", ns, "good", {"type": "generic", "address": "http://127.0.0.1:9/x"}
        ),
    )
    for name, (_, reason, stalled) in cases.items():
        obj = await wait_for(kube, res, ns, name, ready_is("False", reason), f"{name} not ready")
        assert (
            any(
                c["type"] == "Stalled" and c["status"] == "True"
                for c in obj["status"]["conditions"]
            )
            == stalled
        ), name
    unsupported = await apply.get(kube, res, ns, "unsupported")
    assert "not supported by weir" in condition(unsupported)["message"]
    good = await wait_for(kube, res, ns, "good", ready_is("True"), "good provider ready")
    assert condition(good)["message"] == "Initialized"


async def test_alert_waits_for_its_provider(kube: ApiClient, nc: Notification) -> None:
    ns, res = nc.namespace, KINDS["Alert"].resource
    spec = {
        "providerRef": {"name": "later"},
        "eventSources": [{"kind": "GitRepository", "name": "*"}],
    }
    await create(kube, notification("Alert", ns, "waiting", spec))
    await wait_for(kube, res, ns, "waiting", ready_is("False", "DependencyNotReady"), "alert waits")
    await create(
        kube,
        notification(
            "Provider", ns, "later", {"type": "generic", "address": "http://127.0.0.1:9/"}
        ),
    )
    await wait_for(kube, res, ns, "waiting", ready_is("True"), "alert ready once the provider is")
    bad = {**spec, "exclusionList": ["(unclosed"]}
    await create(kube, notification("Alert", ns, "bad-regex", bad))
    obj = await wait_for(kube, res, ns, "bad-regex", ready_is("False", "ValidationFailed"), "bad")
    assert "exclusionList[0]" in condition(obj)["message"]


# --------------------------------------------------------------------------------- alerts
async def test_events_reach_alerts(kube: ApiClient, nc: Notification, sink: Sink) -> None:
    ns = nc.namespace
    await secret(kube, ns, "hook-address", address=f"{sink.url}/generic", headers="X-Team: web\n")
    await create(
        kube,
        notification(
            "Provider", ns, "generic", {"type": "generic", "secretRef": {"name": "hook-address"}}
        ),
    )
    await create(
        kube,
        notification(
            "Provider",
            ns,
            "slack",
            {"type": "slack", "address": f"{sink.url}/slack", "channel": "ops"},
        ),
    )
    await create(
        kube,
        notification("Provider", ns, "teams", {"type": "msteams", "address": f"{sink.url}/teams"}),
    )
    sources = [{"kind": "GitRepository", "name": "*"}]
    await create(
        kube,
        notification(
            "Alert",
            ns,
            "teams",
            {"providerRef": {"name": "teams"}, "eventSeverity": "error", "eventSources": sources},
        ),
    )
    await create(
        kube,
        notification(
            "Alert",
            ns,
            "all",
            {
                "providerRef": {"name": "generic"},
                "eventSources": sources,
                "eventMetadata": {"cluster": "test"},
            },
        ),
    )
    await create(
        kube,
        notification(
            "Alert",
            ns,
            "errors-to-slack",
            {
                "providerRef": {"name": "slack"},
                "eventSeverity": "error",
                "eventSources": [{"kind": "GitRepository", "name": "app"}],
                "exclusionList": ["waiting.*socket"],
                "summary": "test cluster",
            },
        ),
    )
    for name in ("generic", "slack", "teams"):
        await wait_for(kube, KINDS["Provider"].resource, ns, name, ready_is("True"), name)
    repo = git_repository(ns, "app")
    repo["metadata"]["annotations"] = {"event.toolkit.fluxcd.io/team": "platform"}
    repo = await create(kube, repo)
    recorder = EventRecorder(kube, "source-controller")
    meta = {"source.toolkit.fluxcd.io/revision": REVISION}
    await recorder.warning(repo, "GitOperationFailed", "SSH: error waiting on socket", meta)
    await recorder.warning(repo, "GitOperationFailed", "authentication required", meta)
    await recorder.normal(repo, "NewArtifact", "stored artifact for revision", meta)

    slack = await sink.wait_for(lambda r: r.path == "/slack")
    check(SLACK_MESSAGE, slack.json())  # Slack's documented schema
    attachment = slack.json()["attachments"][0]
    assert attachment["text"] == "authentication required"  # the socket error was excluded
    assert attachment["color"] == "danger"
    assert attachment["author_name"] == f"gitrepository/app.{ns}"
    fields = {f["title"]: f["value"] for f in attachment["fields"]}
    assert fields == {"revision": REVISION, "summary": "test cluster", "team": "platform"}
    assert slack.json()["channel"] == "ops"

    teams = await sink.wait_for(lambda r: r.path == "/teams" and b"authentication" in r.body)
    check(TEAMS_MESSAGE, teams.json())  # an Adaptive Card as Teams workflows take it
    items = teams.json()["attachments"][0]["content"]["body"][0]["items"]
    assert items[0]["text"] == f"gitrepository/app.{ns}"
    assert items[1]["text"] == "authentication required"

    stored = await sink.wait_for(lambda r: r.path == "/generic" and b"stored" in r.body)
    generic = stored.json()
    assert generic["involvedObject"]["kind"] == "GitRepository"
    assert generic["severity"] == "info"
    assert generic["reportingController"] == "source-controller"
    assert generic["metadata"] == {"revision": REVISION, "team": "platform", "cluster": "test"}
    generic_requests = [r for r in sink.requests if r.path == "/generic"]
    assert len(generic_requests) == 3  # info alert: every event
    assert all(r.headers["X-Team"] == "web" for r in generic_requests)
    assert len([r for r in sink.requests if r.path == "/slack"]) == 1


async def test_flux_event_endpoint(kube: ApiClient, nc: Notification, sink: Sink) -> None:
    ns = nc.namespace
    await create(
        kube,
        notification(
            "Provider", ns, "endpoint", {"type": "generic", "address": f"{sink.url}/flux"}
        ),
    )
    await create(
        kube,
        notification(
            "Alert",
            ns,
            "endpoint",
            {
                "providerRef": {"name": "endpoint"},
                "eventSources": [{"kind": "Kustomization", "name": "posted"}],
            },
        ),
    )
    await wait_for(kube, KINDS["Provider"].resource, ns, "endpoint", ready_is("True"), "provider")
    event = {
        "involvedObject": {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "name": "posted",
            "namespace": ns,
        },
        "severity": "info",
        "timestamp": "2024-05-01T12:00:00Z",
        "message": "Reconciliation finished",
        "reason": "ReconciliationSucceeded",
        "metadata": {"kustomize.toolkit.fluxcd.io/revision": REVISION},
        "reportingController": "kustomize-controller",
    }
    async with httpx.AsyncClient(timeout=10) as http:
        assert (
            await http.post(nc.events_url + "/", content=orjson.dumps(event))
        ).status_code == 202
        assert (
            await http.post(nc.events_url + "/", content=orjson.dumps(event))
        ).status_code == 429
        assert (await http.post(nc.events_url + "/", content=b"{")).status_code == 400
    got = await sink.wait_for(lambda r: r.path == "/flux")
    assert got.json()["metadata"] == {"revision": REVISION}


# ------------------------------------------------------------------------------- receivers
def signed(body: bytes, token: str) -> dict[str, str]:
    return {"X-Signature": "sha256=" + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()}


async def test_receiver(kube: ApiClient, nc: Notification) -> None:
    ns, token = nc.namespace, "t0ken-for-webhooks"
    await secret(kube, ns, "webhook-token", token=token)
    for name, labels in (("hooked", {}), ("team-a", {"team": "a"}), ("team-b", {"team": "b"})):
        repo = git_repository(ns, name)
        repo["metadata"]["labels"] = labels
        await create(kube, repo)
    spec = {
        "type": "generic-hmac",
        "secretRef": {"name": "webhook-token"},
        "resources": [
            {"kind": "GitRepository", "name": "hooked"},
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "name": "*",
                "matchLabels": {"team": "a"},
            },
        ],
    }
    await create(kube, notification("Receiver", ns, "push", spec))
    receiver = await wait_for(
        kube, KINDS["Receiver"].resource, ns, "push", ready_is("True"), "receiver"
    )
    path = "/hook/" + hashlib.sha256(f"{token}push{ns}".encode()).hexdigest()
    assert receiver["status"]["webhookPath"] == path
    assert condition(receiver)["message"] == f"Receiver initialised for path: {path}"

    body = b'{"ref": "refs/heads/main"}'
    async with httpx.AsyncClient(base_url=nc.receiver_url, timeout=10) as http:
        assert (await http.post("/hook/" + "0" * 64, content=body)).status_code == 404
        wrong = await http.post(path, content=body, headers=signed(body, "not-the-token"))
        assert wrong.status_code == 401
        assert (await http.post(path, content=body)).status_code == 401
        for name in ("hooked", "team-a", "team-b"):
            obj = await apply.get(kube, GIT, ns, name)
            assert REQUESTED_AT not in (obj["metadata"].get("annotations") or {}), name
        ok = await http.post(path, content=body, headers=signed(body, token))
        assert ok.status_code == 200, ok.text
        # a body arriving in pieces (large payloads, slow links) is read whole before the
        # signature is checked: a partial read would not match and be refused (a bug Gitea's
        # 6 kB push payloads found)
        big = orjson.dumps({"ref": "refs/heads/main", "padding": "x" * 200_000})

        async def pieces() -> AsyncIterator[bytes]:
            for i in range(0, len(big), 50_000):
                yield big[i : i + 50_000]
                await asyncio.sleep(0.05)

        slow = await http.post(path, content=pieces(), headers=signed(big, token))
        assert slow.status_code == 200, slow.text
        too_big = b"{" + b" " * (5 << 20) + b"}"
        assert (await http.post(path, content=too_big)).status_code == 413
    annotated = {
        name: (await apply.get(kube, GIT, ns, name))["metadata"]
        .get("annotations", {})
        .get(REQUESTED_AT)
        for name in ("hooked", "team-a", "team-b")
    }
    assert annotated["hooked"]
    assert annotated["team-a"]
    assert annotated["team-b"] is None


async def test_receiver_resource_filter(kube: ApiClient, nc: Notification) -> None:
    ns, token = nc.namespace, "another-t0ken"
    await secret(kube, ns, "filter-token", token=token)
    for name in ("frontend", "backend"):
        repo = git_repository(ns, name)
        repo["metadata"]["labels"] = {"tier": "web"}
        await create(kube, repo)
    spec = {
        "type": "generic",
        "secretRef": {"name": "filter-token"},
        "resources": [{"kind": "GitRepository", "name": "*", "matchLabels": {"tier": "web"}}],
        "resourceFilter": "res.metadata.name in req.changed",
    }
    await create(kube, notification("Receiver", ns, "filtered", spec))
    receiver = await wait_for(
        kube, KINDS["Receiver"].resource, ns, "filtered", ready_is("True"), "receiver"
    )
    async with httpx.AsyncClient(base_url=nc.receiver_url, timeout=10) as http:
        answer = await http.post(receiver["status"]["webhookPath"], json={"changed": ["backend"]})
        assert answer.status_code == 200, answer.text
    backend = await apply.get(kube, GIT, ns, "backend")
    frontend = await apply.get(kube, GIT, ns, "frontend")
    assert REQUESTED_AT in backend["metadata"]["annotations"]
    assert REQUESTED_AT not in (frontend["metadata"].get("annotations") or {})

    await create(
        kube, notification("Receiver", ns, "bad-filter", {**spec, "resourceFilter": "res.("})
    )
    bad = await wait_for(
        kube,
        KINDS["Receiver"].resource,
        ns,
        "bad-filter",
        ready_is("False", "InvalidCELExpression"),
        "bad filter",
    )
    assert "does not compile" in condition(bad)["message"]


async def test_receiver_without_its_secret(kube: ApiClient, nc: Notification) -> None:
    ns = nc.namespace
    spec = {
        "type": "github",
        "secretRef": {"name": "nope"},
        "resources": [{"kind": "GitRepository", "name": "x"}],
    }
    await create(kube, notification("Receiver", ns, "no-secret", spec))
    obj = await wait_for(
        kube,
        KINDS["Receiver"].resource,
        ns,
        "no-secret",
        ready_is("False", "TokenNotFound"),
        "no secret",
    )
    assert "webhookPath" not in obj["status"]
