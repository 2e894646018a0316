"""A FluxInstance's spec -> the desired installation, independent of where it runs.

:func:`desired_state` validates the instance as the Flux Operator does (and what weir cannot
run), resolves the release, and decides the *units*: one per component, plus one per shard of
each shardable component. A unit's live settings (``--concurrent``, ``--requeue-dependency``,
``--watch-label-selector``, the multi-tenancy flags) are what both modes run it with: on a
cluster they are the unit's settings ConfigMap read by its Deployment, locally they are the
in-process controller group's settings (:mod:`weir.operator.instance.plans`).

Every field of the spec is either used here or in :mod:`~weir.operator.instance.render`, or
listed in :attr:`Desired.not_applicable` with the reason (``status.notApplicable``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from weir.api.defaults import with_defaults
from weir.api.fluxinstance import (
    DEFAULT_COMPONENTS,
    INSTANCE_NAME,
    FluxInstance,
    FluxInstanceSpec,
    NotApplicable,
)
from weir.errors import WeirError
from weir.operator.instance import components as comp
from weir.operator.instance import distribution as dist
from weir.operator.instance.profiles import Resources, profile
from weir.runtime.factories import REGISTRY, ControllerRegistry

Mode = Literal["local", "cluster"]
DEFAULT_SHARD_KEY = "sharding.fluxcd.io/key"

# reasons (the Flux Operator's)
ARTIFACT_FAILED = "ArtifactFailed"
BUILD_FAILED = "BuildFailed"
HEALTH_CHECK_FAILED = "HealthCheckFailed"
RECONCILIATION_FAILED = "ReconciliationFailed"
RECONCILIATION_SUCCEEDED = "ReconciliationSucceeded"


class InstanceError(WeirError):
    """The instance cannot be installed as written; ``reason`` is a Ready reason and the
    message says what to change."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Options:
    """How the operator runs (``weir run --operator-*`` flags)."""

    namespace: str = "flux-system"
    """The operator's namespace: the only one a FluxInstance is accepted in."""
    mode: Mode = "local"
    """``local``: the instance's controllers run in the operator's process; ``cluster``: as
    Deployments the operator applies."""
    catalog: tuple[dist.Release, ...] = ()
    """Releases to choose from (empty: the running weir)."""


@dataclass(frozen=True)
class Unit:
    """One controller group: a component, or one shard of it."""

    name: str
    """Deployment / group name: ``kustomize-controller`` or ``kustomize-controller-shard1``."""
    component: comp.ComponentInfo
    shard: str | None
    settings: dict[str, str]
    """Live settings, by Flux flag name (``concurrent``, ``requeue-dependency``, ...)."""
    resources: Resources


@dataclass(frozen=True)
class Desired:
    """The installation a FluxInstance asks for."""

    name: str
    namespace: str
    spec: FluxInstanceSpec
    """The spec with the API server's defaults filled in."""
    mode: Mode
    release: dist.Release
    image: str
    components: list[str]
    units: list[Unit]
    not_applicable: list[NotApplicable] = field(default_factory=list)

    @property
    def sync_name(self) -> str:
        sync = self.spec.sync
        return (sync.name if sync and sync.name else None) or self.namespace


def parse(obj: Mapping[str, Any]) -> FluxInstance:
    """The instance as a model; an invalid spec (one the CRD would refuse too) is a
    ``BuildFailed`` error naming the field."""
    try:
        return with_defaults(FluxInstance.model_validate(obj))
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
        )
        raise InstanceError(BUILD_FAILED, f"invalid FluxInstance: {problems}") from e


def check_singleton(namespace: str, name: str, options: Options) -> None:
    """One instance per cluster: ``flux`` in the operator's namespace."""
    if name != INSTANCE_NAME:
        raise InstanceError(
            RECONCILIATION_FAILED,
            f"the only accepted name for a FluxInstance is '{INSTANCE_NAME}': rename it",
        )
    if namespace != options.namespace:
        raise InstanceError(
            RECONCILIATION_FAILED,
            f"only one FluxInstance per cluster: the operator manages "
            f"{options.namespace}/{INSTANCE_NAME}; delete this one (or run it in "
            f"{options.namespace})",
        )


def desired_state(
    obj: Mapping[str, Any],
    options: Options,
    registry: ControllerRegistry = REGISTRY,
) -> Desired:
    """Validate ``obj`` and decide its installation; raises :class:`InstanceError`."""
    meta = obj.get("metadata") or {}
    check_singleton(str(meta.get("namespace") or ""), str(meta.get("name") or ""), options)
    instance = parse(obj)
    spec = instance.spec
    catalog = list(options.catalog) or dist.default_catalog()
    try:
        release = dist.resolve(spec.distribution.version, catalog)
    except dist.DistributionError as e:
        raise InstanceError(ARTIFACT_FAILED, str(e)) from e
    names: list[str] = list(dict.fromkeys(spec.components or DEFAULT_COMPONENTS))
    missing = comp.missing(names, registry)
    if missing:
        can = ", ".join(comp.available(registry))
        raise InstanceError(
            BUILD_FAILED,
            f"spec.components: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
            f"not part of this weir release; remove {'it' if len(missing) == 1 else 'them'} "
            f"(weir runs {can})",
        )
    if spec.sync is not None and "source-controller" not in names:
        raise InstanceError(
            BUILD_FAILED,
            "spec.sync needs source-controller and kustomize-controller in spec.components",
        )
    if spec.sync is not None and "kustomize-controller" not in names:
        raise InstanceError(
            BUILD_FAILED,
            "spec.sync needs source-controller and kustomize-controller in spec.components",
        )
    units = _units(spec, names)
    return Desired(
        name=INSTANCE_NAME,
        namespace=options.namespace,
        spec=spec,
        mode=options.mode,
        release=release,
        image=dist.image(spec.distribution.registry, release),
        components=names,
        units=units,
        not_applicable=not_applicable(spec, options.mode),
    )


