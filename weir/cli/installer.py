"""Installing weir into a cluster without Helm (``weir install``, ``weir uninstall``), from the
one source of truth, the chart ``charts/weir`` (shipped in the wheel).

:func:`install`: the namespace, the CRDs (the generated ones, the chart's ``crds/``), the chart
rendered by the Helm engine in process (a server-side dry run of ``helm install``) and applied
server-side as ``weir-install``, the operator's Deployment waited until Available, then an
optional FluxInstance waited until Ready. Every step is idempotent: running it again applies the
same objects.

:func:`uninstall`: the FluxInstance first (the operator stops its controllers and deletes what it
installed, leaving the workloads), then the chart's objects; the Flux objects and their CRDs only
with ``delete_crds``, the namespace unless ``keep_namespace`` -- as ``flux-operator uninstall``
and ``flux uninstall`` do.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes_asyncio.client import ApiClient

import weir
from weir.api.crds import generate
from weir.errors import WeirError
from weir.kube import apply as kapi
from weir.kube import kstatus
from weir.kube.errors import NotFoundError, UnknownKindError
from weir.kube.informer import list_all
from weir.kube.order import apply_order
from weir.kube.resources import ResourceRef, RESTMapper
from weir.types import Obj

FIELD_MANAGER = "weir-install"
DEFAULT_RELEASE = "flux-operator"
HELM_RELEASE_NAME = "meta.helm.sh/release-name"
HELM_RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"
CRDS = ResourceRef(
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", False, "CustomResourceDefinition"
)
NAMESPACES = ResourceRef("", "v1", "namespaces", False, "Namespace")
DEPLOYMENTS = ResourceRef("apps", "v1", "deployments", True, "Deployment")
INSTANCES = ResourceRef("fluxcd.controlplane.io", "v1", "fluxinstances", True, "FluxInstance")
# The kinds the chart renders, for uninstall (selected by the release's labels).
CHART_KINDS = (
    ResourceRef("apps", "v1", "deployments", True, "Deployment"),
    ResourceRef("", "v1", "services", True, "Service"),
    ResourceRef("", "v1", "secrets", True, "Secret"),
    ResourceRef("networking.k8s.io", "v1", "ingresses", True, "Ingress"),
    ResourceRef("networking.k8s.io", "v1", "networkpolicies", True, "NetworkPolicy"),
    ResourceRef("rbac.authorization.k8s.io", "v1", "rolebindings", True, "RoleBinding"),
    ResourceRef("rbac.authorization.k8s.io", "v1", "roles", True, "Role"),
    ResourceRef(
        "rbac.authorization.k8s.io", "v1", "clusterrolebindings", False, "ClusterRoleBinding"
    ),
    ResourceRef("rbac.authorization.k8s.io", "v1", "clusterroles", False, "ClusterRole"),
    ResourceRef("flowcontrol.apiserver.k8s.io", "v1", "flowschemas", False, "FlowSchema"),
    ResourceRef("monitoring.coreos.com", "v1", "servicemonitors", True, "ServiceMonitor"),
    ResourceRef("gateway.networking.k8s.io", "v1", "httproutes", True, "HTTPRoute"),
    ResourceRef("", "v1", "serviceaccounts", True, "ServiceAccount"),
)

Progress = Callable[[str], None]


class InstallError(WeirError):
    """``weir install`` or ``weir uninstall`` could not finish."""


def chart_dir() -> Path:
    """The chart: inside the installed package (a wheel), else the checkout's ``charts/weir``."""
    package = Path(weir.__file__).resolve().parent
    for candidate in (package / "charts" / "weir", package.parent / "charts" / "weir"):
        if (candidate / "Chart.yaml").is_file():
            return candidate
    raise InstallError(
        "weir's chart is not installed with this weir (weir/charts/weir): reinstall the "
        "weir-gitops wheel"
    )


def release_selector(release: str) -> str:
    return f"app.kubernetes.io/instance={release},app.kubernetes.io/part-of=weir"


@dataclass
class InstallPlan:
    """What :func:`install` applies."""

    namespace: str = "flux-system"
    release: str = DEFAULT_RELEASE
    values: dict[str, Any] = field(default_factory=dict)
    instance: Obj | None = None
    wait: bool = True
    timeout: float = 300.0


