"""Cluster prerequisites (``weir check``): the API server answers, runs Kubernetes >= 1.32,
serves the Flux CRDs (installed and Established), and lets the caller get, list and watch them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.actions.objects import ALL_KINDS
from weir.api import KindInfo
from weir.kube import transport
from weir.kube.errors import ApiError, ApiUnavailableError, ForbiddenError, NotFoundError
from weir.kube.resources import ResourceRef

MIN_VERSION = (1, 32)
VERBS = ("get", "list", "watch")
CRDS = ResourceRef("apiextensions.k8s.io", "v1", "customresourcedefinitions", False, "CRD")
ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
INSTALL_HINT = "install them with `weir crds | kubectl apply --server-side -f -`"
VERSION_TIMEOUT = 5.0


@dataclass(frozen=True)
class Check:
    """One line of ``weir check``."""

    name: str
    ok: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "message": self.message}


async def server_version(api: ApiClient, timeout: float = VERSION_TIMEOUT) -> dict[str, Any]:  # noqa: ASYNC109
    """The API server's ``/version`` (``gitVersion``, ``major``, ``minor``, ``platform``...)."""
    body = await transport.request(api, "GET", "/version", request_timeout=timeout)
    return body if isinstance(body, dict) else {}


def parse_version(info: Mapping[str, Any]) -> tuple[int, int] | None:
    """(major, minor) from ``/version``: ``major``/``minor`` (``"32+"`` allowed), else
    ``gitVersion`` (``v1.32.1-gke.3``)."""
    major = re.match(r"\d+", str(info.get("major", "")))
    minor = re.match(r"\d+", str(info.get("minor", "")))
    if major and minor:
        return int(major.group()), int(minor.group())
    found = re.match(r"v?(\d+)\.(\d+)", str(info.get("gitVersion", "")))
    return (int(found.group(1)), int(found.group(2))) if found else None


def version_check(info: Mapping[str, Any]) -> Check:
    found = parse_version(info)
    wanted = ".".join(map(str, MIN_VERSION))
    text = str(info.get("gitVersion") or "unknown")
    if found is None:
        return Check("kubernetes-version", False, f"cannot tell the Kubernetes version ({text})")
    if found < MIN_VERSION:
        return Check(
            "kubernetes-version",
            False,
            f"Kubernetes {text} is too old: weir needs >= {wanted}; upgrade the cluster",
        )
    return Check("kubernetes-version", True, f"Kubernetes {text} >= {wanted}")


def crd_check(info: KindInfo, crd: Mapping[str, Any] | None) -> Check:
    name = f"crd/{info.crd_name}"
    if crd is None:
        return Check(name, False, f"{info.crd_name} is not installed: {INSTALL_HINT}")
    conditions = {c.get("type"): c for c in (crd.get("status") or {}).get("conditions") or [] if c}
    established = conditions.get("Established") or {}
    if established.get("status") != "True":
        why = established.get("message") or "no Established condition yet"
        return Check(name, False, f"{info.crd_name} is not Established: {why}")
    served = {
        v.get("name") for v in (crd.get("spec") or {}).get("versions") or [] if v.get("served")
    }
    if info.version not in served:
        return Check(
            name,
            False,
            f"{info.crd_name} does not serve {info.version} (serves {', '.join(sorted(served))}): "
            f"upgrade the CRDs; {INSTALL_HINT}",
        )
    return Check(name, True, f"{info.crd_name}/{info.version}")


async def _crd(api: ApiClient, info: KindInfo) -> Mapping[str, Any] | None:
    """The CRD, or, when reading CRDs is forbidden, a stand-in built from API discovery (a
    served resource is Established)."""
    try:
        body = await transport.request(api, "GET", CRDS.path(None, info.crd_name))
    except NotFoundError:
        return None
    except ForbiddenError:
        try:
            served = await transport.request(api, "GET", f"/apis/{info.group}/{info.version}")
        except NotFoundError:
            return None
        names = {r.get("name") for r in (served or {}).get("resources") or []}
        if info.plural not in names:
            return None
        return {
            "spec": {"versions": [{"name": info.version, "served": True}]},
            "status": {"conditions": [{"type": "Established", "status": "True"}]},
        }
    return body if isinstance(body, dict) else None


async def can(api: ApiClient, info: KindInfo, verb: str, namespace: str | None) -> bool:
    """A SelfSubjectAccessReview: may the caller ``verb`` objects of this kind?"""
    attributes: dict[str, str] = {"group": info.group, "resource": info.plural, "verb": verb}
    if namespace:
        attributes["namespace"] = namespace
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes},
    }
    body = await transport.request(api, "POST", ACCESS_REVIEWS, body=review)
    return bool((body.get("status") or {}).get("allowed"))


async def rbac_checks(
    api: ApiClient, namespace: str | None, kinds: Sequence[KindInfo] = ALL_KINDS
) -> list[Check]:
    scope = f"in namespace {namespace}" if namespace else "in all namespaces"
    pairs = [(info, verb) for info in kinds for verb in VERBS]
    allowed = await asyncio.gather(*(can(api, i, v, namespace) for i, v in pairs))
    denied: dict[str, list[str]] = {}
    for (info, verb), ok in zip(pairs, allowed, strict=True):
        if not ok:
            denied.setdefault(info.crd_name, []).append(verb)
    if not denied:
        return [Check("rbac", True, f"can {', '.join(VERBS)} every Flux kind {scope}")]
    return [
        Check(
            f"rbac/{crd}",
            False,
            f"cannot {', '.join(verbs)} {crd} {scope}: grant them to this user "
            "(a ClusterRole bound to it)",
        )
        for crd, verbs in denied.items()
    ]


async def run_checks(
    api: ApiClient, server: str, *, pre: bool = False, namespace: str | None = None
) -> list[Check]:
    """Every check in order; stops after the first when the API server cannot be reached.
    ``pre`` checks only what must hold before installing (reachability and version)."""
    try:
        info = await server_version(api)
    except (ApiUnavailableError, ApiError) as e:
        return [
            Check(
                "api-server",
                False,
                f"cannot reach the API server at {server}: {e}; check --kubeconfig and "
                "--context, or start a local cluster with `weir cluster up`",
            )
        ]
    checks = [Check("api-server", True, f"API server {server} is reachable"), version_check(info)]
    if pre:
        return checks
    crds = await asyncio.gather(*(_crd(api, k) for k in ALL_KINDS))
    checks.extend(crd_check(k, crd) for k, crd in zip(ALL_KINDS, crds, strict=True))
    checks.extend(await rbac_checks(api, namespace))
    return checks
