"""A demo fleet written straight into the API server, with the status a controller would have
written: for the API tests, the benchmark (many objects fast) and trying the UI without Git.

:func:`populate` creates, in one namespace::

    GitRepository fleet (Ready) -> Kustomization infra (Ready) -> ConfigMap settings,
                                                                  Deployment redis
                                -> Kustomization apps (dependsOn infra; Ready=False)
                                   -> HelmRelease podinfo (Ready) -> Deployment podinfo
    HelmRepository charts (Ready) -> HelmChart <ns>-podinfo (Ready) -> HelmRelease podinfo

:func:`bulk` creates ``count`` Kustomizations of one GitRepository, a share of them failing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.api import KINDS
from weir.kube import apply
from weir.kube.resources import CONFIG_MAPS
from weir.types import Obj

FIELD_MANAGER = "weir-demo"
STATUS_MANAGER = "weir-demo-controller"
REVISION = "main@sha1:0123456789abcdef0123456789abcdef01234567"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ready(status: str, reason: str, message: str) -> Obj:
    return {
        "type": "Ready",
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": now(),
        "observedGeneration": 1,
    }


def artifact(revision: str, name: str) -> Obj:
    return {
        "revision": revision,
        "digest": "sha256:" + "0" * 64,
        "lastUpdateTime": now(),
        "path": f"gitrepository/demo/{name}/artifact.tar.gz",
        "url": f"http://127.0.0.1:1/gitrepository/demo/{name}/artifact.tar.gz",
        "size": 1024,
    }


def entry(namespace: str, name: str, group: str, kind: str, version: str = "v1") -> Obj:
    return {"id": f"{namespace}_{name}_{group}_{kind}", "v": version}


def owned(obj: Obj, kind: str, namespace: str, name: str) -> Obj:
    group = "kustomize" if kind == "Kustomization" else "helm"
    labels = obj["metadata"].setdefault("labels", {})
    labels[f"{group}.toolkit.fluxcd.io/name"] = name
    labels[f"{group}.toolkit.fluxcd.io/namespace"] = namespace
    return obj


def git_repository(ns: str, name: str) -> Obj:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "url": "https://git.example.com/fleet",
            "interval": "1m",
            "ref": {"branch": "main"},
        },
    }


def kustomization(ns: str, name: str, path: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "interval": "10m",
            "path": path,
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            **spec,
        },
    }


def deployment(ns: str, name: str, replicas: int = 1) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": f"example.invalid/{name}:1"}]},
            },
        },
    }


async def create(api: ApiClient, obj: Obj, status: Obj | None = None) -> None:
    """Apply ``obj`` and, for a Flux kind, merge-patch its status."""
    await apply.apply(api, obj, FIELD_MANAGER, force=True)
    info = KINDS.get(obj["kind"])
    if status is not None and info is not None:
        meta = obj["metadata"]
        await apply.patch_status(
            api, info.resource, meta["namespace"], meta["name"], status, STATUS_MANAGER
        )


async def populate(api: ApiClient, ns: str) -> None:
    """The small fleet of the module docstring."""
    await create(
        api,
        git_repository(ns, "fleet"),
        {
            "observedGeneration": 1,
            "conditions": [
                ready("True", "Succeeded", f"stored artifact for revision '{REVISION}'")
            ],
            "artifact": artifact(REVISION, "fleet"),
        },
    )
    await create(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": "charts", "namespace": ns},
            "spec": {"url": "https://charts.example.com", "interval": "10m"},
        },
        {"observedGeneration": 1, "conditions": [ready("True", "Succeeded", "index fetched")]},
    )
    await create(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmChart",
            "metadata": {"name": f"{ns}-podinfo", "namespace": ns},
            "spec": {
                "chart": "podinfo",
                "interval": "10m",
                "sourceRef": {"kind": "HelmRepository", "name": "charts"},
            },
        },
        {
            "observedGeneration": 1,
            "conditions": [ready("True", "ChartPullSucceeded", "pulled 'podinfo' chart 6.5.0")],
            "artifact": artifact("6.5.0", f"{ns}-podinfo"),
        },
    )
    await create(
        api,
        kustomization(ns, "infra", "./infra"),
        {
            "observedGeneration": 1,
            "conditions": [
                ready("True", "ReconciliationSucceeded", f"Applied revision: {REVISION}")
            ],
            "lastAppliedRevision": REVISION,
            "inventory": {
                "entries": [
                    entry(ns, "settings", "", "ConfigMap"),
                    entry(ns, "redis", "apps", "Deployment"),
                ]
            },
        },
    )
    await create(
        api,
        kustomization(ns, "apps", "./apps", dependsOn=[{"name": "infra"}]),
        {
            "observedGeneration": 1,
            "conditions": [
                ready("False", "BuildFailed", "kustomize build failed: accumulating resources")
            ],
            "lastAttemptedRevision": REVISION,
            "inventory": {
                "entries": [entry(ns, "podinfo", "helm.toolkit.fluxcd.io", "HelmRelease", "v2")]
            },
        },
    )
    release = owned(
        {
            "apiVersion": "helm.toolkit.fluxcd.io/v2",
            "kind": "HelmRelease",
            "metadata": {"name": "podinfo", "namespace": ns},
            "spec": {
                "interval": "10m",
                "chart": {
                    "spec": {
                        "chart": "podinfo",
                        "sourceRef": {"kind": "HelmRepository", "name": "charts"},
                    }
                },
                "values": {"replicaCount": 2, "ui": {"color": "#34577c"}},
            },
        },
        "Kustomization",
        ns,
        "apps",
    )
    await create(
        api,
        release,
        {
            "observedGeneration": 1,
            "conditions": [ready("True", "InstallSucceeded", "Helm install succeeded")],
            "helmChart": f"{ns}/{ns}-podinfo",
            "lastAttemptedRevision": "6.5.0",
            "history": [
                {
                    "name": "podinfo",
                    "namespace": ns,
                    "version": 1,
                    "status": "deployed",
                    "chartName": "podinfo",
                    "chartVersion": "6.5.0",
                    "appVersion": "6.5.0",
                    "configDigest": "sha256:" + "1" * 64,
                    "digest": "sha256:" + "2" * 64,
                    "firstDeployed": now(),
                    "lastDeployed": now(),
                }
            ],
            "inventory": {"entries": [entry(ns, "podinfo", "apps", "Deployment")]},
        },
    )
    await create(
        api,
        owned(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": ns},
            },
            "Kustomization",
            ns,
            "infra",
        ),
    )
    await create(api, owned(deployment(ns, "redis"), "Kustomization", ns, "infra"))
    await create(api, owned(deployment(ns, "podinfo", 2), "HelmRelease", ns, "podinfo"))


async def _bounded(jobs: Iterable[Any], concurrency: int) -> None:
    sem = asyncio.Semaphore(concurrency)

    async def one(job: Any) -> None:
        async with sem:
            await job

    await asyncio.gather(*(one(j) for j in jobs))


async def bulk(
    api: ApiClient,
    ns: str,
    count: int,
    *,
    failing_every: int = 10,
    concurrency: int = 32,
    managed: int = 0,
) -> None:
    """``count`` Kustomizations ``ks-<i>`` of GitRepository ``fleet``; every
    ``failing_every``-th one is failing, the others Ready. With ``managed``, that many
    ConfigMaps ``ks-<i>-cm<j>`` exist too, spread evenly over the Kustomizations, each labelled
    as applied by its Kustomization and listed in its ``status.inventory``."""
    await create(
        api,
        git_repository(ns, "fleet"),
        {"observedGeneration": 1, "conditions": [ready("True", "Succeeded", "stored artifact")]},
    )
    per = -(-managed // count) if managed and count else 0

    def names(i: int) -> list[str]:
        return [f"ks-{i:05d}-cm{j}" for j in range(per) if i * per + j < managed]

    def status(i: int) -> Obj:
        if failing_every and i % failing_every == 0:
            cond = ready("False", "BuildFailed", f"kustomize build failed for ks-{i}")
        else:
            cond = ready("True", "ReconciliationSucceeded", f"Applied revision: {REVISION}")
        out: Obj = {
            "observedGeneration": 1,
            "conditions": [cond],
            "lastAppliedRevision": REVISION,
        }
        if per:
            out["inventory"] = {"entries": [entry(ns, n, "", "ConfigMap") for n in names(i)]}
        return out

    await _bounded(
        (
            create(api, kustomization(ns, f"ks-{i:05d}", f"./apps/{i}"), status(i))
            for i in range(count)
        ),
        concurrency,
    )
    if per:
        await _bounded(
            (
                apply.create(api, CONFIG_MAPS, config_map(ns, n, f"ks-{i:05d}"))
                for i in range(count)
                for n in names(i)
            ),
            concurrency,
        )


def config_map(ns: str, name: str, owner: str) -> Obj:
    """A small ConfigMap labelled as applied by Kustomization ``owner``."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": {
                "kustomize.toolkit.fluxcd.io/name": owner,
                "kustomize.toolkit.fluxcd.io/namespace": ns,
            },
        },
        "data": {"key": name},
    }
