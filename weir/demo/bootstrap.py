"""What ``make up`` applies to start the fleet: the flux-system namespace and the
``cluster-settings`` ConfigMap (post-build variables), then either

- the fleet's FluxInstance (``examples/etherwurst/flux-instance.yaml``, the installation
  guide's manifest) with the local Git server's URL: the operator creates the GitRepository and
  Kustomization ``flux-system`` and runs the controllers (``make up``'s default), or
- the GitRepository and Kustomization ``flux-system`` themselves, as ``flux bootstrap`` would
  commit them (``weir run`` without the operator).

Either way the same two objects sync the cluster's directory; the instance's
``spec.kustomize.patches`` give the Kustomization the post-build variables and timeouts the
demo needs (a patch on the rendered objects, as users customise the Flux Operator's).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml
from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kapi
from weir.types import Obj

NAMESPACE = "flux-system"
NAME = "flux-system"
SETTINGS = "cluster-settings"
FIELD_MANAGER = "weir-demo"


def _base(variables: Mapping[str, str]) -> list[Obj]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": SETTINGS, "namespace": NAMESPACE},
            "data": dict(variables),
        },
    ]


def _patch(kind: str, ops: list[Obj]) -> Obj:
    return {"target": {"kind": kind, "name": NAME}, "patch": yaml.safe_dump(ops)}


def instance_objects(
    manifest: Path,
    *,
    git_url: str,
    branch: str,
    path: str,
    variables: Mapping[str, str],
    components: Sequence[str],
) -> list[Obj]:
    """The namespace, the settings and the fleet's FluxInstance pointed at ``git_url``
    (no pull secret: the local server needs none), with ``components`` (those of the
    manifest this build runs) and the demo's patches."""
    instance: Obj = copy.deepcopy(yaml.safe_load(manifest.read_text()))
    spec = instance["spec"]
    spec["components"] = [c for c in spec.get("components") or [] if c in components]
    sync = spec["sync"]
    sync.update(url=git_url, ref=f"refs/heads/{branch}", path=path.removeprefix("./"))
    sync.pop("pullSecret", None)
    substitute = {"substituteFrom": [{"kind": "ConfigMap", "name": SETTINGS}]}
    spec["kustomize"] = {
        "patches": [
            _patch(
                "Kustomization",
                [
                    {"op": "add", "path": "/spec/postBuild", "value": substitute},
                    {"op": "add", "path": "/spec/retryInterval", "value": "30s"},
                    {"op": "add", "path": "/spec/timeout", "value": "5m"},
                    {"op": "replace", "path": "/spec/interval", "value": "10m"},
                ],
            ),
            _patch("GitRepository", [{"op": "add", "path": "/spec/timeout", "value": "60s"}]),
        ]
    }
    return [*_base(variables), instance]


def objects(git_url: str, branch: str, path: str, variables: Mapping[str, str]) -> list[Obj]:
    """The bootstrap objects, in apply order."""
    return [
        *_base(variables),
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
    api: ApiClient,
    git_url: str,
    branch: str,
    path: str,
    variables: Mapping[str, str],
    *,
    instance: Path | None = None,
    components: Sequence[str] = (),
) -> list[Obj]:
    """Server-side apply the bootstrap objects (forced: the demo owns them): the FluxInstance
    of ``instance`` when given, else the GitRepository and Kustomization."""
    objs = (
        instance_objects(
            instance,
            git_url=git_url,
            branch=branch,
            path=path,
            variables=variables,
            components=components,
        )
        if instance is not None
        else objects(git_url, branch, path, variables)
    )
    return [await kapi.apply(api, obj, FIELD_MANAGER, force=True) for obj in objs]