def _units(spec: FluxInstanceSpec, names: Sequence[str]) -> list[Unit]:
    cluster = spec.cluster
    size = profile(cluster.size if cluster else None)
    multitenant = bool(cluster and cluster.multitenant)
    tenant_sa = (cluster.tenant_default_service_account if cluster else None) or "default"
    sharding = spec.sharding
    key = (sharding.key if sharding else None) or DEFAULT_SHARD_KEY
    shards = list(dict.fromkeys(sharding.shards)) if sharding else []
    out: list[Unit] = []
    for name in names:
        info = comp.COMPONENTS[name]
        prof = size.of(name)
        base: dict[str, str] = {"controllers": info.controllers}
        if prof.concurrent is not None:
            base["concurrent"] = str(prof.concurrent)
        if prof.requeue_dependency is not None:
            base["requeue-dependency"] = prof.requeue_dependency
        if multitenant and info.applies:
            base["no-cross-namespace-refs"] = "true"
            base["default-service-account"] = tenant_sa
        elif multitenant and name == "notification-controller":
            base["no-cross-namespace-refs"] = "true"
        sharded = bool(shards) and info.shardable
        main = dict(base)
        if sharded:
            main["watch-label-selector"] = f"!{key}"
        out.append(Unit(name, info, None, main, prof.resources))
        if sharded:
            for shard in shards:
                settings = {**base, "watch-label-selector": f"{key} in ({shard})"}
                out.append(Unit(f"{name}-{shard}", info, shard, settings, prof.resources))
    return out


def not_applicable(spec: FluxInstanceSpec, mode: Mode) -> list[NotApplicable]:
    """The fields weir accepts but does not act on (in ``mode``), with the reason."""
    out: list[NotApplicable] = []

    def add(path: str, reason: str) -> None:
        out.append(NotApplicable(field=path, reason=reason))

    d = spec.distribution
    if d.artifact:
        add(
            "spec.distribution.artifact",
            "weir renders its controllers from its own code and release catalog; no "
            "manifests artifact is pulled",
        )
    if d.artifact_pull_secret:
        add("spec.distribution.artifactPullSecret", "no manifests artifact is pulled")
    if d.variant:
        add("spec.distribution.variant", "weir ships one image variant")
    if mode == "local":
        if dist.is_flux_registry(d.registry) or d.registry:
            add(
                "spec.distribution.registry",
                "local mode runs the controllers in the operator's process: no image is pulled",
            )
        if d.image_pull_secret:
            add("spec.distribution.imagePullSecret", "local mode pulls no image")
    elif dist.is_flux_registry(d.registry):
        add(
            "spec.distribution.registry",
            f"{d.registry} holds Flux's images, not weir's: weir's image "
            f"{dist.IMAGE_REPOSITORY} is used (name a mirror to pull weir from it)",
        )
    c = spec.cluster
    if c is not None:
        if c.object_level_workload_identity:
            add("spec.cluster.objectLevelWorkloadIdentity", "weir has no workload identity")
        if c.multitenant_workload_identity:
            add("spec.cluster.multitenantWorkloadIdentity", "weir has no workload identity")
        if c.tenant_default_decryption_service_account:
            add(
                "spec.cluster.tenantDefaultDecryptionServiceAccount",
                "weir decrypts with keys from Secrets, not with workload identity",
            )
        if c.tenant_default_kube_config_service_account:
            add(
                "spec.cluster.tenantDefaultKubeConfigServiceAccount",
                "weir has no workload identity for remote clusters",
            )
        if c.tenant_default_service_account and not c.multitenant:
            add(
                "spec.cluster.tenantDefaultServiceAccount",
                "used only with spec.cluster.multitenant: true",
            )
    if spec.migrate_resources:
        add(
            "spec.migrateResources",
            "weir serves only the latest Flux API versions: there is nothing to migrate",
        )
    if mode == "local":
        if spec.storage is not None:
            add("spec.storage", "local mode stores artifacts under weir run's --storage-path")
        if spec.sharding is not None and spec.sharding.storage:
            add("spec.sharding.storage", "local mode stores artifacts on the local disk")
        if c is not None and c.network_policy:
            add(
                "spec.cluster.networkPolicy",
                "the policies are applied, but in-process controllers have no pods they select",
            )
    return out
