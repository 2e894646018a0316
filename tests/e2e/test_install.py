"""Installing weir into a cluster as the user's guide installs the Flux Operator, on a control
plane of its own (clean: nothing else installed) with a kwok node.

kwok runs no containers: the chart's operator Deployment and the controller Deployments the
operator creates get fake pods, and :class:`~weir.testing.podrunner.PodRunner` runs each of
those containers' real command here, authenticated as the pod's ServiceAccount (a TokenRequest
token): so what is tested is the chart's RBAC and the operator's, not an admin's.

1. ``weir install`` then ``weir uninstall --delete-crds`` leave the cluster as they found it.
2. The chart is packaged, pushed to a loopback OCI registry and installed with the guide's
   command (``helm install flux-operator oci://... --set web.ingress...``) by the real Helm
   CLI; the Service, Ingress and roles are what the guide expects; then the operator, with
   only the chart's RBAC, installs a FluxInstance whose controllers, each with only the
   operator-rendered RBAC, sync a fleet (Kustomization, HelmRelease, Deployment) to Ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import eventually
from weir.devcluster import DevCluster
from weir.kube import apply as kapi
from weir.kube.client import api_client
from weir.kube.errors import NotFoundError
from weir.kube.resources import ResourceRef
from weir.testing.chartrepo import ChartRepoServer, write_chart
from weir.testing.gitrepo import GitRepoFixture
from weir.testing.gitserver import GitHttpServer
from weir.testing.helmcli import helm
from weir.testing.ociregistry import Registry
from weir.testing.podrunner import PodRunner, weir_command
from weir.types import Obj

pytestmark = pytest.mark.timeout(900)
ROOT = Path(__file__).resolve().parents[2]
NS = "flux-system"
KUBECTL = str(Path(sys.executable).with_name("kubectl"))
DEPLOYMENTS = ResourceRef("apps", "v1", "deployments", True, "Deployment")
SERVICES = ResourceRef("", "v1", "services", True, "Service")
INGRESSES = ResourceRef("networking.k8s.io", "v1", "ingresses", True, "Ingress")
CLUSTER_ROLES = ResourceRef("rbac.authorization.k8s.io", "v1", "clusterroles", False, "ClusterRole")
INSTANCES = ResourceRef("fluxcd.controlplane.io", "v1", "fluxinstances", True, "FluxInstance")
KUSTOMIZATIONS = ResourceRef(
    "kustomize.toolkit.fluxcd.io", "v1", "kustomizations", True, "Kustomization"
)
HELM_RELEASES = ResourceRef("helm.toolkit.fluxcd.io", "v2", "helmreleases", True, "HelmRelease")
CONFIG_MAPS = ResourceRef("", "v1", "configmaps", True, "ConfigMap")
GUIDE_SETS = [
    "web.ingress.enabled=true",
    "web.ingress.className=nginx",
    "web.ingress.hosts[0].host=flux.example.test",
    "web.ingress.hosts[0].paths[0].path=/",
    "web.ingress.hosts[0].paths[0].pathType=Prefix",
]
CONTROLLERS = ("source-controller", "kustomize-controller", "helm-controller")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevCluster]:
    dev = DevCluster(tmp_path_factory.mktemp("install-cluster"))
    dev.up(nodes=1)
    try:
        yield dev
    finally:
        dev.down()


@pytest.fixture
async def api(cluster: DevCluster) -> AsyncIterator[ApiClient]:
    client = await api_client(str(cluster.kubeconfig_path))
    async with client:
        yield client


def _ready(obj: Obj | None) -> bool:
    if obj is None:
        return False
    gen = obj["metadata"].get("generation")
    return any(
        c["type"] == "Ready"
        and c["status"] == "True"
        and c.get("observedGeneration") in (gen, None)
        for c in (obj.get("status") or {}).get("conditions") or []
    )


async def _get(api: ApiClient, ref: ResourceRef, ns: str | None, name: str) -> Obj | None:
    try:
        return await kapi.get(api, ref, ns, name)
    except NotFoundError:
        return None


def _snapshot(kubeconfig: Path) -> set[str]:
    """Every object the API server lists (``kind/ns/name``), Events and Leases aside."""

    def kubectl(*args: str) -> str:
        out = subprocess.run(
            [KUBECTL, f"--kubeconfig={kubeconfig}", *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return out.stdout

    skip = {"events", "events.events.k8s.io", "leases.coordination.k8s.io"}
    kinds = [k for k in kubectl("api-resources", "--verbs=list", "-o", "name").split() if k]
    found: set[str] = set()
    for kind in kinds:
        if kind in skip:
            continue
        columns = "custom-columns=NS:.metadata.namespace,N:.metadata.name"
        out = kubectl("get", kind, "-A", "-o", columns, "--no-headers")
        found |= {f"{kind}/{'/'.join(line.split())}" for line in out.splitlines() if line.strip()}
    return found


async def _kubelet(runner: PodRunner, api: ApiClient, names: tuple[str, ...]) -> None:
    """Like a kubelet: start each named Deployment's container once the Deployment exists,
    stop them all when the first is deleted."""
    started: set[str] = set()
    while True:
        for name in names:
            live = await _get(api, DEPLOYMENTS, NS, name)
            if live is None and name in started:
                await runner.stop()
                return
            if live is not None and name not in started:
                await runner.start(NS, name)
                started.add(name)
        await asyncio.sleep(0.5)


async def _weir(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *weir_command(),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    text = out.decode()
    assert proc.returncode == 0, f"weir {' '.join(args)}:\n{text}"
    return text


async def test_weir_install_then_uninstall_leaves_nothing_behind(
    cluster: DevCluster, api: ApiClient, tmp_path: Path
) -> None:
    kubeconfig = cluster.kubeconfig_path
    before = await asyncio.to_thread(_snapshot, kubeconfig)
    instance = tmp_path / "flux-instance.yaml"
    instance.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "fluxcd.controlplane.io/v1",
                "kind": "FluxInstance",
                "metadata": {"name": "flux", "namespace": NS},
                "spec": {
                    "distribution": {"version": "2.x", "registry": "ghcr.io/fluxcd"},
                    "components": ["source-controller", "kustomize-controller"],
                    "cluster": {"networkPolicy": True},
                },
            }
        )
    )
    runner = PodRunner(api, kubeconfig, tmp_path / "pods")
    kubelet = asyncio.create_task(_kubelet(runner, api, ("flux-operator",)))
    try:
        out = await _weir(
            "install", f"--instance={instance}", f"--kubeconfig={kubeconfig}", "--timeout=4m"
        )
        assert "FluxInstance flux-system/flux Ready" in out, out
        assert "Deployment flux-system/flux-operator available" in out, out
        # Idempotent: a second run applies the same objects and finds everything ready.
        again = await _weir(
            "install", f"--instance={instance}", f"--kubeconfig={kubeconfig}", "--timeout=2m"
        )
        assert "installed" in again
        live = await kapi.get(api, INSTANCES, NS, "flux")
        assert _ready(live), live.get("status")
        for name in ("source-controller", "kustomize-controller"):
            assert await _get(api, DEPLOYMENTS, NS, name) is not None
        # Uninstall keeps the Flux objects unless asked: --delete-crds asks.
        out = await _weir("uninstall", f"--kubeconfig={kubeconfig}", "--delete-crds")
        assert "FluxInstance flux-system/flux deleted" in out, out
        assert "namespace flux-system deleted" in out, out
        await asyncio.wait_for(kubelet, 60)
    finally:
        kubelet.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await kubelet
        await runner.stop()
    after = await asyncio.to_thread(_snapshot, kubeconfig)
    assert after - before == set(), sorted(after - before)


def _helm(*args: str, home: Path) -> str:
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    result = helm(*args, env=env)
    assert result.returncode == 0, f"helm {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def _fleet(repo_dir: Path, chart_url: str) -> dict[str, str]:
    objects: list[Obj] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "apps"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        },
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": "charts", "namespace": NS},
            "spec": {"interval": "10m", "url": chart_url},
        },
        {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": "hello", "namespace": "apps"},
            "spec": {
                "interval": "10m",
                "chart": {
                    "spec": {
                        "chart": "hello",
                        "sourceRef": {"kind": "HelmRepository", "name": "charts", "namespace": NS},
                    }
                },
                "values": {"message": "synced by weir"},
            },
        },
    ]
    return {"clusters/test/fleet.yaml": yaml.safe_dump_all(objects)}


async def test_helm_install_from_oci_as_the_guide_types_it_then_the_charts_rbac_syncs_a_fleet(
    cluster: DevCluster, api: ApiClient, tmp_path: Path
) -> None:
    kubeconfig = str(cluster.kubeconfig_path)
    home = tmp_path / "helm"
    with Registry() as registry:
        # Published as users publish charts, installed with the guide's command.
        out = _helm("package", str(ROOT / "charts" / "weir"), "-d", str(tmp_path), home=home)
        (archive,) = list(tmp_path.glob("weir-*.tgz"))  # noqa: ASYNC240
        assert archive.name in out
        pushed = _helm(
            "push", str(archive), f"oci://{registry.host}/charts", "--plain-http", home=home
        )
        assert "sha256:" in pushed
        sets = [arg for s in GUIDE_SETS for arg in ("--set", s)]
        _helm(
            "install", "flux-operator", f"oci://{registry.host}/charts/weir",
            "--namespace", NS, "--create-namespace", *sets,
            "--plain-http", f"--kubeconfig={kubeconfig}", home=home,
        )  # fmt: skip
        listed = _helm("list", "-n", NS, f"--kubeconfig={kubeconfig}", home=home)
        assert "flux-operator" in listed
        assert "deployed" in listed

    svc = await kapi.get(api, SERVICES, NS, "flux-operator")
    web = [p for p in svc["spec"]["ports"] if p["name"] == "http-web"]
    assert web == [{"name": "http-web", "port": 9080, "protocol": "TCP", "targetPort": "http-web"}]
    ingress = await kapi.get(api, INGRESSES, NS, "flux-operator")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "flux.example.test"
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    assert path["backend"]["service"] == {"name": "flux-operator", "port": {"name": "http-web"}}
    for role in ("flux-web-user", "flux-web-admin"):
        assert await _get(api, CLUSTER_ROLES, None, role) is not None

    # The operator with the chart's identity and RBAC; the web UI on what would be :9080.
    runner = PodRunner(api, cluster.kubeconfig_path, tmp_path / "pods")
    git_root = tmp_path / "git"
    credentials = ("fleet", "s3cret-token")
    try:
        operator = await runner.start(NS, "flux-operator")
        async with httpx.AsyncClient(timeout=10) as http:
            page = await http.get(operator.url("--web-addr"))
        assert page.status_code == 200

        with (
            GitHttpServer(git_root, basic_auth=credentials) as git,
            ChartRepoServer(tmp_path / "charts") as charts,
        ):
            charts.add_chart(
                write_chart(tmp_path / "hello", "hello", "1.0.0", values={"message": "hi"})
            )
            charts.write_index()
            repo = GitRepoFixture.create(git_root / "fleet.git", git.url("fleet.git"), "main")
            repo.commit(_fleet(tmp_path, charts.url), "fleet")
            await _weir(
                "create", "secret", "git", "flux-system", f"--url={git.url('fleet.git')}",
                f"--username={credentials[0]}", f"--password={credentials[1]}",
                f"--kubeconfig={kubeconfig}",
            )  # fmt: skip
            instance = {
                "apiVersion": "fluxcd.controlplane.io/v1",
                "kind": "FluxInstance",
                "metadata": {"name": "flux", "namespace": NS},
                "spec": {
                    "distribution": {"version": "2.x", "registry": "ghcr.io/fluxcd"},
                    "components": list(CONTROLLERS),
                    "cluster": {"type": "kubernetes", "size": "small"},
                    "sync": {
                        "kind": "GitRepository",
                        "url": git.url("fleet.git"),
                        "ref": "refs/heads/main",
                        "path": "clusters/test",
                        "pullSecret": "flux-system",
                    },
                },
            }
            await kapi.apply(api, instance, "test", force=True)

            # The controllers' pods, each with the ServiceAccount the operator gave it.
            for name in CONTROLLERS:

                async def rendered(name: str = name) -> Obj | None:
                    return await _get(api, DEPLOYMENTS, NS, name)

                await eventually(rendered, f"Deployment {name}", 120)
                await runner.start(NS, name)

            async def synced() -> bool:
                ks = await _get(api, KUSTOMIZATIONS, NS, "flux-system")
                hr = await _get(api, HELM_RELEASES, "apps", "hello")
                inst = await _get(api, INSTANCES, NS, "flux")
                dep = await _get(api, DEPLOYMENTS, "apps", "web")
                available = (
                    dep is not None and (dep.get("status") or {}).get("availableReplicas") == 1
                )
                runner.check()
                return _ready(ks) and _ready(hr) and _ready(inst) and available

            await eventually(synced, "the fleet synced by the chart-installed weir", 240)
            cm = await kapi.get(api, CONFIG_MAPS, "apps", "hello-config")
            assert cm["data"]["message"] == "synced by weir"

            await kapi.delete(api, INSTANCES, NS, "flux")

            async def instance_gone() -> bool:
                return await _get(api, INSTANCES, NS, "flux") is None

            await eventually(instance_gone, "the FluxInstance uninstalled", 120)
    finally:
        await runner.stop()
    _helm("uninstall", "flux-operator", "-n", NS, f"--kubeconfig={kubeconfig}", home=home)
