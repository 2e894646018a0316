"""The Helm engine decision, by test (docs/adr/0002-helm-engine.md): helm-python-sdk (Helm 4 in
process) against the dev cluster. Everything Flux's helm-controller needs from Helm is exercised
here: install, upgrade, test hooks, rollback, uninstall, release storage Flux can read, history
and maxHistory, waiting and timeouts, post-rendering, adoption of existing objects, CRD
policies, impersonation, concurrency and cancellation, and the error mapping.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client

from tests.support.waiting import eventually
from weir.helmengine.crds import apply_crds, crd_documents
from weir.helmengine.engine import (
    ClusterAccess,
    InstallOptions,
    ReleaseTestOptions,
    RollbackOptions,
    UninstallOptions,
    UpgradeOptions,
)
from weir.helmengine.errors import (
    ReleaseError,
    ReleaseNotFoundError,
    ReleaseTimeoutError,
    RenderError,
    UnsupportedOptionError,
)
from weir.helmengine.postrender import KustomizeRenderer, PostRenderSpec
from weir.helmengine.sdk import SdkEngine
from weir.kube.apply import apply, create, delete, get
from weir.kube.errors import NotFoundError
from weir.kube.resources import ResourceRef
from weir.testing.chartrepo import write_chart

SECRETS = ResourceRef("", "v1", "secrets", True)
CONFIGMAPS = ResourceRef("", "v1", "configmaps", True)
DEPLOYMENTS = ResourceRef("apps", "v1", "deployments", True)
CRDS = ResourceRef("apiextensions.k8s.io", "v1", "customresourcedefinitions", False)

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-app
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: {{ .Release.Name }}}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}}}
    spec:
      {{- with .Values.nodeSelector }}
      nodeSelector: {{ toJson . }}
      {{- end }}
      containers: [{name: app, image: "nginx:1.27"}]
"""
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  message: {{ .Values.message | quote }}
"""
TEST_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-smoke
  annotations: {helm.sh/hook: test, helm.sh/hook-delete-policy: before-hook-creation}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: t, image: busybox}]
"""
CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.weir-test.example.com
spec:
  group: weir-test.example.com
  names: {{kind: {kind}, plural: {plural}, singular: {singular}}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
"""


@pytest.fixture
async def engine() -> AsyncIterator[SdkEngine]:
    eng = SdkEngine(concurrency=4)
    try:
        yield eng
    finally:
        await eng.aclose()


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    return write_chart(
        tmp_path / "demo",
        "demo",
        "1.0.0",
        values={"replicas": 1, "message": "hello", "nodeSelector": {}},
        templates={"deploy.yaml": DEPLOYMENT, "cm.yaml": CONFIGMAP, "test.yaml": TEST_JOB},
    )


@pytest.fixture
def access(kubeconfig: str) -> ClusterAccess:
    return ClusterAccess(kubeconfig=kubeconfig)


def _decode_release(secret: dict[str, Any]) -> dict[str, Any]:
    data = base64.b64decode(base64.b64decode(secret["data"]["release"]))
    decoded: dict[str, Any] = json.loads(gzip.decompress(data))
    return decoded


@pytest.mark.usefixtures("kwok_cluster")
async def test_release_lifecycle(
    engine: SdkEngine, chart: Path, access: ClusterAccess, kube: client.ApiClient, namespace: str
) -> None:
    """install -> upgrade (x3, maxHistory 2) -> test hooks -> rollback -> uninstall, waiting
    for the Deployment to become Available (kwok nodes) at every step."""
    opts = InstallOptions(timeout=60)
    rel = await engine.install(
        access, chart, "life", namespace, values={"message": "v1"}, options=opts
    )
    assert (rel.revision, rel.status, rel.chart_name, rel.chart_version) == (
        1,
        "deployed",
        "demo",
        "1.0.0",
    )

    # Release storage is Helm's own: Flux and the helm CLI read it.
    secret = await get(kube, SECRETS, namespace, "sh.helm.release.v1.life.v1")
    assert secret["type"] == "helm.sh/release.v1"
    assert secret["metadata"]["labels"]["owner"] == "helm"
    stored = _decode_release(secret)
    assert (stored["name"], stored["namespace"], stored["version"]) == ("life", namespace, 1)
    assert stored["config"] == {"message": "v1"}
    deploy = await get(kube, DEPLOYMENTS, namespace, "life-app")
    assert deploy["status"].get("availableReplicas") == 1  # waited for readiness

    up = UpgradeOptions(timeout=60, max_history=2)
    for n in (2, 3, 4):
        rel = await engine.upgrade(
            access, chart, "life", namespace, values={"message": f"v{n}"}, options=up
        )
        assert rel.revision == n
    history = await engine.history(access, "life", namespace)
    assert [(h.revision, h.status) for h in history] == [(3, "superseded"), (4, "deployed")]

    tested = await engine.test(access, "life", namespace, ReleaseTestOptions(timeout=60))
    hooks = tested.test_hooks
    assert hooks["life-smoke"].phase == "Succeeded"
    assert hooks["life-smoke"].started_at
    assert hooks["life-smoke"].completed_at

    back = await engine.rollback(access, "life", namespace, RollbackOptions(timeout=60, revision=3))
    assert (back.revision, back.status) == (5, "deployed")
    assert await engine.get_values(access, "life", namespace) == {"message": "v3"}
    cm = await get(kube, CONFIGMAPS, namespace, "life-config")
    assert cm["data"]["message"] == "v3"
    status = await engine.status(access, "life", namespace)
    assert status.revision == 5
    assert "life-config" in status.manifest
    assert status.first_deployed

    gone = await engine.uninstall(access, "life", namespace, UninstallOptions(timeout=60))
    assert gone is not None
    assert gone.status == "uninstalled"
    assert await engine.history(access, "life", namespace) == []
    with pytest.raises(NotFoundError):
        await get(kube, CONFIGMAPS, namespace, "life-config")


async def test_post_renderers_and_origin_labels(
    engine: SdkEngine, chart: Path, access: ClusterAccess, kube: client.ApiClient, namespace: str
) -> None:
    patch = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: any\n"
        "  labels: {patched: 'yes'}\ndata:\n  extra: from-kustomize\n"
    )
    spec = PostRenderSpec(
        kustomize=(
            KustomizeRenderer(
                patches=({"patch": patch, "target": {"kind": "ConfigMap"}},),
                images=({"name": "nginx", "newName": "registry.local/nginx", "newTag": "1.28"},),
            ),
        ),
        labels={"team": "data"},
        origin_name="podinfo",
        origin_namespace="flux-system",
    )
    opts = InstallOptions(wait=False, post_render=spec)
    rel = await engine.install(access, chart, "pr", namespace, options=opts)
    assert "from-kustomize" in rel.manifest
    cm = await get(kube, CONFIGMAPS, namespace, "pr-config")
    assert cm["data"]["extra"] == "from-kustomize"
    assert cm["metadata"]["labels"]["patched"] == "yes"
    for obj in (cm, await get(kube, DEPLOYMENTS, namespace, "pr-app")):
        labels = obj["metadata"]["labels"]
        assert labels["team"] == "data"
        assert labels["helm.toolkit.fluxcd.io/name"] == "podinfo"
        assert labels["helm.toolkit.fluxcd.io/namespace"] == "flux-system"
    deploy = await get(kube, DEPLOYMENTS, namespace, "pr-app")
    assert (
        deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.local/nginx:1.28"
    )

    rendered = await engine.render(access, chart, "pr", namespace, options=opts, is_upgrade=True)
    assert "registry.local/nginx:1.28" in rendered.manifest
    assert len(await engine.history(access, "pr", namespace)) == 1  # render stored nothing


async def test_adopts_existing_objects(
    engine: SdkEngine, chart: Path, access: ClusterAccess, kube: client.ApiClient, namespace: str
) -> None:
    existing = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "own-config", "namespace": namespace},
        "data": {"message": "by hand"},
    }
    await apply(kube, existing, "kubectl-client-side-apply")
    opts = InstallOptions(wait=False, take_ownership=False)
    with pytest.raises(ReleaseError, match="exists and cannot be imported"):
        await engine.install(access, chart, "own", namespace, options=opts)
    assert await engine.history(access, "own", namespace) == []

    rel = await engine.install(access, chart, "own", namespace, options=InstallOptions(wait=False))
    assert rel.status == "deployed"
    cm = await get(kube, CONFIGMAPS, namespace, "own-config")
    assert cm["data"]["message"] == "hello"
    assert cm["metadata"]["annotations"]["meta.helm.sh/release-name"] == "own"


async def test_crd_policies(
    engine: SdkEngine, tmp_path: Path, kube: client.ApiClient, namespace: str
) -> None:
    kind = f"W{namespace.replace('-', '')}"
    plural = kind.lower() + "s"
    crd_text = CRD.format(kind=kind, plural=plural, singular=kind.lower())
    chart = write_chart(tmp_path / "crdchart", "crdchart", "1.0.0", crds={"crd.yaml": crd_text})
    info = await engine.load_chart(chart)
    crds = crd_documents(info.crds)
    assert [c["metadata"]["name"] for c in crds] == [f"{plural}.weir-test.example.com"]
    name = crds[0]["metadata"]["name"]
    try:
        assert await apply_crds(kube, crds, "Skip", field_manager="helm-controller") == []
        created = await apply_crds(
            kube, crds, "Create", field_manager="helm-controller", origin=("hr", namespace)
        )
        assert created == [name]
        live = await get(kube, CRDS, None, name)
        assert live["metadata"]["labels"]["helm.toolkit.fluxcd.io/name"] == "hr"
        assert await apply_crds(kube, crds, "Create", field_manager="helm-controller") == []

        changed = [
            dict(
                crds[0],
                spec={
                    **crds[0]["spec"],
                    "names": {**crds[0]["spec"]["names"], "shortNames": ["wt"]},
                },
            )
        ]
        assert await apply_crds(
            kube, changed, "CreateReplace", field_manager="helm-controller"
        ) == [name]
        live = await get(kube, CRDS, None, name)
        assert live["spec"]["names"]["shortNames"] == ["wt"]
    finally:
        await delete(kube, CRDS, None, name, missing_ok=True)


async def test_errors_are_mapped(
    engine: SdkEngine, chart: Path, tmp_path: Path, access: ClusterAccess, namespace: str
) -> None:
    broken = write_chart(
        tmp_path / "broken",
        "broken",
        "1.0.0",
        templates={"x.yaml": '{{ fail "values.x is required" }}'},
    )
    with pytest.raises(RenderError, match=r"values\.x is required") as render_error:
        await engine.install(
            access, broken, "broken", namespace, options=InstallOptions(wait=False)
        )
    assert render_error.value.reason == "InstallFailed"
    assert not render_error.value.retryable

    # Never schedulable: waiting runs into the timeout, and Helm records a failed release.
    opts = InstallOptions(timeout=2)
    with pytest.raises(ReleaseTimeoutError):
        await engine.install(
            access,
            chart,
            "slow",
            namespace,
            values={"nodeSelector": {"nowhere": "x"}},
            options=opts,
        )
    assert [(h.revision, h.status) for h in await engine.history(access, "slow", namespace)] == [
        (1, "failed")
    ]

    with pytest.raises(ReleaseNotFoundError):
        await engine.upgrade(
            access, chart, "missing", namespace, options=UpgradeOptions(wait=False)
        )
    with pytest.raises(ReleaseNotFoundError):
        await engine.status(access, "missing", namespace)
    with pytest.raises(ReleaseNotFoundError):
        await engine.rollback(access, "missing", namespace)
    with pytest.raises(ReleaseNotFoundError):
        await engine.uninstall(access, "missing", namespace)
    assert (
        await engine.uninstall(
            access, "missing", namespace, UninstallOptions(ignore_not_found=True)
        )
        is None
    )
    assert await engine.history(access, "missing", namespace) == []
    with pytest.raises(UnsupportedOptionError, match="storageNamespace"):
        await engine.install(
            access, chart, "x", namespace, options=InstallOptions(storage_namespace="flux-system")
        )


async def test_impersonation(
    engine: SdkEngine, chart: Path, kubeconfig: str, kube: client.ApiClient, namespace: str
) -> None:
    await create(
        kube,
        ResourceRef("", "v1", "serviceaccounts", True),
        {"metadata": {"name": "deployer", "namespace": namespace}},
    )
    # A Role of its own: the aggregated ClusterRole "admin" has rules only once
    # kube-controller-manager has aggregated them, and this tier may run without it.
    await create(
        kube,
        ResourceRef("rbac.authorization.k8s.io", "v1", "roles", True),
        {
            "metadata": {"name": "deployer", "namespace": namespace},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
        },
    )
    await create(
        kube,
        ResourceRef("rbac.authorization.k8s.io", "v1", "rolebindings", True),
        {
            "metadata": {"name": "deployer-admin", "namespace": namespace},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "deployer",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": namespace}],
        },
    )
    sa = ClusterAccess(kubeconfig=kubeconfig).as_service_account(namespace, "deployer")
    opts = InstallOptions(wait=False)
    for _ in range(50):  # RBAC bindings take effect asynchronously
        try:
            rel = await engine.install(
                access=sa, chart=chart, name="imp", namespace=namespace, options=opts
            )
            break
        except ReleaseError as e:
            if "forbidden" not in str(e):
                raise
            await asyncio.sleep(0.1)
    assert rel.status == "deployed"
    with pytest.raises(ReleaseError, match="forbidden"):
        await engine.install(sa, chart, "imp2", "default", options=opts)


async def test_concurrency_and_cancellation(
    engine: SdkEngine, chart: Path, access: ClusterAccess, namespace: str, kube: client.ApiClient
) -> None:
    opts = InstallOptions(wait=False)
    releases = await asyncio.gather(
        *(engine.install(access, chart, f"par{i}", namespace, options=opts) for i in range(6))
    )
    assert sorted(r.name for r in releases) == [f"par{i}" for i in range(6)]
    assert {r.status for r in releases} == {"deployed"}

    # Two upgrades of one release at once are serialized, never "another operation in progress".
    up = UpgradeOptions(wait=False)
    first, second = await asyncio.gather(
        engine.upgrade(access, chart, "par0", namespace, values={"message": "a"}, options=up),
        engine.upgrade(access, chart, "par0", namespace, values={"message": "b"}, options=up),
    )
    assert sorted((first.revision, second.revision)) == [2, 3]

    # Cancelling the awaiting task cancels Helm's context: the release ends up failed.
    task = asyncio.create_task(
        engine.install(
            access,
            chart,
            "cancelled",
            namespace,
            values={"nodeSelector": {"nowhere": "x"}},
            options=InstallOptions(timeout=60),
        )
    )

    async def pending() -> bool:
        """Helm recorded the install (its storage Secret) and now waits for the Deployment,
        which cannot become ready (no node matches its selector)."""
        try:
            record = await get(kube, SECRETS, namespace, "sh.helm.release.v1.cancelled.v1")
        except NotFoundError:
            return False
        return bool(record["metadata"]["labels"].get("status") == "pending-install")

    await eventually(pending, "Helm to record the pending install")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    history = await engine.history(access, "cancelled", namespace)
    assert [h.status for h in history] == ["failed"]
