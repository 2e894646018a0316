"""Notifications end to end with real peers: Gitea (push webhooks, commit statuses), a loopback
HTTP sink standing for Slack, Prometheus Alertmanager, and weir's source, kustomize, helm and
notification controllers.

- a push to Gitea reaches the cluster through a Receiver (Gitea's own webhook, signed);
  a webhook with the wrong secret is refused (401) and reconciles nothing;
- a failing HelmRelease gives a Slack-format payload in the sink and a failure commit status
  in Gitea on the commit its chart came from; an Alert's exclusion list keeps the failure
  from its provider;
- an error reaches the real Alertmanager as a firing alert.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import wait_for
from weir.api.kinds import lookup
from weir.devcluster.process import free_port
from weir.kube import apply as kapi
from weir.kube.events import EventRecorder
from weir.notification.settings import NotificationSettings
from weir.runtime import conditions
from weir.runtime.manager import Manager
from weir.testing.alertmanager import AlertmanagerServer
from weir.testing.chartrepo import write_chart
from weir.testing.controllers import running_controllers
from weir.testing.gitea import GiteaRepo, GiteaUser
from weir.testing.sink import HttpSink, SinkRequest

Obj = dict[str, Any]
pytestmark = pytest.mark.usefixtures("controllers")

GIT = lookup("GitRepository").resource
KS = lookup("Kustomization").resource
HR = lookup("HelmRelease").resource
RECEIVER = lookup("Receiver").resource
PROVIDER = lookup("Provider").resource
MANAGER = "weir-e2e"
NOTIFY = "notification.toolkit.fluxcd.io"


@dataclass
class NotificationController:
    manager: Manager
    receiver_url: str

    def requests(self, code: str) -> float:
        registry = self.manager.metrics.registry
        total = 0.0
        for kind in ("github", "gitea"):
            value = registry.get_sample_value(
                "weir_receiver_requests_total", {"type": kind, "code": code}
            )
            total += value or 0.0
        return total


@pytest.fixture(scope="module")
async def notifications(
    kubeconfig: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[NotificationController]:
    """The notification controller in its own manager (as a separate ``weir run`` would be),
    next to the session's source, kustomize and helm controllers."""
    port = free_port()
    async with running_controllers(
        kubeconfig,
        tmp_path_factory.mktemp("nc-storage"),
        "notification",
        notification=NotificationSettings(receiver_addr=f"127.0.0.1:{port}", retry_wait_min=0.1),
    ) as manager:
        yield NotificationController(manager, f"http://127.0.0.1:{port}")


async def create(api: ApiClient, obj: Obj) -> Obj:
    return await kapi.apply(api, obj, MANAGER, force=True)


async def secret(api: ApiClient, ns: str, name: str, **data: str) -> None:
    await create(
        api,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": ns},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        },
    )


def notification(kind: str, ns: str, name: str, spec: Obj) -> Obj:
    return {
        "apiVersion": f"{NOTIFY}/{'v1' if kind == 'Receiver' else 'v1beta3'}",
        "kind": kind,
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def git_repository(ns: str, repo: GiteaRepo) -> Obj:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "fleet", "namespace": ns},
        "spec": {"url": repo.clone_url, "interval": "1h", "ref": {"branch": repo.default_branch}},
    }


def applied(sha: str) -> Callable[[Obj], bool]:
    def check(obj: Obj) -> bool:
        revision = str((obj.get("status") or {}).get("lastAppliedRevision") or "")
        return sha in revision and conditions.is_true(obj, "Ready")

    return check


def ready(obj: Obj) -> bool:
    return conditions.is_true(obj, "Ready")


def configmap(version: int) -> dict[str, str | bytes | None]:
    return {
        "app/cm.yaml": (
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  v: '{version}'\n"
        )
    }


async def sink_wait(
    sink: HttpSink, predicate: Callable[[SinkRequest], bool], timeout: float = 60
) -> SinkRequest:
    return await asyncio.to_thread(sink.wait_for, predicate, timeout)


