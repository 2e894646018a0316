"""``make up`` installs weir as the user's guide installs the Flux Operator: the chart
``charts/weir`` with the Helm CLI (``helm upgrade --install flux-operator charts/weir --namespace
flux-system --create-namespace``), so the CRDs, the operator's ServiceAccount and RBAC, its
Service and Deployment come from the chart.

The local control plane runs no containers (kwok fakes the pod), so the chart is installed with
``operator.mode=local`` (the FluxInstance's controllers run in the operator's process) and the
Deployment's container command is then run here by ``make up`` (:func:`operator_command`:
the flags the chart passes, authenticated as the chart's ServiceAccount with a TokenRequest
token; only listen addresses and the storage path become local ones).

The Helm CLI is the one the project builds and caches (``scripts/build-helm.sh``, under
``~/.cache/weir``); Helm's own state (repositories, cache) goes under ``.weir/helm``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from kubernetes_asyncio.client import ApiClient

from weir.demo.settings import REPO_ROOT, DemoSettings
from weir.errors import WeirError
from weir.testing.helmcli import helm, helm_binary
from weir.testing.podrunner import PodCommand, pod_command

RELEASE = "flux-operator"
"""The release name the guide uses (``svc/flux-operator``, ``deploy/flux-operator``)."""
NAMESPACE = "flux-system"
CHART = REPO_ROOT / "charts" / "weir"


class InstallError(WeirError):
    """The chart could not be installed."""


def helm_args(settings: DemoSettings, kubeconfig: Path, *, web: bool) -> list[str]:
    """``helm upgrade --install`` of the chart with ``make up``'s values."""
    values = [
        "operator.mode=local",
        f"logLevel={settings.log_level}",
        f"web.enabled={'true' if web else 'false'}",
    ]
    sets = [arg for value in values for arg in ("--set", value)]
    return [
        "upgrade", "--install", RELEASE, str(CHART),
        "--namespace", NAMESPACE, "--create-namespace",
        *sets,
        f"--kubeconfig={kubeconfig}",
    ]  # fmt: skip


def helm_env(settings: DemoSettings) -> dict[str, str]:
    home = settings.root / "helm"
    return {
        **os.environ,
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }


async def ensure_helm() -> Path:
    """The cached Helm CLI (built from its Go module the first time)."""
    try:
        return await asyncio.to_thread(helm_binary)
    except Exception as e:
        raise InstallError(
            f"the Helm CLI could not be built ({e}); run scripts/build-helm.sh to see why"
        ) from e


async def install_chart(settings: DemoSettings, kubeconfig: Path, *, web: bool) -> str:
    """Install (or upgrade) the release; returns Helm's output."""
    args = helm_args(settings, kubeconfig, web=web)
    result = await asyncio.to_thread(helm, *args, env=helm_env(settings))
    if result.returncode != 0:
        raise InstallError(
            f"helm {' '.join(args[:4])} failed:\n{result.stdout}{result.stderr}".rstrip()
        )
    return result.stdout


async def operator_command(
    api: ApiClient, settings: DemoSettings, kubeconfig: Path, ports: dict[str, str]
) -> PodCommand:
    """The chart's operator container, to run here as its ServiceAccount (``ports``: listener
    flag -> ``host:port`` to use, e.g. ``{"--web-addr": "127.0.0.1:9080"}``)."""
    return await pod_command(
        api, kubeconfig, settings.pods_dir / RELEASE, NAMESPACE, RELEASE, ports=ports
    )
