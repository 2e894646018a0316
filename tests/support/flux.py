"""Flux objects for tests: install the generated CRDs once (idempotent), build objects, and
write their status as a controller would."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import eventually
from weir.api import KINDS, KindInfo
from weir.api.crds import generate
from weir.kube import apply, transport
from weir.kube.errors import NotFoundError, TooManyRequestsError
from weir.kube.resources import ResourceRef
from weir.types import Obj

FIELD_MANAGER = "weir-test-crds"  # the manager test_crds.py uses too: applies never conflict
CRDS = ResourceRef("apiextensions.k8s.io", "v1", "customresourcedefinitions", False, "CRD")

_installed = False


def resource(info: KindInfo) -> ResourceRef:
    return ResourceRef(info.group, info.version, info.plural, info.namespaced, info.kind)


async def install_crds(api: ApiClient) -> None:
    """Apply the generated CRDs (server-side, forced) and wait until each is Established and
    served. Cheap after the first call in a process."""
    global _installed  # noqa: PLW0603 -- once per test session
    if _installed:
        return
    crds = generate()
    await asyncio.gather(*(apply.apply(api, crd, FIELD_MANAGER, force=True) for crd in crds))
    for info in KINDS.values():
        await _wait_served(api, info)
    _installed = True


async def _wait_served(api: ApiClient, info: KindInfo) -> None:
    async def served() -> bool:
        crd = await apply.get(api, CRDS, None, info.crd_name)
        found = (crd.get("status") or {}).get("conditions") or []
        if {c["type"]: c["status"] for c in found}.get("Established") != "True":
            return False
        try:
            await transport.request(api, "GET", resource(info).path("default"))
        except (NotFoundError, TooManyRequestsError):
            return False
        return True

    await eventually(served, f"CRD {info.crd_name} served", 20)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(type_: str, status: str, reason: str, message: str = "") -> Obj:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": now(),
    }


def ready(status: str = "True", message: str = "", reason: str = "") -> Obj:
    reasons = {"True": "Succeeded", "False": "Failed", "Unknown": "Progressing"}
    return condition("Ready", status, reason or reasons[status], message)


def git_repository(namespace: str, name: str, url: str = "https://example.com/repo") -> Obj:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"url": url, "interval": "1m", "ref": {"branch": "main"}},
    }


def helm_repository(namespace: str, name: str, url: str = "https://charts.example.com") -> Obj:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"url": url, "interval": "10m"},
    }


def kustomization(namespace: str, name: str, source: str, path: str = "./", **spec: Any) -> Obj:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "interval": "10m",
            "path": path,
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": source},
            **spec,
        },
    }


def helm_release(namespace: str, name: str, repository: str, chart: str = "podinfo") -> Obj:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "interval": "10m",
            "chart": {
                "spec": {
                    "chart": chart,
                    "sourceRef": {"kind": "HelmRepository", "name": repository},
                }
            },
        },
    }


def owned_by(obj: Obj, kind: str, namespace: str, name: str) -> Obj:
    """Add the owner labels Flux puts on what a Kustomization/HelmRelease applies."""
    group = "kustomize" if kind == "Kustomization" else "helm"
    labels = obj.setdefault("metadata", {}).setdefault("labels", {})
    labels[f"{group}.toolkit.fluxcd.io/name"] = name
    labels[f"{group}.toolkit.fluxcd.io/namespace"] = namespace
    return obj


async def create(api: ApiClient, obj: Obj) -> Obj:
    """Create (server-side apply) a Flux object or any other object."""
    return await apply.apply(api, obj, "weir-test", force=True)


async def set_status(api: ApiClient, obj: Obj, status: Obj) -> Obj:
    """Merge-patch the status subresource, as a controller does."""
    info = KINDS[obj["kind"]]
    meta = obj["metadata"]
    return await apply.patch_status(
        api, resource(info), meta["namespace"], meta["name"], status, "weir-test-controller"
    )


REVISION = "main@sha1:0123456789abcdef0123456789abcdef01234567"


def helm_chart(namespace: str, name: str, repository: str, chart: str = "podinfo") -> Obj:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmChart",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "chart": chart,
            "interval": "10m",
            "sourceRef": {"kind": "HelmRepository", "name": repository},
        },
    }


def artifact(revision: str) -> Obj:
    return {
        "revision": revision,
        "digest": "sha256:" + "0" * 64,
        "lastUpdateTime": now(),
        "path": "a/b.tar.gz",
        "url": "http://source-controller/b.tar.gz",
    }


def entry(namespace: str, name: str, group: str, kind: str, version: str = "v1") -> Obj:
    return {"id": f"{namespace}_{name}_{group}_{kind}", "v": version}


async def populate(api: ApiClient, ns: str) -> None:
    """A small fleet in ``ns``, with the status a controller would have written:

    - GitRepository ``fleet`` (Ready) and HelmRepository ``charts`` (no status yet);
    - Kustomization ``apps`` (Ready) applying Namespace ``ns``, ConfigMap ``settings``,
      Kustomization ``infra`` and HelmRelease ``podinfo``;
    - Kustomization ``infra`` (Ready=False) applying ConfigMap ``cfg``;
    - HelmRelease ``podinfo`` (Ready) with HelmChart ``<ns>-podinfo``, applying ConfigMap
      ``podinfo``.
    """
    await create(api, git_repository(ns, "fleet"))
    await set_status(
        api,
        git_repository(ns, "fleet"),
        {
            "conditions": [ready("True", f"stored artifact for revision '{REVISION}'")],
            "artifact": artifact(REVISION),
        },
    )
    await create(api, helm_repository(ns, "charts"))
    apps = kustomization(ns, "apps", "fleet", path="./apps")
    await create(api, apps)
    await set_status(
        api,
        apps,
        {
            "conditions": [ready("True", f"Applied revision: {REVISION}")],
            "lastAppliedRevision": REVISION,
            "inventory": {
                "entries": [
                    entry("", ns, "", "Namespace"),
                    entry(ns, "settings", "", "ConfigMap"),
                    entry(ns, "infra", "kustomize.toolkit.fluxcd.io", "Kustomization"),
                    entry(ns, "podinfo", "helm.toolkit.fluxcd.io", "HelmRelease", "v2"),
                ]
            },
        },
    )
    infra = owned_by(
        kustomization(ns, "infra", "fleet", path="./infra"), "Kustomization", ns, "apps"
    )
    await create(api, infra)
    await set_status(
        api,
        infra,
        {
            "conditions": [ready("False", "kustomize build failed: accumulating resources")],
            "inventory": {"entries": [entry(ns, "cfg", "", "ConfigMap")]},
        },
    )
    release = owned_by(helm_release(ns, "podinfo", "charts"), "Kustomization", ns, "apps")
    await create(api, release)
    await set_status(
        api,
        release,
        {
            "conditions": [ready("True", "Helm install succeeded for release podinfo.v1")],
            "helmChart": f"{ns}/{ns}-podinfo",
            "lastAttemptedRevision": "6.5.0",
            "inventory": {"entries": [entry(ns, "podinfo", "", "ConfigMap")]},
        },
    )
    chart = helm_chart(ns, f"{ns}-podinfo", "charts")
    await create(api, chart)
    await set_status(
        api,
        chart,
        {
            "conditions": [ready("True", "pulled 'podinfo' chart with version '6.5.0'")],
            "artifact": artifact("6.5.0"),
        },
    )
    for name, owner_kind, owner in (
        ("settings", "Kustomization", "apps"),
        ("cfg", "Kustomization", "infra"),
        ("podinfo", "HelmRelease", "podinfo"),
    ):
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}}
        await create(api, owned_by(cm, owner_kind, ns, owner))