# ---------------------------------------------------------------------------- webhooks in
async def test_a_gitea_push_reaches_the_cluster_through_a_receiver(
    kube: ApiClient,
    namespace: str,
    gitea_repo: GiteaRepo,
    notifications: NotificationController,
) -> None:
    api, ns = kube, namespace
    first = await asyncio.to_thread(gitea_repo.commit, configmap(1), "v1")
    await create(api, git_repository(ns, gitea_repo))
    await create(
        api,
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "app", "namespace": ns},
            "spec": {
                "interval": "1h",
                "prune": True,
                "path": "./app",
                "targetNamespace": ns,
                "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            },
        },
    )
    await wait_for(api, KS, ns, "app", applied(first), "first sync", timeout=90)

    # Flux's documented way for Gitea: a `github` Receiver (Gitea sends GitHub's headers too)
    token = uuid.uuid4().hex
    await secret(api, ns, "webhook-token", token=token)
    await create(
        api,
        notification(
            "Receiver",
            ns,
            "gitea-push",
            {
                "type": "github",
                "events": ["push"],
                "secretRef": {"name": "webhook-token"},
                "resources": [{"kind": "GitRepository", "name": "fleet"}],
            },
        ),
    )
    receiver = await wait_for(api, RECEIVER, ns, "gitea-push", ready, "receiver ready")
    url = notifications.receiver_url + receiver["status"]["webhookPath"]

    # A webhook signed with another secret: refused, nothing reconciled.
    refused_before = notifications.requests("401")
    await asyncio.to_thread(gitea_repo.create_webhook, url, secret="not-the-token")
    second = await asyncio.to_thread(gitea_repo.commit, configmap(2), "v2")
    async with asyncio.timeout(60):
        while notifications.requests("401") <= refused_before:  # noqa: ASYNC110 - a metric
            await asyncio.sleep(0.1)
    repo = await kapi.get(api, GIT, ns, "fleet")
    assert "reconcile.fluxcd.io/requestedAt" not in (repo["metadata"].get("annotations") or {})
    ks = await kapi.get(api, KS, ns, "app")
    assert first in ks["status"]["lastAppliedRevision"]

    # The right secret: Gitea's push webhook makes the Kustomization apply the new commit
    # (with intervals of 1h, nothing else would).
    await asyncio.to_thread(gitea_repo.create_webhook, url, secret=token)
    third = await asyncio.to_thread(gitea_repo.commit, configmap(3), "v3")
    assert third != second
    await wait_for(api, KS, ns, "app", applied(third), "push applied via the Receiver", 60)


# ----------------------------------------------------------------------------- alerts out
FAILING_TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
data:
  value: {{ required "mustSet is required" .Values.mustSet | quote }}
