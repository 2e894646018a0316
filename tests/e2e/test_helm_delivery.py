"""Helm delivery end to end: a loopback Helm chart repository and OCI registry, weir's source and
helm controllers in-process, the real API server with kwok nodes (workloads become ready)."""

from __future__ import annotations

import asyncio
import io
import shutil
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import wait_for, wait_gone
from weir.api.kinds import lookup
from weir.artifact.fetch import fetch_artifact
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.informer import list_all
from weir.kube.resources import CONFIG_MAPS, SECRETS, ResourceRef
from weir.oci.artifact import HELM_CHART, push_artifact, push_chart
from weir.oci.client import RegistryClient
from weir.oci.reference import parse_url
from weir.runtime import conditions
from weir.testing.chartrepo import ChartRepoServer, package_chart, write_chart
from weir.testing.gitrepo import GitRepoFixture
from weir.testing.ociregistry import Registry
from weir.types import Obj

pytestmark = pytest.mark.usefixtures("controllers")

HR = lookup("HelmRelease").resource
HELM_REPO = lookup("HelmRepository").resource
HELM_CHART_RES = lookup("HelmChart").resource
OCI_REPO = lookup("OCIRepository").resource
DEPLOYMENTS = ResourceRef("apps", "v1", "deployments", True, "Deployment")
STATEFULSETS = ResourceRef("apps", "v1", "statefulsets", True, "StatefulSet")
PVS = ResourceRef("", "v1", "persistentvolumes", False, "PersistentVolume")
EVENTS = ResourceRef("", "v1", "events", True, "Event")
MANAGER = "weir-e2e"

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: {{ .Release.Name }}}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}}}
    spec:
      {{- with .Values.nodeSelector }}
      nodeSelector: {{ toJson . }}
      {{- end }}
      containers: [{name: app, image: "example.invalid/app:{{ .Chart.AppVersion }}"}]
"""
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  message: {{ .Values.message | quote }}
  {{- with .Values.extra }}
  extra: {{ . | quote }}
  {{- end }}
"""
APP_TEMPLATES = {"deployment.yaml": DEPLOYMENT, "configmap.yaml": CONFIGMAP}
APP_VALUES = {"replicas": 1, "message": "hello", "nodeSelector": {}}

ERIGON_STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}
spec:
  serviceName: {{ .Release.Name }}
  replicas: 1
  selector: {matchLabels: {app: {{ .Release.Name }}}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}}}
    spec:
      containers:
      - name: erigon
        image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
        args:
        - --datadir=/home/erigon/.local/share/erigon
        {{- range .Values.extraArgs }}
        - {{ . | quote }}
        {{- end }}
        {{- if .Values.persistence.enabled }}
        volumeMounts:
        - {name: data, mountPath: /home/erigon/.local/share/erigon}
        {{- end }}
  {{- if .Values.persistence.enabled }}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: {{ .Values.persistence.storageClassName | quote }}
      resources: {requests: {storage: {{ .Values.persistence.size | quote }}}}
  {{- end }}
"""
ERIGON_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  clusterIP: None
  selector: {app: {{ .Release.Name }}}
  ports: [{name: http, port: 8545}]
"""


# ------------------------------------------------------------------------------- helpers


def make_tarball(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def ready(reason: str | None = None, message_part: str = "") -> Callable[[Obj], bool]:
    def check(obj: Obj) -> bool:
        cond = conditions.get(obj, "Ready") or {}
        meta, status = obj["metadata"], obj.get("status") or {}
        return (
            cond.get("status") == "True"
            and (reason is None or cond.get("reason") == reason)
            and message_part in str(cond.get("message"))
            and meta.get("generation") == status.get("observedGeneration")
        )

    return check


def not_ready(reason: str) -> Callable[[Obj], bool]:
    return lambda o: (
        (conditions.get(o, "Ready") or {}).get("status") == "False"
        and (conditions.get(o, "Ready") or {}).get("reason") == reason
    )


async def helm_repository(api: ApiClient, ns: str, url: str, name: str = "charts") -> None:
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"url": url, "interval": "1m"},
        },
        MANAGER,
    )


async def helm_release(api: ApiClient, ns: str, name: str, **spec: Any) -> None:
    body = {"interval": "10m", **spec}
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


def chart_template(chart: str, version: str = "*", repo: str = "charts") -> Obj:
    return {
        "spec": {
            "chart": chart,
            "version": version,
            "sourceRef": {"kind": "HelmRepository", "name": repo},
        }
    }


