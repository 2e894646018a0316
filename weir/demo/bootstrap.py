"""The objects ``flux bootstrap`` would commit for a cluster, applied directly: the flux-system
namespace, the ``cluster-settings`` ConfigMap (post-build variables), and the GitRepository and
Kustomization named ``flux-system`` that sync the cluster's directory of the fleet."""

from __future__ import annotations

from collections.abc import Mapping

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kapi
from weir.types import Obj

NAMESPACE = "flux-system"
NAME = "flux-system"
SETTINGS = "cluster-settings"
FIELD_MANAGER = "weir-demo"


def objects(git_url: str, branch: str, path: str, variables: Mapping[str, str]) -> list[Obj]:
    """The bootstrap objects, in apply order."""
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": SETTINGS, "namespace": NAMESPACE},
            "data": dict(variables),
        },
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": NAME, "namespace": NAMESPACE},
            "spec": {"interval": "1m", "timeout": "60s", "url": git_url, "ref": {"branch": branch}},
        },
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": NAME, "namespace": NAMESPACE},
            "spec": {
                "interval": "10m",
                "retryInterval": "30s",
                "timeout": "5m",
                "path": path,
                "prune": True,
                "sourceRef": {"kind": "GitRepository", "name": NAME},
                "postBuild": {"substituteFrom": [{"kind": "ConfigMap", "name": SETTINGS}]},
            },
        },
    ]


async def ensure_namespace(api: ApiClient) -> None:
    """Create ``flux-system`` (weir's own namespace: its Lease is there) if missing."""
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    await kapi.apply(api, namespace, FIELD_MANAGER, force=True)


async def bootstrap(
    api: ApiClient, git_url: str, branch: str, path: str, variables: Mapping[str, str]
) -> list[Obj]:
    """Server-side apply the bootstrap objects (forced: the demo owns them)."""
    return [
        await kapi.apply(api, obj, FIELD_MANAGER, force=True)
        for obj in objects(git_url, branch, path, variables)
    ]
