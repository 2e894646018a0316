"""GitOps core benchmark: time from ``git push`` to Ready.

Starts its own control plane (etcd + kube-apiserver), a loopback Git server and weir's source
and kustomize controllers in-process (the same Manager ``weir run`` uses), then measures:

1. one Kustomization of 10 objects: first sync (create -> Ready), and push -> Ready;
2. N Kustomizations (default 100) of the same repository: push -> all Ready.

"push -> Ready" starts when the commit lands in the bare repository; the GitRepository is then
poked with ``reconcile.fluxcd.io/requestedAt`` as a webhook Receiver would (otherwise the
figure would just measure ``spec.interval``). Flux's published figures (flux-benchmark, Flux
2.9 on a 16-core runner) are printed beside ours as a ratio.

Run: ``make bench`` or ``.venv/bin/python -m bench.gitops_bench [--count 100]``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
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
from weir.testing.controllers import running_controllers
from weir.testing.gitrepo import GitRepoFixture
from weir.testing.gitserver import GitHttpServer

GIT = lookup("GitRepository").resource
KS = lookup("Kustomization").resource
MANAGER = "weir-bench"
FLUX_100_KS_SECONDS = 26.0  # flux-benchmark RESULTS.md, Flux v2.9.0, 100 Kustomizations


def manifests(prefix: str, count: int, version: int) -> dict[str, str]:
    return {
        f"{prefix}/cm-{i}.yaml": (
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {prefix}-{i}\n"
            f"data:\n  version: '{version}'\n"
        )
        for i in range(count)
    }


async def kustomization(api: ApiClient, ns: str, name: str, path: str) -> None:
    await kapi.apply(
        api,
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "interval": "1h",
                "prune": True,
                "path": path,
                "targetNamespace": ns,
                "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            },
        },
        MANAGER,
    )


async def wait_applied(api: ApiClient, ns: str, sha: str, expected: int) -> float:
    """Poll (one LIST per round) until ``expected`` Kustomizations applied ``sha``."""
    t0 = time.monotonic()
    while True:
        items, _ = await list_all(api, KS, namespace=ns)
        done = sum(
            1
            for o in items
            if conditions.is_true(o, "Ready")
            and sha in str((o.get("status") or {}).get("lastAppliedRevision"))
        )
        if done >= expected:
            return time.monotonic() - t0
        if time.monotonic() - t0 > 600:
            failing = [
                (o["metadata"]["name"], (conditions.get(o, "Ready") or {}).get("message"))
                for o in items
                if not conditions.is_true(o, "Ready")
            ][:3]
            raise TimeoutError(
                f"only {done}/{expected} Kustomizations applied {sha[:8]}; e.g. {failing}"
            )
        await asyncio.sleep(0.05)


async def poke(api: ApiClient, ns: str, token: str) -> None:
    await kapi.patch(
        api,
        GIT,
        ns,
        "fleet",
        {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": token}}},
    )


async def scenario(
    api: ApiClient, repo: GitRepoFixture, ns: str, count: int, objects: int
) -> dict[str, float]:
    await kapi.create(api, NAMESPACES, {"metadata": {"name": ns}})
    files: dict[str, str | bytes | None] = {}
    for k in range(count):
        files.update(manifests(f"app{k}", objects, 1))
    sha = repo.commit(files, "v1", replace=True)
    t0 = time.monotonic()
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": ns},
            "spec": {"url": repo.url, "interval": "1h", "ref": {"branch": "master"}},
        },
        MANAGER,
    )
    await asyncio.gather(*(kustomization(api, ns, f"app{k}", f"./app{k}") for k in range(count)))
    await wait_applied(api, ns, sha, count)
    first = time.monotonic() - t0

    files = {}
    for k in range(count):
        files.update(manifests(f"app{k}", objects, 2))
    t0 = time.monotonic()
    sha = repo.commit(files, "v2")
    await poke(api, ns, "v2")
    await wait_applied(api, ns, sha, count)
    push = time.monotonic() - t0
    return {"first_sync": first, "push_to_ready": push}


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="weir-bench-") as tmp:
        root = Path(tmp)
        cluster = DevCluster(root / "cluster")
        t0 = time.monotonic()
        cluster.up()
        started = time.monotonic() - t0
        try:
            with GitHttpServer(root / "git") as server:
                api = await api_client(str(cluster.kubeconfig_path))
                async with api:
                    await install_crds(api)
                    async with running_controllers(
                        str(cluster.kubeconfig_path), root / "storage", concurrent=10
                    ):
                        one = await scenario(api, server.create_repo("one.git"), "bench-one", 1, 10)
                        many = await scenario(
                            api, server.create_repo("many.git"), "bench-many", count, 1
                        )
        finally:
            cluster.down()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows: list[tuple[str, Any, Any, str]] = [
        ("control plane start", f"{started:.1f}s", "", ""),
        ("1 Kustomization x 10 objects, first sync", f"{one['first_sync']:.2f}s", "", ""),
        ("1 Kustomization x 10 objects, push -> Ready", f"{one['push_to_ready']:.2f}s", "", ""),
        (f"{count} Kustomizations, first sync", f"{many['first_sync']:.1f}s", "", ""),
        (
            f"{count} Kustomizations, push -> all Ready",
            f"{many['push_to_ready']:.1f}s",
            f"{FLUX_100_KS_SECONDS:.0f}s" if count == 100 else "",
            f"{many['push_to_ready'] / FLUX_100_KS_SECONDS:.2f}x Flux" if count == 100 else "",
        ),
        ("max RSS of this process (controllers + bench)", f"{rss_mib:.0f} MiB", "134 MiB", ""),
    ]
    print(f"{'measure':<48} {'weir':>10} {'Flux 2.9':>10}  ratio")
    for name, ours, flux, ratio in rows:
        print(f"{name:<48} {ours:>10} {flux:>10}  {ratio}")
    print(
        "\nFlux figures: flux-benchmark RESULTS.md (16-core runner, kind, KC concurrency 20); "
        "weir: this machine (2 cores), KC concurrency 10, one process for everything."
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100, help="Kustomizations in scenario 2")
    args = parser.parse_args()
    # Runs that wait for a source's first artifact log warnings; only errors matter here.
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main(args.count))