async def patch_spec(api: ApiClient, ns: str, name: str, spec: Obj) -> None:
    await kapi.patch(api, HR, ns, name, {"spec": spec})


async def request(api: ApiClient, resource: ResourceRef, ns: str, name: str) -> str:
    token = uuid.uuid4().hex[:8]
    await kapi.patch(
        api,
        resource,
        ns,
        name,
        {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": token}}},
    )
    return token


async def cm_data(api: ApiClient, ns: str, name: str) -> dict[str, str] | None:
    try:
        return dict((await kapi.get(api, CONFIG_MAPS, ns, name)).get("data") or {})
    except NotFoundError:
        return None


async def release_secrets(api: ApiClient, ns: str, release: str) -> list[tuple[str, str]]:
    items, _ = await list_all(
        api, SECRETS, namespace=ns, label_selector=f"owner=helm,name={release}"
    )
    return sorted(
        (i["metadata"]["labels"]["version"], i["metadata"]["labels"]["status"]) for i in items
    )


async def helm_events(api: ApiClient, ns: str, name: str) -> list[Obj]:
    items, _ = await list_all(api, EVENTS, namespace=ns)
    return [
        e
        for e in items
        if (e.get("involvedObject") or {}).get("kind") == "HelmRelease"
        and (e.get("involvedObject") or {}).get("name") == name
    ]


async def event_reasons(api: ApiClient, ns: str, name: str) -> list[str]:
    return [str(e.get("reason")) for e in await helm_events(api, ns, name)]


def app_chart(
    tmp: Path,
    chart_repo: ChartRepoServer,
    version: str = "1.0.0",
    extra_files: dict[str, str] | None = None,
    **values: Any,
) -> None:
    chart_repo.add_chart(
        write_chart(
            tmp / f"app-{version}",
            "app",
            version,
            values={**APP_VALUES, **values},
            templates=APP_TEMPLATES,
            extra_files=extra_files,
        )
    )


# --------------------------------------------------------------------------------- tests


async def test_install_upgrade_failed_upgrade_rollback_uninstall(
    kube: ApiClient, namespace: str, chart_repo: ChartRepoServer, tmp_path: Path
) -> None:
    api, ns = kube, namespace
    app_chart(tmp_path, chart_repo)
    await helm_repository(api, ns, chart_repo.url)
    await helm_release(
        api,
        ns,
        "app",
        chart=chart_template("app", "1.x"),
        values={"message": "one"},
        timeout="60s",
        upgrade={"timeout": "4s", "remediation": {"retries": 1}},
    )

    # Install.
    hr = await wait_for(api, HR, ns, "app", ready("InstallSucceeded"), "installed", timeout=90)
    status = hr["status"]
    assert (conditions.get(hr, "Ready") or {})["message"] == (
        f"Helm install succeeded for release {ns}/app.v1 with chart app@1.0.0"
    )
    assert (conditions.get(hr, "Released") or {}).get("status") == "True"
    assert status["helmChart"] == f"{ns}/{ns}-app"
    assert status["lastAttemptedRevision"] == "1.0.0"
    assert status["lastAttemptedReleaseAction"] == "install"
    assert status["storageNamespace"] == ns
    assert [(h["version"], h["status"], h["chartVersion"]) for h in status["history"]] == [
        (1, "deployed", "1.0.0")
    ]
    assert status["history"][0]["configDigest"] == status["lastAttemptedConfigDigest"]
    ids = sorted(e["id"] for e in status["inventory"]["entries"])
    assert ids == [f"{ns}_app-config__ConfigMap", f"{ns}_app_apps_Deployment"]
    chart = await kapi.get(api, HELM_CHART_RES, ns, f"{ns}-app")
    assert chart["metadata"]["labels"]["helm.toolkit.fluxcd.io/name"] == "app"
    assert chart["spec"]["version"] == "1.x"
    cm = await kapi.get(api, CONFIG_MAPS, ns, "app-config")
    assert cm["data"] == {"message": "one"}
    assert cm["metadata"]["labels"]["helm.toolkit.fluxcd.io/name"] == "app"
    assert cm["metadata"]["labels"]["helm.toolkit.fluxcd.io/namespace"] == ns
    dep = await kapi.get(api, DEPLOYMENTS, ns, "app")
    assert dep["status"].get("availableReplicas") == 1
    assert "InstallSucceeded" in await event_reasons(api, ns, "app")

    # A values change upgrades.
    await patch_spec(api, ns, "app", {"values": {"message": "two"}})
    hr = await wait_for(api, HR, ns, "app", ready("UpgradeSucceeded", "app.v2"), "upgraded")
    assert await cm_data(api, ns, "app-config") == {"message": "two"}
    assert [(h["version"], h["status"]) for h in hr["status"]["history"]] == [
        (2, "deployed"),
        (1, "superseded"),
    ]

    # A new chart version in the repository is picked up (semver range 1.x).
    app_chart(tmp_path, chart_repo, "1.1.0")
    await request(api, HELM_REPO, ns, "charts")
    hr = await wait_for(api, HR, ns, "app", ready("UpgradeSucceeded", "app@1.1.0"), "new chart")
    assert hr["status"]["lastAttemptedRevision"] == "1.1.0"

    # An upgrade whose workload never becomes ready fails, is rolled back, retried once
    # (retries: 1), rolled back again, and the HelmRelease stalls.
    await patch_spec(
        api,
        ns,
        "app",
        {"values": {"message": "three", "nodeSelector": {"weir.test/pool": "nowhere"}}},
    )
    hr = await wait_for(api, HR, ns, "app", not_ready("RetriesExceeded"), "stalled", timeout=90)
    ready_msg = (conditions.get(hr, "Ready") or {})["message"]
    assert ready_msg.startswith("Failed to upgrade after 2 attempt(s)")
    assert "timed out" in ready_msg
    assert (conditions.get(hr, "Stalled") or {}).get("status") == "True"
    remediated = conditions.get(hr, "Remediated") or {}
    assert (remediated.get("status"), remediated.get("reason")) == ("True", "RollbackSucceeded")
    released = conditions.get(hr, "Released") or {}
    assert (released.get("status"), released.get("reason")) == ("False", "UpgradeFailed")
    assert hr["status"]["upgradeFailures"] == 2
    assert await cm_data(api, ns, "app-config") == {"message": "two"}  # rolled back
    dep = await kapi.get(api, DEPLOYMENTS, ns, "app")
    assert "nodeSelector" not in dep["spec"]["template"]["spec"]
    statuses = [s for _, s in await release_secrets(api, ns, "app")]
    assert statuses.count("failed") == 2
    assert statuses[-1] == "deployed"
    reasons = await event_reasons(api, ns, "app")
    assert "UpgradeFailed" in reasons
    assert "RollbackSucceeded" in reasons

    # Fixing the values recovers with a new upgrade.
    await patch_spec(api, ns, "app", {"values": {"message": "four", "nodeSelector": None}})
    hr = await wait_for(api, HR, ns, "app", ready("UpgradeSucceeded"), "recovered", timeout=60)
    assert await cm_data(api, ns, "app-config") == {"message": "four"}
    assert conditions.get(hr, "Remediated") is None
    assert "upgradeFailures" not in hr["status"]

    # Deleting the HelmRelease uninstalls the release and deletes its HelmChart.
    await kapi.delete(api, HR, ns, "app")
    await wait_gone(api, HR, ns, "app")
    assert await release_secrets(api, ns, "app") == []
    assert await cm_data(api, ns, "app-config") is None
    await wait_gone(api, HELM_CHART_RES, ns, f"{ns}-app")


async def test_values_from_change_triggers_upgrade(
    kube: ApiClient, namespace: str, chart_repo: ChartRepoServer, tmp_path: Path
) -> None:
    api, ns = kube, namespace
    app_chart(tmp_path, chart_repo)
    await helm_repository(api, ns, chart_repo.url)
    await kapi.apply(
        api,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "app-values", "namespace": ns},
            "data": {"values.yaml": "message: from-configmap\nreplicas: 1\n"},
        },
        MANAGER,
    )
    await kapi.apply(
        api,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "app-secret", "namespace": ns},
            "stringData": {"extra": "s3cret"},
        },
        MANAGER,
    )
    await helm_release(
        api,
        ns,
        "vf",
        chart=chart_template("app"),
        valuesFrom=[
            {"kind": "ConfigMap", "name": "app-values"},
            {"kind": "Secret", "name": "app-secret", "valuesKey": "extra", "targetPath": "extra"},
            {"kind": "ConfigMap", "name": "not-there", "optional": True},
        ],
        postRenderers=[
            {
                "kustomize": {
                    "patches": [
                        {
                            "target": {"kind": "Deployment"},
                            "patch": '[{"op": "add", "path": "/metadata/annotations",'
                            ' "value": {"weir.test/patched": "yes"}}]',
                        }
                    ],
                    "images": [{"name": "example.invalid/app", "newName": "registry.local/app"}],
                }
            }
        ],
        commonMetadata={"labels": {"team": "ethereum"}},
    )
    await wait_for(api, HR, ns, "vf", ready("InstallSucceeded"), "installed", timeout=90)
    assert await cm_data(api, ns, "vf-config") == {"message": "from-configmap", "extra": "s3cret"}
    # postRenderers (kustomize patches and images) and commonMetadata shaped the objects
    dep = await kapi.get(api, DEPLOYMENTS, ns, "vf")
    assert dep["metadata"]["annotations"]["weir.test/patched"] == "yes"
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.local/app:1.0.0"
    assert dep["metadata"]["labels"]["team"] == "ethereum"
    assert dep["metadata"]["labels"]["helm.toolkit.fluxcd.io/name"] == "vf"

    # Changing the ConfigMap upgrades the release at once (no interval, no requestedAt).
    t0 = time.monotonic()
    await kapi.patch(
        api, CONFIG_MAPS, ns, "app-values", {"data": {"values.yaml": "message: changed\n"}}
    )
    await wait_for(api, HR, ns, "vf", ready("UpgradeSucceeded", "vf.v2"), "upgraded", timeout=30)
    assert time.monotonic() - t0 < 20
    assert await cm_data(api, ns, "vf-config") == {"message": "changed", "extra": "s3cret"}

    # So does the Secret.
    await kapi.patch(api, SECRETS, ns, "app-secret", {"stringData": {"extra": "rotated"}})
    await wait_for(api, HR, ns, "vf", ready("UpgradeSucceeded", "vf.v3"), "secret change")
    assert await cm_data(api, ns, "vf-config") == {"message": "changed", "extra": "rotated"}

    # A missing (required) reference is reported and waited for.
    await patch_spec(
        api,
        ns,
        "vf",
        {
            "valuesFrom": [
                {"kind": "ConfigMap", "name": "app-values"},
                {"kind": "Secret", "name": "later"},
            ]
        },
    )
    hr = await wait_for(
        api,
        HR,
        ns,
        "vf",
        lambda o: "later" in str((conditions.get(o, "Ready") or {}).get("message")),
        "missing",
    )
    assert (conditions.get(hr, "Ready") or {}).get("status") == "False"
    await kapi.apply(
        api,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "later", "namespace": ns},
            "stringData": {"values.yaml": "message: late\n"},
        },
        MANAGER,
    )
    await wait_for(api, HR, ns, "vf", ready("UpgradeSucceeded"), "created later", timeout=30)
    assert (await cm_data(api, ns, "vf-config") or {}).get("message") == "late"


