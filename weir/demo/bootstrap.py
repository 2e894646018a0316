"""What ``make up`` applies to start the fleet, the way the installation guide does it (after
the chart, :mod:`weir.demo.install`):

1. the ``flux-system`` Git secret, created with ``weir create secret git`` (the guide's
   ``flux create secret git``): the local Git server asks for these credentials;
2. the fleet's FluxInstance (``clusters/etherwurst/flux-system/flux-instance.yaml``, the
   guide's manifest) with ``sync.url`` set to the local Git server, and the local **mirror**
   patches in ``spec.kustomize.patches``: the flux-system Kustomization the operator renders gets
   ``spec.patches`` that point the fleet's HelmRepositories (public URLs in ``sources.yaml``) at
   the loopback chart repository, and that leave the fleet's own copy of the FluxInstance to
   ``make up`` (``kustomize.toolkit.fluxcd.io/reconcile: disabled``: synced from Git it would
   point the cluster back at GitHub). A cluster behind a mirror does the same; nothing in the
   fleet is edited.

Without the operator (``weir run`` alone) the GitRepository and Kustomization ``flux-system``
are applied instead, with the same patches on the Kustomization.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from pathlib import Path

import yaml
from kubernetes_asyncio.client import ApiClient

from weir.errors import WeirError
from weir.kube import apply as kapi
from weir.types import Obj

NAMESPACE = "flux-system"
NAME = "flux-system"
PULL_SECRET = "flux-system"
MIRRORED_REPOSITORIES = ("ethpandaops", "prometheus-community")
"""The HelmRepositories of ``sources.yaml`` the local chart repository stands in for."""
FIELD_MANAGER = "weir-demo"


class BootstrapError(WeirError):
    """A step of the guide's bootstrap failed."""


def _namespace() -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}


def _patch(kind: str, ops: list[Obj], name: str = NAME) -> Obj:
    return {"target": {"kind": kind, "name": name}, "patch": yaml.safe_dump(ops)}


def mirror_patches(chart_url: str) -> list[Obj]:
    """The flux-system Kustomization's ``spec.patches`` for the local run: the mirrored
    HelmRepositories' URL, and the fleet's FluxInstance left to ``make up``."""
    patches = [
        _patch("HelmRepository", [{"op": "replace", "path": "/spec/url", "value": chart_url}], n)
        for n in MIRRORED_REPOSITORIES
    ]
    disabled = {"kustomize.toolkit.fluxcd.io/reconcile": "disabled"}
    patches.append(
        {
            "target": {"kind": "FluxInstance", "name": "flux"},
            "patch": yaml.safe_dump(
                {
                    "apiVersion": "fluxcd.controlplane.io/v1",
                    "kind": "FluxInstance",
                    "metadata": {"name": "flux", "annotations": disabled},
                }
            ),
        }
    )
    return patches


def _kustomization_ops(chart_url: str) -> list[Obj]:
    return [
        {"op": "add", "path": "/spec/patches", "value": mirror_patches(chart_url)},
        {"op": "add", "path": "/spec/retryInterval", "value": "30s"},
        {"op": "add", "path": "/spec/timeout", "value": "5m"},
        {"op": "replace", "path": "/spec/interval", "value": "10m"},
    ]


def instance_objects(
    manifest: Path,
    *,
    git_url: str,
    branch: str,
    path: str,
    chart_url: str,
    components: Sequence[str],
) -> list[Obj]:
    """The namespace and the fleet's FluxInstance pointed at ``git_url`` (its pull secret kept:
    :func:`pull_secret` creates it), with ``components`` (those of the manifest this build
    runs) and the local patches."""
    instance: Obj = copy.deepcopy(yaml.safe_load(manifest.read_text()))
    spec = instance["spec"]
    spec["components"] = [c for c in spec.get("components") or [] if c in components]
    sync = spec["sync"]
    sync.update(url=git_url, ref=f"refs/heads/{branch}", path=path.removeprefix("./"))
    spec["kustomize"] = {
        "patches": [
            _patch("Kustomization", _kustomization_ops(chart_url)),
            _patch("GitRepository", [{"op": "add", "path": "/spec/timeout", "value": "60s"}]),
        ]
    }
    return [_namespace(), instance]


def objects(git_url: str, branch: str, path: str, chart_url: str) -> list[Obj]:
    """The bootstrap objects without the operator, in apply order."""
    return [
        _namespace(),
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": NAME, "namespace": NAMESPACE},
            "spec": {
                "interval": "1m",
                "timeout": "60s",
                "url": git_url,
                "ref": {"branch": branch},
                "secretRef": {"name": PULL_SECRET},
            },
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
                "patches": mirror_patches(chart_url),
            },
        },
    ]


def pull_secret(git_url: str, credentials: tuple[str, str]) -> Obj:
    """The ``flux-system`` Git secret, as ``weir create secret git flux-system --url=...
    --username=... --password=...`` creates it."""
    from weir.cli.create import git_secret  # noqa: PLC0415

    user, password = credentials
    return git_secret(PULL_SECRET, NAMESPACE, git_url, username=user, password=password)


async def create_git_secret(kubeconfig: Path, git_url: str, user: str, password: str) -> str:
    """Run ``weir create secret git flux-system --url=... --username=... --password=...`` (the
    guide's ``flux create secret git``); returns its output."""
    from weir.demo.commands import weir_command  # noqa: PLC0415

    argv = [
        *weir_command(), "create", "secret", "git", PULL_SECRET,
        f"--url={git_url}", f"--username={user}", f"--password={password}",
        f"--namespace={NAMESPACE}", f"--kubeconfig={kubeconfig}",
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise BootstrapError(f"weir create secret git {PULL_SECRET} failed:\n{text}".rstrip())
    return text


async def ensure_namespace(api: ApiClient) -> None:
    """Create ``flux-system`` (weir's own namespace: its Lease is there) if missing."""
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    await kapi.apply(api, namespace, FIELD_MANAGER, force=True)


async def bootstrap(  # noqa: PLR0917 -- the demo's one call
    api: ApiClient,
    git_url: str,
    branch: str,
    path: str,
    chart_url: str,
    credentials: tuple[str, str],
    *,
    instance: Path | None = None,
    components: Sequence[str] = (),
    secret: bool = True,
) -> list[Obj]:
    """Server-side apply the bootstrap objects (forced: the demo owns them): the Git secret
    (unless ``secret`` is False: :func:`create_git_secret` made it), then the FluxInstance of
    ``instance`` when given, else the GitRepository and Kustomization."""
    objs = (
        instance_objects(
            instance,
            git_url=git_url,
            branch=branch,
            path=path,
            chart_url=chart_url,
            components=components,
        )
        if instance is not None
        else objects(git_url, branch, path, chart_url)
    )
    if secret:
        objs.insert(1, pull_secret(git_url, credentials))
    return [await kapi.apply(api, obj, FIELD_MANAGER, force=True) for obj in objs]
