"""weir's own wait for Helm releases (ADR 0017) against the real API server with kwok nodes
(Deployments become ready) and weir's controllers in-process: a release of a chart without
post-* hooks is waited for by weir, one with a post-install hook by Helm; a release that never
becomes ready fails as Helm's own wait fails it (the storage record marked failed, the
conditions, remediation and retries), side by side with a release that Helm waits for."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import wait_for
from weir.api.kinds import lookup
from weir.helm.unlock import decode_release
from weir.kube import apply as kapi
from weir.kube.informer import list_all
from weir.kube.resources import CONFIG_MAPS, SECRETS, ResourceRef
from weir.log import record_fields
from weir.runtime import conditions
from weir.testing.chartrepo import ChartRepoServer, write_chart
from weir.types import Obj

pytestmark = pytest.mark.usefixtures("controllers")

HR = lookup("HelmRelease").resource
DEPLOYMENTS = ResourceRef("apps", "v1", "deployments", True, "Deployment")
MANAGER = "weir-e2e"
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: 1
  selector: {matchLabels: {app: {{ .Release.Name }}}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}}}
    spec:
      {{- with .Values.nodeSelector }}
      nodeSelector: {{ toJson . }}
      {{- end }}
      containers: [{name: app, image: "example.invalid/app:1"}]
"""
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  message: {{ .Values.message | quote }}
"""
POST_HOOK = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-hook
  annotations:
    helm.sh/hook: post-install,post-upgrade
    helm.sh/hook-delete-policy: before-hook-creation
data:
  ran: "yes"
"""
VALUES = {"message": "one", "nodeSelector": {}}
NOWHERE = {"weir.test/pool": "nowhere"}


def add_charts(tmp: Path, repo: ChartRepoServer) -> None:
    plain = {"deployment.yaml": DEPLOYMENT, "configmap.yaml": CONFIGMAP}
    repo.add_chart(write_chart(tmp / "plain", "plain", "1.0.0", values=VALUES, templates=plain))
    hooked = {**plain, "hook.yaml": POST_HOOK}
    repo.add_chart(write_chart(tmp / "hooked", "hooked", "1.0.0", values=VALUES, templates=hooked))


async def helm_release(api: ApiClient, ns: str, name: str, chart: str, **spec: Any) -> None:
    body = {
        "interval": "10m",
        "chart": {"spec": {"chart": chart, "sourceRef": {"kind": "HelmRepository", "name": "c"}}},
        **spec,
    }
    await kapi.apply(
        api,
        {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": name, "namespace": ns},
            "spec": body,
        },
        MANAGER,
    )


async def helm_repository(api: ApiClient, ns: str, url: str) -> None:
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": "c", "namespace": ns},
            "spec": {"url": url, "interval": "1m"},
        },
        MANAGER,
    )


def condition(reason: str, message_part: str = "") -> Callable[[Obj], bool]:
    def check(obj: Obj) -> bool:
        ready = conditions.get(obj, "Ready") or {}
        status = obj.get("status") or {}
        return (
            ready.get("reason") == reason
            and message_part in str(ready.get("message"))
            and obj["metadata"].get("generation") == status.get("observedGeneration")
        )

    return check


async def records(api: ApiClient, ns: str, name: str) -> list[tuple[int, str, str]]:
    """(revision, status label, description) of each storage record, oldest first."""
    items, _ = await list_all(api, SECRETS, namespace=ns, label_selector=f"owner=helm,name={name}")
    found = []
    for item in items:
        body = decode_release(item["data"]["release"])
        label = item["metadata"]["labels"]["status"]
        assert body["info"]["status"] == label  # the label and the body agree
        found.append(
            (int(item["metadata"]["labels"]["version"]), label, body["info"]["description"])
        )
    return sorted(found)


def wait_paths(caplog: pytest.LogCaptureFixture, release: str) -> list[tuple[str, str]]:
    return [
        (str(f.get("action")), str(f.get("wait")))
        for r in caplog.records
        if r.name == "weir.helm.releaseops"
        and (f := record_fields(r)).get("release") == release
        and "wait" in f
    ]


def shape(hr: Obj) -> tuple[Any, ...]:
    """What a user sees of a failed release, without the names."""
    ready = conditions.get(hr, "Ready") or {}
    released = conditions.get(hr, "Released") or {}
    stalled = conditions.get(hr, "Stalled") or {}
    status = hr["status"]
    return (
        ready.get("status"),
        ready.get("reason"),
        str(ready.get("message")).split(" for release ")[0],
        released.get("reason"),
        stalled.get("reason"),
        status.get("installFailures"),
        status.get("upgradeFailures"),
        [h["status"] for h in status.get("history") or []],
    )


