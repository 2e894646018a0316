"""The FluxReport's spec, computed from the cluster as it is now.

Works however weir was installed: with a FluxInstance (``managedBy: weir``) or without one
(controllers started with ``weir run``, or Flux's own Deployments). Sections:

- ``distribution``: the instance's installed version, ``Installed`` when weir's CRDs are
  served (``Not Installed`` otherwise) and who manages it;
- ``cluster``: API server version, node platform and count; ``operator``: weir's version;
- ``components``: one per unit (component or shard) -- the Deployments' kstatus on a cluster,
  the in-process controller groups' state in local mode;
- ``reconcilers``: per Flux kind, running (not suspended), failing (Ready=False) and
  suspended objects, and the stored artifacts' total size for sources;
- ``sync``: the sync Kustomization's path, source URL, readiness and message.
"""

from __future__ import annotations

import asyncio
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio.client import ApiClient

import weir
from weir.api.fluxinstance import API_VERSION
from weir.api.kinds import KINDS, KindInfo
from weir.kube import kstatus as health
from weir.kube import transport
from weir.kube.errors import ApiError, NotFoundError
from weir.kube.informer import list_all
from weir.kube.resources import ResourceRef

Obj = dict[str, Any]

FLUX_KINDS: tuple[KindInfo, ...] = tuple(
    k for k in KINDS.values() if k.group.endswith(".toolkit.fluxcd.io")
)
"""The kinds counted under ``reconcilers`` (Flux's toolkit kinds, not the operator's)."""
SOURCE_CATEGORY = "fluxcd-sources"
DEPLOYMENTS = ResourceRef("apps", "v1", "deployments", True, "Deployment")
NODES = ResourceRef("", "v1", "nodes", False, "Node")
CRDS = ResourceRef(
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", False, "CustomResourceDefinition"
)


@dataclass(frozen=True)
class ComponentState:
    """One row of ``spec.components``."""

    name: str
    image: str
    ready: bool
    status: str

    def to_wire(self) -> Obj:
        return {"name": self.name, "image": self.image, "ready": self.ready, "status": self.status}


ComponentsFn = Callable[[], Sequence[ComponentState]]
"""The in-process components (local mode); None: read the Deployments."""