async def test_drift_is_detected_and_corrected(
    kube: ApiClient, namespace: str, chart_repo: ChartRepoServer, tmp_path: Path
) -> None:
    api, ns = kube, namespace
    app_chart(tmp_path, chart_repo)
    await helm_repository(api, ns, chart_repo.url)
    await helm_release(
        api,
        ns,
        "drift",
        chart=chart_template("app"),
        values={"message": "desired"},
        driftDetection={
            "mode": "enabled",
            "ignore": [{"paths": ["/spec/replicas"], "target": {"kind": "Deployment"}}],
        },
    )
    await wait_for(api, HR, ns, "drift", ready("InstallSucceeded"), "installed", timeout=90)

    # Someone edits a managed object, and scales the Deployment (an ignored field).
    await kapi.patch(api, CONFIG_MAPS, ns, "drift-config", {"data": {"message": "edited"}})
    await kapi.patch(api, DEPLOYMENTS, ns, "drift", {"spec": {"replicas": 2}})
    token = await request(api, HR, ns, "drift")
    hr = await wait_for(
        api,
        HR,
        ns,
        "drift",
        lambda o: (o.get("status") or {}).get("lastHandledReconcileAt") == token,
        "drift run",
    )
    # A reconciliation already queued when the objects were edited (for example by the
    # HelmChart's status update after the install) may be the one that corrects the drift;
    # the requested run then finds none. Either way exactly one run reports the correction.
    drifted = conditions.get(hr, "Drifted") or {}
    assert drifted.get("status") == "False"
    assert drifted.get("reason") in ("DriftCorrected", "NoDriftDetected")
    change = f"ConfigMap/{ns}/drift-config changed (/data/message)"
    if drifted.get("reason") == "DriftCorrected":
        assert change in drifted["message"]
    corrected = [
        e
        for e in await helm_events(api, ns, "drift")
        if e.get("reason") == "DriftCorrected" and change in str(e.get("message"))
    ]
    assert corrected, "no DriftCorrected event names the edited ConfigMap"
    assert "/spec/replicas" not in str(corrected[0].get("message"))
    assert await cm_data(api, ns, "drift-config") == {"message": "desired"}
    dep = await kapi.get(api, DEPLOYMENTS, ns, "drift")
    assert dep["spec"]["replicas"] == 2  # ignored
    assert conditions.is_true(hr, "Ready")

    # A deleted object is recreated.
    await kapi.delete(api, CONFIG_MAPS, ns, "drift-config")
    await request(api, HR, ns, "drift")
    deadline = time.monotonic() + 30
    while await cm_data(api, ns, "drift-config") is None:
        assert time.monotonic() < deadline, "the deleted ConfigMap was not recreated"
        await asyncio.sleep(0.1)


