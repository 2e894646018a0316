"""Push -> Ready with a webhook Receiver, against the interval-driven path.

Starts its own control plane, a Git forge and weir's source, kustomize and notification
controllers in-process (the Manager ``weir run`` uses), then pushes ``--pushes`` commits (20)
to a repository synced by one GitRepository + Kustomization (10 ConfigMaps) and times each
push until the Kustomization is Ready at the new commit:

- **receiver**: the forge's push webhook reaches a Receiver (type ``github``), which
  annotates the GitRepository (its interval is 1h, so nothing else triggers it);
- **interval**: no webhook; the GitRepository polls every ``--interval`` (30s; Flux's
  bootstrap uses 1m).

The forge is Gitea (the default: its real push webhooks; ``make tools`` builds it) or weir's
loopback Git server (``--forge local``), for which the benchmark sends the webhook GitHub's way
(``X-Hub-Signature-256``, ``X-GitHub-Event: push``) right after the push, as a forge does.
Times run from the moment the commit lands in the forge. p50/p90/max are printed for both.

Run: ``.venv/bin/python -m bench.receiver_bench [--pushes 20] [--interval 30s]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from kubernetes_asyncio.client import ApiClient

from weir.api.kinds import lookup
from weir.crdinstall import install_crds
from weir.devcluster import DevCluster
from weir.devcluster.process import free_port
from weir.kube import apply as kapi
from weir.kube.client import api_client
from weir.kube.resources import NAMESPACES
from weir.log import configure
from weir.notification.settings import NotificationSettings
from weir.runtime import conditions
from weir.runtime.durations import format_duration, parse_duration
from weir.testing.controllers import running_controllers
from weir.testing.gitea import GiteaRepo, GiteaServer
from weir.testing.gitrepo import GitRepoFixture
from weir.testing.gitserver import GitHttpServer

KS = lookup("Kustomization").resource
RECEIVER = lookup("Receiver").resource
MANAGER = "weir-bench"
TOKEN = "bench-webhook-token"
Push = Callable[[int], Awaitable[tuple[str, float]]]
"""Push version ``n``; returns the commit sha and the moment it landed in the forge
(``time.monotonic()``), sending the webhook afterwards when the forge is ours."""


def manifests(version: int) -> dict[str, str | bytes | None]:
    return {
        f"app/cm-{i}.yaml": (
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{i}\n"
            f"data:\n  version: '{version}'\n"
        )
        for i in range(10)
    }


async def fleet(
    api: ApiClient, ns: str, url: str, interval: str, branch: str, secret: str | None = None
) -> None:
    await kapi.create(api, NAMESPACES, {"metadata": {"name": ns}})
    spec: dict[str, Any] = {"url": url, "interval": interval, "ref": {"branch": branch}}
    if secret:
        spec["secretRef"] = {"name": secret}
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": ns},
            "spec": spec,
        },
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
    ]
    for obj in objects:
        await kapi.apply(api, obj, MANAGER)


async def receiver(api: ApiClient, ns: str) -> str:
    """A ``github`` Receiver for the GitRepository; returns its webhook path."""
    await kapi.apply(
        api,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "webhook-token", "namespace": ns},
            "data": {"token": base64.b64encode(TOKEN.encode()).decode()},
        },
        MANAGER,
    )
    await kapi.apply(
        api,
        {
            "apiVersion": "notification.toolkit.fluxcd.io/v1",
            "kind": "Receiver",
            "metadata": {"name": "push", "namespace": ns},
            "spec": {
                "type": "github",
                "events": ["push"],
                "secretRef": {"name": "webhook-token"},
                "resources": [{"kind": "GitRepository", "name": "fleet"}],
            },
        },
        MANAGER,
    )
    while True:
        obj = await kapi.get(api, RECEIVER, ns, "push")
        path = (obj.get("status") or {}).get("webhookPath")
        if path and conditions.is_true(obj, "Ready"):
            return str(path)
        await asyncio.sleep(0.05)


async def wait_applied(api: ApiClient, ns: str, sha: str, timeout: float) -> float:
    t0 = time.monotonic()
    while True:
        obj = await kapi.get(api, KS, ns, "app")
        applied = str((obj.get("status") or {}).get("lastAppliedRevision") or "")
        if sha in applied and conditions.is_true(obj, "Ready"):
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"the Kustomization did not apply {sha[:8]} in {timeout:.0f}s")
        await asyncio.sleep(0.02)


async def measure(
    api: ApiClient, ns: str, push: Push, first: str, pushes: int, spread: float, timeout: float
) -> list[float]:
    """Wait for the first sync (``first``, not measured), then time ``pushes`` pushes, each at
    a random moment within ``spread`` seconds (pushes do not follow the poll cycle)."""
    await wait_applied(api, ns, first, 120)
    times = []
    for n in range(1, pushes + 1):
        await asyncio.sleep(random.uniform(0.2, 0.2 + spread))
        sha, landed = await push(n)
        await wait_applied(api, ns, sha, timeout)
        times.append(time.monotonic() - landed)
    return times


def local_pusher(repo: GitRepoFixture, hook_url: str | None, http: httpx.AsyncClient) -> Push:
    async def push(n: int) -> tuple[str, float]:
        sha = repo.commit(manifests(n), f"v{n}")
        landed = time.monotonic()
        if hook_url is not None:
            body = orjson.dumps({"ref": f"refs/heads/{repo.default_branch}", "after": sha})
            signature = hmac.new(TOKEN.encode(), body, hashlib.sha256).hexdigest()
            answer = await http.post(
                hook_url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-GitHub-Event": "push",
                    "X-Hub-Signature-256": f"sha256={signature}",
                },
            )
            answer.raise_for_status()
        return sha, landed

    return push


def gitea_pusher(repo: GiteaRepo) -> Push:
    """A real push to Gitea (its webhooks, when the repository has one, are Gitea's own)."""

    async def push(n: int) -> tuple[str, float]:
        sha = await asyncio.to_thread(repo.commit, manifests(n), f"v{n}")
        return sha, time.monotonic()

    return push


def summary(times: list[float]) -> str:
    q = statistics.quantiles(times, n=10, method="inclusive") if len(times) >= 2 else times * 9
    return (
        f"p50 {statistics.median(times):6.2f}s  p90 {q[8]:6.2f}s  max {max(times):6.2f}s  "
        f"(n={len(times)})"
    )


async def main(pushes: int, interval: str, forge: str) -> None:
    seconds = parse_duration(interval)
    receiver_port = free_port()
    with tempfile.TemporaryDirectory(prefix="weir-bench-") as tmp:
        root = Path(tmp)
        cluster = DevCluster(root / "cluster")
        cluster.up()
        try:
            api = await api_client(str(cluster.kubeconfig_path))
            async with api, httpx.AsyncClient(timeout=10) as http:
                await install_crds(api)
                async with running_controllers(
                    str(cluster.kubeconfig_path),
                    root / "storage",
                    "source,kustomize,notification",
                    notification=NotificationSettings(receiver_addr=f"127.0.0.1:{receiver_port}"),
                ):
                    if forge == "gitea":
                        results = await _gitea(api, http, root, pushes, seconds, receiver_port)
                    else:
                        results = await _local(api, http, root, pushes, seconds, receiver_port)
        finally:
            cluster.down()
    hooked, polled = results
    print(f"push -> Ready over {pushes} pushes ({forge} forge, 1 Kustomization x 10 objects)")
    print(f"  with a Receiver            {summary(hooked)}")
    print(f"  interval {format_duration(seconds):<6}           {summary(polled)}")
    print(
        f"  ratio of p50s              {statistics.median(polled) / statistics.median(hooked):.1f}x"
    )


async def _local(
    api: ApiClient,
    http: httpx.AsyncClient,
    root: Path,
    pushes: int,
    interval: float,
    receiver_port: int,
) -> tuple[list[float], list[float]]:
    with GitHttpServer(root / "git") as server:
        hooked_repo = server.create_repo("hooked.git")
        first = hooked_repo.commit(manifests(0), "v0")
        await fleet(api, "bench-hooked", hooked_repo.url, "1h", hooked_repo.default_branch)
        path = await receiver(api, "bench-hooked")
        hook = f"http://127.0.0.1:{receiver_port}{path}"
        push = local_pusher(hooked_repo, hook, http)
        hooked = await measure(api, "bench-hooked", push, first, pushes, 1.0, 120)
        polled_repo = server.create_repo("polled.git")
        first = polled_repo.commit(manifests(0), "v0")
        await fleet(
            api,
            "bench-polled",
            polled_repo.url,
            format_duration(interval),
            polled_repo.default_branch,
        )
        push = local_pusher(polled_repo, None, http)
        polled = await measure(api, "bench-polled", push, first, pushes, interval, interval * 3)
    return hooked, polled


async def _gitea(
    api: ApiClient,
    http: httpx.AsyncClient,
    root: Path,
    pushes: int,
    interval: float,
    receiver_port: int,
) -> tuple[list[float], list[float]]:
    with GiteaServer(root / "gitea") as gitea:
        client = gitea.client(gitea.create_user())
        hooked_repo = client.create_repo("hooked")
        first, _ = await gitea_pusher(hooked_repo)(0)
        await fleet(api, "bench-hooked", hooked_repo.clone_url, "1h", hooked_repo.default_branch)
        path = await receiver(api, "bench-hooked")
        hook = f"http://127.0.0.1:{receiver_port}{path}"
        await asyncio.to_thread(hooked_repo.create_webhook, hook, secret=TOKEN)
        push = gitea_pusher(hooked_repo)
        hooked = await measure(api, "bench-hooked", push, first, pushes, 1.0, 120)
        polled_repo = client.create_repo("polled")
        first, _ = await gitea_pusher(polled_repo)(0)
        await fleet(
            api,
            "bench-polled",
            polled_repo.clone_url,
            format_duration(interval),
            polled_repo.default_branch,
        )
        push = gitea_pusher(polled_repo)
        polled = await measure(api, "bench-polled", push, first, pushes, interval, interval * 3)
    return hooked, polled


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pushes", type=int, default=20, help="pushes measured per path")
    parser.add_argument("--interval", default="30s", help="GitRepository interval (polled path)")
    parser.add_argument("--forge", choices=("local", "gitea"), default="gitea")
    args = parser.parse_args()
    configure("error", "console")  # errors with their fields (object, reason, message)
    asyncio.run(main(args.pushes, args.interval, args.forge))