"""


async def test_a_failing_helmrelease_alerts_slack_and_sets_a_commit_status(
    kube: ApiClient,
    namespace: str,
    gitea_repo: GiteaRepo,
    gitea_user: GiteaUser,
    http_sink: HttpSink,
    notifications: NotificationController,
    tmp_path: Path,
) -> None:
    api, ns = kube, namespace
    chart_dir = write_chart(
        tmp_path / "chart", "app", "1.0.0", values={}, templates={"cm.yaml": FAILING_TEMPLATE}
    )
    files: dict[str, str | bytes | None] = {
        f"charts/app/{p.relative_to(chart_dir).as_posix()}": p.read_text()
        for p in chart_dir.rglob("*")
        if p.is_file()
    }
    sha = await asyncio.to_thread(gitea_repo.commit, files, "a chart that does not render")

    await secret(api, ns, "gitea-token", token=gitea_user.token)
    providers: dict[str, Obj] = {
        "slack": {"type": "slack", "address": http_sink.url("/slack"), "channel": "ops"},
        "gitea": {
            "type": "gitea",
            "address": gitea_repo.html_url,
            "secretRef": {"name": "gitea-token"},
        },
    }
    for name, spec in providers.items():
        await create(api, notification("Provider", ns, name, spec))
    sources = [{"kind": "HelmRelease", "name": "*"}]
    alerts: dict[str, Obj] = {
        "to-slack": {
            "providerRef": {"name": "slack"},
            "eventSeverity": "error",
            "eventSources": sources,
            "eventMetadata": {"alert": "to-slack"},
        },
        "quiet-slack": {
            "providerRef": {"name": "slack"},
            "eventSources": sources,
            "exclusionList": ["(?i)install failed"],
            "eventMetadata": {"alert": "quiet-slack"},
        },
        "to-gitea": {"providerRef": {"name": "gitea"}, "eventSources": sources},
    }
    for name, spec in alerts.items():
        await create(api, notification("Alert", ns, name, spec))
    for name in providers:
        await wait_for(api, PROVIDER, ns, name, ready, f"provider {name}")

    await create(api, git_repository(ns, gitea_repo))
    await create(
        api,
        {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": "app", "namespace": ns},
            "spec": {
                "interval": "1h",
                "chart": {
                    "spec": {
                        "chart": "./charts/app",
                        "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                        "reconcileStrategy": "Revision",
                    }
                },
            },
        },
    )

    def fields(r: SinkRequest) -> dict[str, str]:
        attachment = r.json()["attachments"][0]
        return {f["title"]: f["value"] for f in attachment["fields"]}

    def install_failed(r: SinkRequest) -> bool:
        return r.path == "/slack" and "install failed" in r.json()["attachments"][0]["text"]

    slack = await sink_wait(http_sink, install_failed, 120)
    attachment = slack.json()["attachments"][0]
    assert attachment["color"] == "danger"
    assert attachment["author_name"] == f"helmrelease/app.{ns}"
    assert "mustSet is required" in attachment["text"]
    assert fields(slack)["alert"] == "to-slack"
    assert fields(slack)["originRevision"].endswith(sha)
    assert slack.json()["channel"] == "ops"

    # The failure is on the commit the chart came from.
    async with asyncio.timeout(60):
        while True:
            statuses = await asyncio.to_thread(gitea_repo.commit_statuses, sha)
            failures = [s for s in statuses if s.state == "failure"]
            if failures:
                break
            await asyncio.sleep(0.2)
    assert failures[0].context.startswith("helmrelease/app/")
    assert failures[0].description == "install failed"

    # The exclusion list kept the install failure from "quiet-slack": a later event it does
    # take arrives through the same provider queue, after where the failure would have been.
    hr = await kapi.get(api, HR, ns, "app")
    await EventRecorder(api, "weir-e2e").warning(hr, "Marker", "a later event")
    await sink_wait(
        http_sink,
        lambda r: (
            r.path == "/slack"
            and r.json()["attachments"][0]["text"] == "a later event"
            and fields(r).get("alert") == "quiet-slack"
        ),
    )
    quiet = [
        r
        for r in http_sink.requests
        if r.path == "/slack" and fields(r).get("alert") == "quiet-slack"
    ]
    assert not any("install failed" in r.json()["attachments"][0]["text"] for r in quiet)


async def test_errors_reach_alertmanager(
    kube: ApiClient,
    namespace: str,
    alertmanager: AlertmanagerServer,
    notifications: NotificationController,
) -> None:
    api, ns = kube, namespace
    await create(
        api,
        notification(
            "Provider", ns, "am", {"type": "alertmanager", "address": alertmanager.alerts_url}
        ),
    )
    await create(
        api,
        notification(
            "Alert",
            ns,
            "am",
            {
                "providerRef": {"name": "am"},
                "eventSeverity": "error",
                "eventSources": [{"kind": "GitRepository", "name": "*"}],
                "eventMetadata": {"app.kubernetes.io/env": "e2e"},
            },
        ),
    )
    await wait_for(api, PROVIDER, ns, "am", ready, "provider am")
    # the source controller fails to reach it, and says so in a Warning Event
    await create(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "unreachable", "namespace": ns},
            "spec": {"url": "http://127.0.0.1:9/nothing.git", "interval": "1h"},
        },
    )
    async with asyncio.timeout(60):
        while True:
            found = await asyncio.to_thread(alertmanager.alerts, namespace=ns)
            if found:
                break
            await asyncio.sleep(0.2)
    labels = found[0]["labels"]
    assert labels["alertname"] == f"FluxGitRepository{labels['reason']}"
    assert labels["kind"] == "GitRepository"
    assert labels["name"] == "unreachable"
    assert labels["severity"] == "error"
    assert labels["app_kubernetes_io_env"] == "e2e"
    assert "nothing.git" in found[0]["annotations"]["message"]