async def test_oci_chart_through_chart_ref(
    kube: ApiClient, namespace: str, oci_registry: Registry, tmp_path: Path
) -> None:
    api, ns = kube, namespace
    repo = parse_url(f"oci://{oci_registry.host}/{ns}/charts")
    async with RegistryClient(insecure=True) as oci:
        for version, message in (("1.0.0", "oci-one"), ("1.1.0", "oci-two")):
            data, meta = package_chart(
                write_chart(
                    tmp_path / version,
                    "ociapp",
                    version,
                    values={**APP_VALUES, "message": message},
                    templates=APP_TEMPLATES,
                )
            )
            pushed = await push_chart(oci, repo, data, meta)
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "OCIRepository",
            "metadata": {"name": "ociapp", "namespace": ns},
            "spec": {
                "url": f"oci://{oci_registry.host}/{ns}/charts/ociapp",
                "interval": "1m",
                "insecure": True,
                "ref": {"semver": "~1.0"},
                "layerSelector": {"mediaType": HELM_CHART, "operation": "copy"},
            },
        },
        MANAGER,
    )
    await helm_release(api, ns, "ociapp", chartRef={"kind": "OCIRepository", "name": "ociapp"})
    hr = await wait_for(api, HR, ns, "ociapp", ready("InstallSucceeded"), "installed", timeout=90)
    source = await kapi.get(api, OCI_REPO, ns, "ociapp")
    revision = source["status"]["artifact"]["revision"]
    assert revision.startswith("1.0.0@sha256:")
    digest = revision.split("@", 1)[1]
    assert hr["status"]["lastAttemptedRevision"] == f"1.0.0+{digest.split(':')[1][:12]}"
    assert hr["status"]["lastAttemptedRevisionDigest"] == digest
    assert hr["status"]["history"][0]["ociDigest"] == digest
    assert await cm_data(api, ns, "ociapp-config") == {"message": "oci-one"}

    # Widening the range picks 1.1.0: the new artifact upgrades the release.
    await kapi.patch(api, OCI_REPO, ns, "ociapp", {"spec": {"ref": {"semver": "~1"}}})
    hr = await wait_for(api, HR, ns, "ociapp", ready("UpgradeSucceeded"), "upgraded", timeout=60)
    assert hr["status"]["lastAttemptedRevision"].startswith("1.1.0+")
    assert pushed.digest in hr["status"]["lastAttemptedRevisionDigest"]
    assert await cm_data(api, ns, "ociapp-config") == {"message": "oci-two"}