async def render_chart(
    kubeconfig: str | None,
    context: str | None,
    release: str,
    namespace: str,
    values: Mapping[str, Any],
) -> list[Obj]:
    """The chart's objects for ``values``, rendered by the Helm engine (a dry-run install)."""
    from weir.helmengine.engine import ClusterAccess  # noqa: PLC0415 -- loads the Helm library
    from weir.helmengine.service import default_engine  # noqa: PLC0415

    engine = default_engine(concurrency=1)
    try:
        result = await engine.render(
            ClusterAccess(kubeconfig=kubeconfig, context=context),
            str(chart_dir()),
            release,
            namespace,
            values=values,
        )
    finally:
        await engine.aclose()
    objects = [o for o in yaml.safe_load_all(result.manifest) if isinstance(o, dict)]
    for obj in objects:
        meta = obj.setdefault("metadata", {})
        if meta.get("namespace") is None and _namespaced_kind(obj):
            meta["namespace"] = namespace
    return objects


def _namespaced_kind(obj: Obj) -> bool:
    cluster_scoped = {"ClusterRole", "ClusterRoleBinding", "FlowSchema", "Namespace"}
    return obj.get("kind") not in cluster_scoped


async def _wait(
    what: str,
    check: Callable[[], Any],
    timeout: float,  # noqa: ASYNC109
    interval: float = 1.0,
) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = await check()
        if last is True or (last is not None and last is not False and not isinstance(last, str)):
            return last
        if time.monotonic() > deadline:
            detail = f": {last}" if isinstance(last, str) else ""
            raise InstallError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        await asyncio.sleep(interval)


async def apply_crds(api: ApiClient, timeout: float) -> int:  # noqa: ASYNC109
    crds = generate()
    for crd in crds:
        await kapi.apply(api, crd, FIELD_MANAGER, force=True)

    async def established() -> bool | str:
        pending = []
        for crd in crds:
            live = await kapi.get(api, CRDS, None, crd["metadata"]["name"])
            if kstatus.compute(live).status != kstatus.Status.CURRENT:
                pending.append(crd["metadata"]["name"])
        return True if not pending else "not Established: " + ", ".join(pending)

    await _wait("the CRDs", established, timeout, 0.2)
    return len(crds)


async def install(
    api: ApiClient,
    plan: InstallPlan,
    *,
    kubeconfig: str | None = None,
    context: str | None = None,
    progress: Progress = lambda _: None,
) -> list[Obj]:
    """See the module docstring. Returns the applied chart objects."""
    ns = plan.namespace
    await kapi.apply(
        api,
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        FIELD_MANAGER,
        force=True,
    )
    progress(f"namespace {ns}")
    count = await apply_crds(api, plan.timeout)
    progress(f"{count} CRDs applied and Established")
    objects = await render_chart(kubeconfig, context, plan.release, ns, plan.values)
    for obj in objects:
        # Helm's ownership marks: a second render (a dry-run install) adopts these objects
        # instead of refusing them, and `helm upgrade --install` can take them over.
        annotations = obj["metadata"].setdefault("annotations", {})
        annotations.update({HELM_RELEASE_NAME: plan.release, HELM_RELEASE_NAMESPACE: ns})
    mapper = RESTMapper(api)
    for obj in apply_order(objects):
        try:
            await kapi.apply(api, obj, FIELD_MANAGER, force=True, mapper=mapper)
        except UnknownKindError as e:
            raise InstallError(
                f"{obj['kind']} {obj['metadata']['name']}: the cluster does not serve this kind "
                f"({e}); install its CRDs or turn the value off (serviceMonitor.create, "
                "web.httpRoute.enabled)"
            ) from e
    progress(f"operator: {len(objects)} objects of the chart applied (release {plan.release})")
    deployments = [o["metadata"]["name"] for o in objects if o.get("kind") == "Deployment"]
    if plan.wait:
        for name in deployments:

            async def available(name: str = name) -> bool | str:
                live = await kapi.get(api, DEPLOYMENTS, ns, name)
                result = kstatus.compute(live)
                return True if result.status == kstatus.Status.CURRENT else result.message

            await _wait(f"Deployment {ns}/{name}", available, plan.timeout)
            progress(f"Deployment {ns}/{name} available")
    if plan.instance is not None:
        instance = dict(plan.instance)
        instance.setdefault("metadata", {}).setdefault("namespace", ns)
        await kapi.apply(api, instance, FIELD_MANAGER, force=True)
        name = instance["metadata"]["name"]
        progress(f"FluxInstance {ns}/{name} applied")
        if plan.wait:
            await wait_instance_ready(api, ns, name, plan.timeout)
            progress(f"FluxInstance {ns}/{name} Ready")
    return objects