def human_size(size: int) -> str:
    """``3.7 MiB`` (binary units, one decimal)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover - the loop returns


def _ready(obj: Mapping[str, Any]) -> tuple[str, str]:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return str(cond.get("status") or "Unknown"), str(cond.get("message") or "")
    return "Unknown", ""


def _suspended(obj: Mapping[str, Any]) -> bool:
    return (obj.get("spec") or {}).get("suspend") is True


def reconciler_stats(info: KindInfo, objects: Sequence[Mapping[str, Any]]) -> Obj:
    """One ``spec.reconcilers`` entry."""
    suspended = sum(_suspended(o) for o in objects)
    stats: Obj = {
        "running": len(objects) - suspended,
        "failing": sum(_ready(o)[0] == "False" for o in objects),
        "suspended": suspended,
    }
    if SOURCE_CATEGORY in info.categories:
        total = sum(
            int(((o.get("status") or {}).get("artifact") or {}).get("size") or 0) for o in objects
        )
        stats["totalSize"] = human_size(total)
    return {"apiVersion": info.api_version, "kind": info.kind, "stats": stats}


async def list_flux_objects(api: ApiClient) -> dict[str, list[Obj]]:
    """Every object of every Flux kind whose CRD is served (all namespaces)."""

    async def one(info: KindInfo) -> tuple[str, list[Obj]]:
        try:
            items, _ = await list_all(api, info.resource)
        except NotFoundError:
            return info.kind, []
        return info.kind, items

    return dict(await asyncio.gather(*(one(i) for i in FLUX_KINDS)))


async def cluster_info(api: ApiClient) -> Obj:
    out: Obj = {}
    try:
        version = await transport.request(api, "GET", "/version")
        out["serverVersion"] = str(version.get("gitVersion") or "")
    except ApiError:
        pass
    try:
        nodes, _ = await list_all(api, NODES)
    except ApiError:
        return out
    out["nodes"] = len(nodes)
    if nodes:
        info = (nodes[0].get("status") or {}).get("nodeInfo") or {}
        if info.get("operatingSystem"):
            out["platform"] = f"{info.get('operatingSystem')}/{info.get('architecture')}"
    return out


def operator_info() -> Obj:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    return {
        "apiVersion": API_VERSION,
        "version": weir.__version__,
        "platform": f"{platform.system().lower()}/{arch}",
    }


async def deployment_components(api: ApiClient, namespace: str) -> list[ComponentState]:
    """The Flux/weir controller Deployments of ``namespace`` (``app.kubernetes.io/part-of:
    flux``), with their kstatus."""
    try:
        deployments, _ = await list_all(
            api, DEPLOYMENTS, namespace=namespace, label_selector="app.kubernetes.io/part-of=flux"
        )
    except ApiError:
        return []
    out = []
    for dep in sorted(deployments, key=lambda d: str(d["metadata"]["name"])):
        result = health.compute(dep)
        containers = ((dep.get("spec") or {}).get("template") or {}).get("spec", {}).get(
            "containers"
        ) or [{}]
        out.append(
            ComponentState(
                str(dep["metadata"]["name"]),
                str(containers[0].get("image") or ""),
                result.status is health.Status.CURRENT,
                f"{result.status.value} {result.message}".strip(),
            )
        )
    return out


async def _crds_installed(api: ApiClient) -> bool:
    try:
        await transport.request(
            api, "GET", CRDS.path(None, "kustomizations.kustomize.toolkit.fluxcd.io")
        )
    except ApiError:
        return False
    return True


def sync_section(
    instance: Mapping[str, Any] | None, namespace: str, objects: Mapping[str, list[Obj]]
) -> Obj | None:
    """The sync Kustomization: the instance's (``spec.sync.name`` or the namespace), else a
    bootstrap's ``flux-system`` Kustomization in ``namespace``."""
    name = namespace
    if instance is not None:
        sync = (instance.get("spec") or {}).get("sync")
        if sync is None:
            return None
        name = str(sync.get("name") or namespace)
    ks = next(
        (
            o
            for o in objects.get("Kustomization", [])
            if o["metadata"].get("namespace") == namespace and o["metadata"].get("name") == name
        ),
        None,
    )
    if ks is None:
        return None
    spec = ks.get("spec") or {}
    ref = spec.get("sourceRef") or {}
    source = next(
        (
            o
            for o in objects.get(str(ref.get("kind") or ""), [])
            if o["metadata"].get("name") == ref.get("name")
            and o["metadata"].get("namespace") == (ref.get("namespace") or namespace)
        ),
        None,
    )
    ready, message = _ready(ks)
    out: Obj = {"id": f"kustomization/{name}", "ready": ready == "True", "status": message}
    if spec.get("path"):
        out["path"] = spec["path"]
    if source is not None:
        src = source.get("spec") or {}
        out["source"] = str(src.get("url") or src.get("endpoint") or "")
    return out


async def build_report(
    api: ApiClient,
    namespace: str,
    instance: Mapping[str, Any] | None,
    *,
    components: ComponentsFn | None = None,
) -> tuple[Obj, dict[str, list[Obj]]]:
    """The report's spec, and the Flux objects it counted (for ``flux_resource_info``)."""
    objects, cluster, installed = await asyncio.gather(
        list_flux_objects(api), cluster_info(api), _crds_installed(api)
    )
    distribution: Obj = {"status": "Installed" if installed else "Not Installed"}
    if instance is not None:
        distribution["managedBy"] = "weir"
        applied = str((instance.get("status") or {}).get("lastAppliedRevision") or "")
        if applied:
            distribution["version"] = applied.partition("@")[0]
    units = (
        list(components())
        if components is not None
        else await deployment_components(api, namespace)
    )
    spec: Obj = {
        "distribution": distribution,
        "cluster": cluster,
        "operator": operator_info(),
        "components": [c.to_wire() for c in units],
        "reconcilers": [reconciler_stats(i, objects.get(i.kind, [])) for i in FLUX_KINDS],
    }
    sync = sync_section(instance, namespace, objects)
    if sync is not None:
        spec["sync"] = sync
    return spec, objects