async def test_oci_repository_flux_artifacts_tag_digest_and_filter(
    kube: ApiClient, namespace: str, oci_registry: Registry
) -> None:
    """OCIRepository with Flux artifacts: a tag (extract, with ignore), a semver range with a
    filter, and a digest; the manifest annotations become the artifact metadata."""
    api, ns = kube, namespace
    base = parse_url(f"oci://{oci_registry.host}/{ns}/manifests")
    digests: dict[str, str] = {}
    async with RegistryClient(insecure=True) as oci:
        for tag, body in (("v1.0.0", "one"), ("v1.1.0-rc.1", "rc"), ("v1.1.0", "two")):
            digests[tag] = await push_artifact(
                oci,
                base.with_tag(tag),
                make_tarball({"apps/cm.yaml": f"a: {body}\n", "docs/README.md": "skip me\n"}),
                source="https://git.example/fleet",
                revision_annotation=f"main@sha1:{'0' * 39}{len(body)}",
            )

    async def source(name: str, ref: Obj, **extra: Any) -> Obj:
        await kapi.apply(
            api,
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "OCIRepository",
                "metadata": {"name": name, "namespace": ns},
                "spec": {"url": base_url, "interval": "1m", "insecure": True, "ref": ref, **extra},
            },
            MANAGER,
        )
        return await wait_for(api, OCI_REPO, ns, name, ready(), name)

    base_url = f"oci://{oci_registry.host}/{ns}/manifests"
    tagged = await source("tagged", {"tag": "v1.0.0"}, ignore="docs/\n")
    artifact = tagged["status"]["artifact"]
    assert artifact["revision"] == f"v1.0.0@{digests['v1.0.0']}"
    assert artifact["metadata"]["org.opencontainers.image.source"] == "https://git.example/fleet"
    assert (conditions.get(tagged, "Ready") or {})["message"] == (
        f"stored artifact for digest 'v1.0.0@{digests['v1.0.0']}'"
    )
    work = Path(tempfile.mkdtemp(prefix="weir-e2e-oci-"))
    try:
        await fetch_artifact(artifact["url"], artifact["digest"], work / "x")
        assert (work / "x" / "apps" / "cm.yaml").read_text() == "a: one\n"
        assert not (work / "x" / "docs").exists()  # spec.ignore
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ranged = await source("ranged", {"semver": ">=1.0.0-0", "semverFilter": ".*-rc.*"})
    assert ranged["status"]["artifact"]["revision"] == f"v1.1.0-rc.1@{digests['v1.1.0-rc.1']}"
    pinned = await source("pinned", {"digest": digests["v1.1.0"]})
    assert pinned["status"]["artifact"]["revision"] == digests["v1.1.0"]
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "OCIRepository",
            "metadata": {"name": "missing", "namespace": ns},
            "spec": {"url": base_url, "interval": "1m", "insecure": True, "ref": {"tag": "v9"}},
        },
        MANAGER,
    )
    failed = await wait_for(
        api, OCI_REPO, ns, "missing", not_ready("OCIArtifactPullFailed"), "missing tag"
    )
    assert (conditions.get(failed, "FetchFailed") or {}).get("status") == "True"