async def test_release_ready_through_weirs_wait_and_hooks_through_helms(
    kube: ApiClient,
    namespace: str,
    chart_repo: ChartRepoServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="weir.helm.releaseops")
    api, ns = kube, namespace
    add_charts(tmp_path, chart_repo)
    await helm_repository(api, ns, chart_repo.url)
    await helm_release(api, ns, "plain", "plain", timeout="60s")
    await helm_release(api, ns, "hooked", "hooked", timeout="60s")

    for name in ("plain", "hooked"):
        hr = await wait_for(api, HR, ns, name, condition("InstallSucceeded"), "installed", 90)
        assert hr["status"]["history"][0]["status"] == "deployed"
        dep = await kapi.get(api, DEPLOYMENTS, ns, name)
        assert dep["status"].get("readyReplicas") == 1  # ready when the install succeeded
        assert await records(api, ns, name) == [(1, "deployed", "Install complete")]
    assert (await kapi.get(api, CONFIG_MAPS, ns, "hooked-hook"))["data"] == {"ran": "yes"}
    assert wait_paths(caplog, "plain") == [("install", "weir (per object)")]
    assert wait_paths(caplog, "hooked") == [("install", "helm")]

    # An upgrade that becomes ready: weir's wait, the older revision superseded.
    await kapi.patch(api, HR, ns, "plain", {"spec": {"values": {"message": "two"}}})
    await wait_for(api, HR, ns, "plain", condition("UpgradeSucceeded", "plain.v2"), "upgraded", 90)
    assert [r[:2] for r in await records(api, ns, "plain")] == [
        (1, "superseded"),
        (2, "deployed"),
    ]
    assert wait_paths(caplog, "plain")[-1] == ("upgrade", "weir (per object)")


async def test_not_ready_fails_as_helms_own_wait(
    kube: ApiClient,
    namespace: str,
    chart_repo: ChartRepoServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The same never-ready release, waited for by weir (plain) and by Helm (hooked)."""
    caplog.set_level(logging.DEBUG, logger="weir.helm.releaseops")
    api, ns = kube, namespace
    add_charts(tmp_path, chart_repo)
    await helm_repository(api, ns, chart_repo.url)
    failing = {"timeout": "4s", "values": {"nodeSelector": NOWHERE}}
    install = {"remediation": {"retries": 1}}
    for name in ("plain", "hooked"):
        await helm_release(api, ns, name, name, install=install, **failing)

    # Install: fails, is remediated by uninstalling, retried once, fails again and stalls.
    shapes = []
    for name in ("plain", "hooked"):
        hr = await wait_for(api, HR, ns, name, condition("RetriesExceeded"), "stalled", 90)
        message = str((conditions.get(hr, "Ready") or {}).get("message"))
        assert message.startswith("Failed to install after 2 attempt(s)")
        assert "install timed out" in message
        assert f"resource Deployment/{ns}/{name} not ready. status: InProgress" in message
        remediated = conditions.get(hr, "Remediated") or {}
        assert remediated.get("reason") == "UninstallSucceeded"
        shapes.append(shape(hr))
        # the second attempt's record: failed, as Helm leaves it
        [(revision, label, description)] = await records(api, ns, name)
        assert (revision, label) == (1, "failed")
        assert description.startswith(f'Release "{name}" failed: ')
        assert "context deadline exceeded" in description
    assert shapes[0] == shapes[1]
    assert shapes[0][:2] == ("False", "RetriesExceeded")
    assert shapes[0][5] == 2  # installFailures
    assert set(wait_paths(caplog, "plain")) == {("install", "weir (per object)")}
    assert set(wait_paths(caplog, "hooked")) == {("install", "helm")}

    # Fixed values install; then an upgrade that never becomes ready fails without
    # remediation (retries 0): the new revision failed, the old one still deployed.
    for name in ("plain", "hooked"):
        await kapi.patch(
            api,
            HR,
            ns,
            name,
            {"spec": {"timeout": "60s", "values": {"nodeSelector": None}}},
        )
        await wait_for(api, HR, ns, name, condition("InstallSucceeded"), "installed", 90)
        await kapi.patch(
            api,
            HR,
            ns,
            name,
            {"spec": {"timeout": "4s", "values": {"nodeSelector": NOWHERE, "message": "x"}}},
        )
    shapes = []
    for name in ("plain", "hooked"):
        hr = await wait_for(api, HR, ns, name, condition("RetriesExceeded"), "stalled", 90)
        message = str((conditions.get(hr, "Ready") or {}).get("message"))
        assert "upgrade timed out" in message
        shapes.append(shape(hr))
        found = await records(api, ns, name)
        assert [r[:2] for r in found] == [(1, "deployed"), (2, "failed")]
        assert found[1][2].startswith(f'Upgrade "{name}" failed: ')
    assert shapes[0] == shapes[1]
    assert shapes[0][6] == 1  # upgradeFailures
    assert shapes[0][7][:2] == ["failed", "deployed"]
    assert ("upgrade", "weir (per object)") in wait_paths(caplog, "plain")
