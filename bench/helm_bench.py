"""Helm delivery benchmark: time for N HelmReleases (default 100) to become Ready.

Starts its own control plane with kwok nodes (so Deployments become available), a loopback Helm
chart repository and weir's source and helm controllers in-process (the same Manager ``weir run``
uses), then measures:

1. N HelmReleases of one chart (each with its own HelmChart, from one HelmRepository) created at
   once: create -> all Ready (installed, workloads ready);
2. a values change on all of them: patch -> all upgraded and Ready.

The chart is shaped like flux-benchmark's podinfo app: a ServiceAccount, a Service, a ConfigMap
and a Deployment (1 replica here, which kwok makes ready; flux-benchmark scales it to 0).
Flux's published figure (flux-benchmark RESULTS.md, Flux v2.9.0 on a 16-core runner, 100
HelmReleases in 26s, flux-api.md §6.4) is printed beside ours as a ratio.

Run: ``make bench`` or ``.venv/bin/python -m bench.helm_bench [--count 100]``.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.api.kinds import lookup
from weir.crdinstall import install_crds
from weir.devcluster import DevCluster
from weir.kube import apply as kapi
from weir.kube.client import api_client
from weir.kube.informer import list_all
from weir.kube.resources import NAMESPACES
from weir.runtime import conditions
from weir.testing.chartrepo import ChartRepoServer, write_chart
from weir.testing.controllers import running_controllers

HR = lookup("HelmRelease").resource
MANAGER = "weir-bench"
FLUX_100_HR_SECONDS = 26.0  # flux-benchmark RESULTS.md, Flux v2.9.0, 100 HelmReleases
FLUX_HC_MEMORY = "286 MiB"  # helm-controller max memory in the same run

TEMPLATES = {
    "serviceaccount.yaml": (
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Release.Name }}\n"
    ),
    "service.yaml": (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
        "  selector: {app: {{ .Release.Name }}}\n  ports: [{name: http, port: 9898}]\n"
    ),
    "configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n"
        "  message: {{ .Values.message | quote }}\n"
    ),
    "deployment.yaml": """\
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
      serviceAccountName: {{ .Release.Name }}
      containers: [{name: podinfo, image: "ghcr.io/stefanprodan/podinfo:6.7.0"}]
""",
}


async def helm_release(api: ApiClient, ns: str, name: str, message: str) -> None:
    await kapi.apply(
        api,
        {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "interval": "1h",
                "chart": {
                    "spec": {
                        "chart": "podinfo",
                        "version": "6.x",
                        "sourceRef": {"kind": "HelmRepository", "name": "charts"},
                    }
                },
                "values": {"message": message},
            },
        },
        MANAGER,
    )


async def wait_ready(api: ApiClient, ns: str, expected: int, revision_in_message: str) -> float:
    """Poll (one LIST per round) until ``expected`` HelmReleases are Ready with a Ready message
    naming ``revision_in_message`` (``.v1`` after the install, ``.v2`` after the upgrade)."""
    t0 = time.monotonic()
    while True:
        items, _ = await list_all(api, HR, namespace=ns)
        done = sum(
            1
            for o in items
            if conditions.is_true(o, "Ready")
            and revision_in_message in str((conditions.get(o, "Ready") or {}).get("message"))
        )
        if done >= expected:
            return time.monotonic() - t0
        if time.monotonic() - t0 > 900:
            failing = [
                (o["metadata"]["name"], (conditions.get(o, "Ready") or {}).get("message"))
                for o in items
                if not conditions.is_true(o, "Ready")
            ][:3]
            raise TimeoutError(f"only {done}/{expected} HelmReleases are Ready; e.g. {failing}")
        await asyncio.sleep(0.1)


async def scenario(api: ApiClient, repo: ChartRepoServer, ns: str, count: int) -> dict[str, float]:
    await kapi.create(api, NAMESPACES, {"metadata": {"name": ns}})
    t0 = time.monotonic()
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": "charts", "namespace": ns},
            "spec": {"url": repo.url, "interval": "1h"},
        },
        MANAGER,
    )
    await asyncio.gather(*(helm_release(api, ns, f"app{k}", "v1") for k in range(count)))
    await wait_ready(api, ns, count, ".v1 ")
    install = time.monotonic() - t0

    t0 = time.monotonic()
    await asyncio.gather(*(helm_release(api, ns, f"app{k}", "v2") for k in range(count)))
    await wait_ready(api, ns, count, ".v2 ")
    upgrade = time.monotonic() - t0
    return {"install": install, "upgrade": upgrade}


async def main(count: int, concurrent: int) -> None:
    with tempfile.TemporaryDirectory(prefix="weir-helm-bench-") as tmp:
        root = Path(tmp)
        cluster = DevCluster(root / "cluster")
        t0 = time.monotonic()
        cluster.up()
        cluster.add_nodes(2)
        started = time.monotonic() - t0
        try:
            with ChartRepoServer(root / "charts") as repo:
                values: dict[str, Any] = {"replicas": 1, "message": "hello"}
                repo.add_chart(
                    write_chart(
                        root / "podinfo", "podinfo", "6.7.0", values=values, templates=TEMPLATES
                    )
                )
                api = await api_client(str(cluster.kubeconfig_path))
                async with api:
                    await install_crds(api)
                    async with running_controllers(
                        str(cluster.kubeconfig_path),
                        root / "storage",
                        "source,helm",
                        concurrent=concurrent,
                    ):
                        one = await scenario(api, repo, "bench-one", 1)
                        many = await scenario(api, repo, "bench-many", count)
        finally:
            cluster.down()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    flux = f"{FLUX_100_HR_SECONDS:.0f}s" if count == 100 else ""
    ratio = f"{many['install'] / FLUX_100_HR_SECONDS:.2f}x Flux" if count == 100 else ""
    rows: list[tuple[str, str, str, str]] = [
        ("control plane + kwok nodes start", f"{started:.1f}s", "", ""),
        ("1 HelmRelease, create -> Ready (install)", f"{one['install']:.2f}s", "", ""),
        ("1 HelmRelease, values change -> Ready (upgrade)", f"{one['upgrade']:.2f}s", "", ""),
        (f"{count} HelmReleases, create -> all Ready", f"{many['install']:.1f}s", flux, ratio),
        (f"{count} HelmReleases, values change -> all Ready", f"{many['upgrade']:.1f}s", "", ""),
        ("max RSS of this process (controllers + bench)", f"{rss_mib:.0f} MiB", FLUX_HC_MEMORY, ""),
    ]
    print(f"{'measure':<50} {'weir':>10} {'Flux 2.9':>10}  ratio")
    for name, ours, theirs, r in rows:
        print(f"{name:<50} {ours:>10} {theirs:>10}  {r}")
    print(
        "\nFlux figures: flux-benchmark RESULTS.md (16-core runner, kind, helm-controller "
        f"concurrency 10, podinfo scaled to 0); weir: this machine, concurrency {concurrent}, "
        "one process for source and helm controllers, the Helm engine in process."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100, help="HelmReleases in scenario 2")
    parser.add_argument("--concurrent", type=int, default=10, help="workers per controller")
    args = parser.parse_args()
    asyncio.run(main(args.count, args.concurrent))