async def test_erigon_archive_node_from_the_local_chart_repository(
    kube: ApiClient, namespace: str, chart_repo: ChartRepoServer, tmp_path: Path
) -> None:
    """The first user's Erigon release: a StatefulSet with a PVC template and archive flags."""
    api, ns = kube, namespace
    chart_repo.add_chart(
        write_chart(
            tmp_path / "erigon",
            "erigon",
            "0.3.1",
            app_version="v3.0.4",
            values={
                "image": {"repository": "erigontech/erigon", "tag": "v3.0.4"},
                "persistence": {"enabled": False, "size": "10Gi", "storageClassName": ""},
                "extraArgs": [],
            },
            templates={"statefulset.yaml": ERIGON_STATEFULSET, "service.yaml": ERIGON_SERVICE},
        )
    )
    storage_class = f"erigon-{ns}"
    pv_name = f"erigon-{ns}"
    await kapi.create(
        api,
        PVS,
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": pv_name},
            "spec": {
                "capacity": {"storage": "2Ti"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": storage_class,
                "hostPath": {"path": f"/tmp/{pv_name}"},
            },
        },
    )
    args = [
        "--chain=mainnet",
        "--prune.mode=archive",
        "--http.api=eth,net,web3,trace,debug,txpool,erigon,ots",
        "--torrent.download.rate=512mb",
    ]
    try:
        await helm_repository(api, ns, chart_repo.url, "ethereum")
        await helm_release(
            api,
            ns,
            "erigon",
            chart=chart_template("erigon", "0.3.x", "ethereum"),
            timeout="90s",
            values={
                "persistence": {
                    "enabled": True,
                    "size": "2Ti",
                    "storageClassName": storage_class,
                },
                "extraArgs": args,
            },
        )
        hr = await wait_for(api, HR, ns, "erigon", ready("InstallSucceeded"), "erigon", timeout=120)
        assert "erigon@0.3.1" in (conditions.get(hr, "Ready") or {})["message"]
        sts = await kapi.get(api, STATEFULSETS, ns, "erigon")
        container = sts["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == "erigontech/erigon:v3.0.4"
        assert container["args"][1:] == args
        claim = sts["spec"]["volumeClaimTemplates"][0]
        assert claim["spec"]["resources"]["requests"]["storage"] == "2Ti"
        assert sts["status"].get("readyReplicas") == 1
        ids = {e["id"] for e in hr["status"]["inventory"]["entries"]}
        assert f"{ns}_erigon_apps_StatefulSet" in ids
    finally:
        await kapi.delete(api, HR, ns, "erigon", missing_ok=True)
        await wait_gone(api, HR, ns, "erigon")
        await kapi.delete(api, PVS, None, pv_name, missing_ok=True)


async def test_bad_inputs_are_reported(
    kube: ApiClient, namespace: str, chart_repo: ChartRepoServer, tmp_path: Path
) -> None:
    api, ns = kube, namespace
    chart_repo.add_chart(
        write_chart(
            tmp_path / "strict",
            "strict",
            "2.0.0",
            values={"image": {}},
            templates={
                "cm.yaml": (
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
                    'data:\n  tag: {{ required "image.tag is required" .Values.image.tag }}\n'
                )
            },
        )
    )
    await helm_repository(api, ns, chart_repo.url)

    # A chart version the repository does not have.
    await helm_release(api, ns, "missing", chart=chart_template("strict", "9.9.9"))
    # the HelmChart may first wait for the HelmRepository's index; then it names the version
    hr = await wait_for(
        api,
        HR,
        ns,
        "missing",
        lambda o: (
            not_ready("ArtifactFailed")(o)
            and "9.9.9" in (conditions.get(o, "Ready") or {}).get("message", "")
        ),
        "missing version",
    )
    message = (conditions.get(hr, "Ready") or {})["message"]
    assert f"HelmChart '{ns}/{ns}-missing' is not ready" in message
    assert "9.9.9" in message
    chart = await kapi.get(api, HELM_CHART_RES, ns, f"{ns}-missing")
    assert (conditions.get(chart, "Ready") or {}).get("reason") == "ChartPullFailed"

    # Values that break a template: the install fails, nothing is stored, the release stalls.
    await helm_release(api, ns, "broken", chart=chart_template("strict"))
    hr = await wait_for(api, HR, ns, "broken", not_ready("RetriesExceeded"), "broken values")
    message = (conditions.get(hr, "Ready") or {})["message"]
    assert message.startswith("Failed to install after 1 attempt(s)")
    assert "image.tag is required" in message
    released = conditions.get(hr, "Released") or {}
    assert (released.get("status"), released.get("reason")) == ("False", "InstallFailed")
    assert await release_secrets(api, ns, "broken") == []
    assert "InstallFailed" in await event_reasons(api, ns, "broken")

    # Fixing the values installs it.
    await patch_spec(api, ns, "broken", {"values": {"image": {"tag": "v1"}}})
    await wait_for(api, HR, ns, "broken", ready("InstallSucceeded"), "fixed")
    assert await cm_data(api, ns, "broken") == {"tag": "v1"}


async def test_chart_sources_git_authenticated_repository_and_oci_repository(
    kube: ApiClient,
    namespace: str,
    git_repo: GitRepoFixture,
    oci_registry: Registry,
    tmp_path: Path,
) -> None:
    """HelmCharts from a GitRepository (reconcileStrategy Revision, valuesFiles), from a
    HelmRepository behind Basic auth, and from a type 'oci' HelmRepository."""
    api, ns = kube, namespace
    chart_dir = write_chart(
        tmp_path / "git-app", "app", "1.0.0", values=APP_VALUES, templates=APP_TEMPLATES
    )
    files: dict[str, str | bytes | None] = {
        f"charts/app/{p.relative_to(chart_dir).as_posix()}": p.read_text()
        for p in chart_dir.rglob("*")
        if p.is_file()
    }
    files["envs/prod.yaml"] = "message: from-git-prod\n"
    sha = git_repo.commit(files, "chart")
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": ns},
            "spec": {"url": git_repo.url, "interval": "1m", "ref": {"branch": "master"}},
        },
        MANAGER,
    )
    await helm_release(
        api,
        ns,
        "gitapp",
        chart={
            "spec": {
                "chart": "./charts/app",
                "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                "reconcileStrategy": "Revision",
                "valuesFiles": ["charts/app/values.yaml", "envs/prod.yaml"],
            }
        },
    )
    hr = await wait_for(api, HR, ns, "gitapp", ready("InstallSucceeded"), "git chart", timeout=90)
    assert hr["status"]["lastAttemptedRevision"] == f"1.0.0+{sha[:12]}"
    assert await cm_data(api, ns, "gitapp-config") == {"message": "from-git-prod"}
    chart = await kapi.get(api, HELM_CHART_RES, ns, f"{ns}-gitapp")
    assert (conditions.get(chart, "Ready") or {})["message"] == (
        f"packaged 'app' chart with version '1.0.0+{sha[:12]}'"
    )
    assert chart["status"]["observedValuesFiles"] == ["charts/app/values.yaml", "envs/prod.yaml"]

    # A new commit is a new chart revision (Revision strategy): the release is upgraded.
    sha2 = git_repo.commit({"envs/prod.yaml": "message: from-git-prod-2\n"}, "prod values")
    await request(api, lookup("GitRepository").resource, ns, "fleet")
    await wait_for(api, HR, ns, "gitapp", ready("UpgradeSucceeded", sha2[:12]), "new commit")
    assert await cm_data(api, ns, "gitapp-config") == {"message": "from-git-prod-2"}

    # A repository behind Basic auth: the credentials come from spec.secretRef.
    with ChartRepoServer(basic_auth=("reader", "s3cret")) as private:
        app_chart(
            tmp_path / "private",
            private,
            "2.0.0",
            {"values-prod.yaml": "message: private-prod\n"},
            message="private",
        )
        await kapi.apply(
            api,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "repo-auth", "namespace": ns},
                "stringData": {"username": "reader", "password": "wrong"},
            },
            MANAGER,
        )
        await kapi.apply(
            api,
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "HelmRepository",
                "metadata": {"name": "private", "namespace": ns},
                "spec": {"url": private.url, "interval": "1m", "secretRef": {"name": "repo-auth"}},
            },
            MANAGER,
        )
        repo = await wait_for(
            api, HELM_REPO, ns, "private", not_ready("AuthenticationFailed"), "refused"
        )
        assert "401" in (conditions.get(repo, "FetchFailed") or {})["message"]
        await kapi.apply(
            api,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "repo-auth", "namespace": ns},
                "stringData": {"username": "reader", "password": "s3cret"},
            },
            MANAGER,
        )
        await request(api, HELM_REPO, ns, "private")
        await wait_for(api, HELM_REPO, ns, "private", ready(), "authenticated")
        template = chart_template("app", "2.x", "private")
        template["spec"]["valuesFiles"] = ["values.yaml", "values-prod.yaml"]
        await helm_release(api, ns, "private", chart=template)
        await wait_for(
            api, HR, ns, "private", ready("InstallSucceeded"), "private chart", timeout=60
        )
        # valuesFiles replace the chart's values.yaml; the revision is <version>+<generation>
        assert await cm_data(api, ns, "private-config") == {"message": "private-prod"}
        chart = await kapi.get(api, HELM_CHART_RES, ns, f"{ns}-private")
        assert chart["status"]["artifact"]["revision"] == "2.0.0+1"

    # A type 'oci' HelmRepository: no artifact of its own; the HelmChart pulls from it.
    data, meta = package_chart(
        write_chart(
            tmp_path / "oci", "ocichart", "3.1.0", values=APP_VALUES, templates=APP_TEMPLATES
        )
    )
    async with RegistryClient(insecure=True) as oci:
        await push_chart(oci, parse_url(f"oci://{oci_registry.host}/{ns}/helm"), data, meta)
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": "ocirepo", "namespace": ns},
            "spec": {
                "url": f"oci://{oci_registry.host}/{ns}/helm",
                "type": "oci",
                "insecure": True,
                "interval": "1m",
            },
        },
        MANAGER,
    )
    repo = await wait_for(api, HELM_REPO, ns, "ocirepo", ready(), "oci repository")
    assert "artifact" not in repo["status"]
    await helm_release(api, ns, "fromoci", chart=chart_template("ocichart", "3.x", "ocirepo"))
    hr = await wait_for(api, HR, ns, "fromoci", ready("InstallSucceeded"), "oci chart", timeout=60)
    assert hr["status"]["lastAttemptedRevision"] == "3.1.0"