async def wait_instance_ready(api: ApiClient, ns: str, name: str, timeout: float) -> Obj:  # noqa: ASYNC109
    async def ready() -> Obj | str:
        live = await kapi.get(api, INSTANCES, ns, name)
        gen = live["metadata"].get("generation")
        for c in (live.get("status") or {}).get("conditions") or []:
            if c["type"] == "Ready":
                if c["status"] == "True" and c.get("observedGeneration") == gen:
                    return live
                return str(c.get("message") or c.get("reason"))
        return "no Ready condition yet (is the operator running?)"

    result: Obj = await _wait(f"FluxInstance {ns}/{name} to be Ready", ready, timeout)
    return result


async def _delete_and_wait(
    api: ApiClient,
    ref: ResourceRef,
    namespace: str | None,
    name: str,
    timeout: float,  # noqa: ASYNC109
) -> bool:
    if await kapi.delete(api, ref, namespace, name, missing_ok=True) is None:
        return False

    async def gone() -> bool:
        try:
            await kapi.get(api, ref, namespace, name)
        except NotFoundError:
            return True
        return False

    await _wait(f"{ref.kind} {namespace + '/' if namespace else ''}{name} to go", gone, timeout)
    return True


async def _list(api: ApiClient, ref: ResourceRef, ns: str | None, selector: str) -> list[Obj]:
    try:
        items, _ = await list_all(
            api, ref, namespace=ns if ref.namespaced else None, label_selector=selector
        )
    except NotFoundError:  # a kind the cluster does not serve (ServiceMonitor, HTTPRoute)
        return []
    return items


async def uninstall(
    api: ApiClient,
    *,
    namespace: str = "flux-system",
    release: str = DEFAULT_RELEASE,
    keep_namespace: bool = False,
    delete_crds: bool = False,
    timeout: float = 300.0,  # noqa: ASYNC109
    progress: Progress = lambda _: None,
) -> None:
    """See the module docstring."""
    try:
        instances, _ = await list_all(api, INSTANCES, namespace=namespace)
    except NotFoundError:
        instances = []
    for inst in instances:
        name = inst["metadata"]["name"]
        await _delete_and_wait(api, INSTANCES, namespace, name, timeout)
        progress(f"FluxInstance {namespace}/{name} deleted (its controllers removed)")
    selector = release_selector(release)
    removed = 0
    for ref in CHART_KINDS:
        for obj in await _list(api, ref, namespace, selector):
            meta = obj["metadata"]
            await _delete_and_wait(api, ref, meta.get("namespace"), meta["name"], timeout)
            removed += 1
    progress(f"operator: {removed} objects of release {release} deleted")
    if delete_crds:
        crds = generate()
        for crd in crds:
            await _strip_finalizers(api, crd)
        for crd in crds:
            await _delete_and_wait(api, CRDS, None, crd["metadata"]["name"], timeout)
        progress(f"{len(crds)} CRDs deleted, and every Flux object with them")
    if not keep_namespace and await _delete_and_wait(api, NAMESPACES, None, namespace, timeout):
        progress(f"namespace {namespace} deleted")


async def _strip_finalizers(api: ApiClient, crd: Obj) -> None:
    """Remove the finalizers of every object of ``crd``'s kind (no controller runs any more to
    remove them), as ``flux uninstall`` does."""
    spec = crd["spec"]
    version = next(v["name"] for v in spec["versions"] if v.get("storage"))
    ref = ResourceRef(
        spec["group"],
        version,
        spec["names"]["plural"],
        spec["scope"] == "Namespaced",
        spec["names"]["kind"],
    )
    try:
        items, _ = await list_all(api, ref)
    except NotFoundError:
        return
    for obj in items:
        meta = obj["metadata"]
        if meta.get("finalizers"):
            patch = {"metadata": {"finalizers": None}}
            try:
                await kapi.patch(api, ref, meta.get("namespace"), meta["name"], patch)
            except NotFoundError:
                continue
