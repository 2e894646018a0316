"""``fluxcd.controlplane.io/v1`` FluxInstance and FluxReport: the operator's API.

A FluxInstance declares which of weir's controllers run, how big the cluster is and what to
sync; the operator (``weir.operator``) renders and runs it. A FluxReport is the operator's
summary of the installation. Fields, defaults, enums and CEL rules are the Flux Operator's
(``fluxcd.controlplane.io/v1``), so its manifests apply unchanged; weir adds
``status.notApplicable`` (what weir accepted but does not act on, and why).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from weir.api.base import ApiModel, CelRule, Duration, Int64, Timestamp, crd_default, has
from weir.api.meta import (
    CommonMetadata,
    Condition,
    HistorySnapshot,
    Patch,
    ReconcileStatus,
    ResourceInventory,
    status_field,
)
from weir.api.object import FluxObject

GROUP = "fluxcd.controlplane.io"
API_VERSION = f"{GROUP}/v1"
INSTANCE_NAME = "flux"
"""The only name a FluxInstance (and the FluxReport) may have."""

Component = Literal[
    "source-controller",
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
    "image-reflector-controller",
    "image-automation-controller",
    "source-watcher",
]
"""The Flux components a FluxInstance may list (the Flux Operator's enum)."""

DEFAULT_COMPONENTS: tuple[Component, ...] = (
    "source-controller",
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
)
"""What runs when ``spec.components`` is empty."""

ClusterSize = Literal["small", "medium", "large"]
ClusterType = Literal["kubernetes", "openshift", "aws", "azure", "gcp"]
SyncKind = Literal["OCIRepository", "GitRepository", "Bucket"]
SyncProvider = Literal["generic", "aws", "azure", "gcp", "github"]


class Distribution(ApiModel):
    """Which release to run and where its images come from."""

    version: str
    """Semver range or exact version of the Flux distribution, e.g. ``2.x``, ``2.9.x``,
    ``2.9.0``; weir runs its release that implements the highest matching Flux version."""
    registry: str
    """Registry the images are pulled from, e.g. ``ghcr.io/fluxcd``."""
    variant: (
        Literal[
            "upstream-alpine",
            "enterprise-alpine",
            "enterprise-distroless",
            "enterprise-distroless-fips",
        ]
        | None
    ) = None
    """Image variant, for registry mirrors."""
    image_pull_secret: str | None = None
    """``kubernetes.io/dockerconfigjson`` Secret used to pull the images."""
    artifact: Annotated[str, StringConstraints(pattern=r"^oci://.*$")] | None = None
    """OCI artifact with the distribution's manifests, polled for new releases."""
    artifact_pull_secret: str | None = None
    """Secret used to pull ``artifact``."""


class Cluster(ApiModel):
    """The cluster the instance runs on."""

    cel_rules = (
        CelRule(
            rule="(has(self.objectLevelWorkloadIdentity) && self.objectLevelWorkloadIdentity) "
            "|| !has(self.multitenantWorkloadIdentity) || !self.multitenantWorkloadIdentity",
            message=".objectLevelWorkloadIdentity must be set to true when "
            ".multitenantWorkloadIdentity is set to true",
            check=lambda c: (
                bool(c.object_level_workload_identity) or not c.multitenant_workload_identity
            ),
        ),
    )

    domain: str | None = crd_default("cluster.local")
    """Cluster domain of the services' names."""
    multitenant: bool | None = crd_default(False)
    """Multi-tenancy lockdown: a default service account and no cross-namespace references."""
    multitenant_workload_identity: bool | None = crd_default(False)
    """Multi-tenancy lockdown for workload identity."""
    tenant_default_service_account: str | None = None
    """Service account impersonated when an object names none (``default`` when empty)."""
    tenant_default_decryption_service_account: str | None = None
    """Default service account of SOPS decryption with workload identity."""
    tenant_default_kube_config_service_account: str | None = None
    """Default service account of remote cluster access with workload identity."""
    object_level_workload_identity: bool | None = None
    """Let objects name their own service account for workload identity."""
    network_policy: bool | None = crd_default(True)
    """Write network policies that restrict access to the controllers' namespace."""
    type: ClusterType | None = crd_default("kubernetes")
    """Platform of the cluster: ``kubernetes``, ``openshift``, ``aws``, ``azure`` (AKS),
    ``gcp``."""
    size: ClusterSize | None = None
    """Vertical scaling profile: ``small``, ``medium`` or ``large``."""


class Sharding(ApiModel):
    """Split the work of the controllers across shards by a label."""

    key: str | None = crd_default("sharding.fluxcd.io/key")
    """Label whose value names an object's shard."""
    shards: Annotated[list[str], Field(min_length=1)]
    """Shard names; each gets its own controllers."""
    storage: Literal["ephemeral", "persistent"] | None = None
    """Storage of the source-controller shards (``persistent`` needs ``spec.storage``)."""


class Storage(ApiModel):
    """The source-controller's persistent volume claim."""

    class_: str = Field(alias="class")
    """Storage class of the claim."""
    size: str
    """Size of the claim, e.g. ``10Gi``."""


class Kustomize(ApiModel):
    """Patches applied to what the operator renders."""

    patches: list[Patch] | None = None
    """Strategic-merge and JSON 6902 patches with target selectors."""


class Sync(ApiModel):
    """The source and Kustomization the operator creates to sync the cluster."""

    cel_rules = (
        CelRule(
            rule="!has(self.provider) || self.provider != 'gcp' || self.kind != 'GitRepository'",
            message="the gcp provider is for OCIRepository and Bucket only",
            check=lambda s: not (s.provider == "gcp" and s.kind == "GitRepository"),
        ),
        CelRule(
            rule="!has(self.provider) || self.provider != 'github' || self.kind == 'GitRepository'",
            message="the github provider is for GitRepository only",
            check=lambda s: not (s.provider == "github" and s.kind != "GitRepository"),
        ),
    )

    name: Annotated[str, StringConstraints(max_length=63)] | None = Field(
        default=None,
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": "self == oldSelf", "message": "Sync name is immutable"}
            ]
        },
    )
    """Name of the source and the Kustomization (the instance's namespace when empty);
    immutable."""
    interval: Duration | None = crd_default("1m")
    """How often the source is fetched and the Kustomization applied."""
    kind: SyncKind
    """Kind of the source."""
    url: str
    """Git URL (HTTP/S or SSH), OCI repository address or Bucket endpoint."""
    ref: str
    """Git ref (``refs/heads/main``, ``refs/tags/v1.0.0``) or semver range, OCI tag, digest
    or semver range, or Bucket name."""
    path: str
    """Directory of the source to apply."""
    pull_secret: str | None = None
    """Secret with the credentials of the source."""
    provider: SyncProvider | None = None
    """OIDC provider of the source's authentication."""


class FluxInstanceSpec(ApiModel):
    """The desired installation."""

    cel_rules = (
        CelRule(
            rule="!has(self.sharding) || !has(self.sharding.storage) || "
            "self.sharding.storage != 'persistent' || has(self.storage)",
            message=".spec.storage must be set when .spec.sharding.storage is 'persistent'",
            check=lambda s: (
                s.sharding is None or s.sharding.storage != "persistent" or has(s.storage)
            ),
        ),
    )

    distribution: Distribution
    """Version and registry of the distribution."""
    components: list[Component] | None = None
    """Controllers to run (source, kustomize, helm and notification when empty)."""
    common_metadata: CommonMetadata | None = None
    """Labels and annotations added to every object the operator applies."""
    cluster: Cluster | None = None
    """The cluster's platform, size and tenancy."""
    sharding: Sharding | None = None
    """Controller shards."""
    storage: Storage | None = None
    """Persistent storage of the source-controller."""
    kustomize: Kustomize | None = None
    """Patches applied to the rendered objects."""
    wait: bool | None = crd_default(True)
    """Wait for the applied objects to become healthy."""
    migrate_resources: bool | None = crd_default(True)
    """Migrate stored Flux objects to the latest API version after an upgrade."""
    sync: Sync | None = None
    """The cluster's sync source and Kustomization."""


class ComponentImage(ApiModel):
    """The image a component runs."""

    name: str
    """Name of the component."""
    repository: str
    """Image repository."""
    tag: str
    """Image tag."""
    digest: str | None = None
    """Image digest."""


class NotApplicable(ApiModel):
    """A field weir accepted but does not act on (weir's addition to the status)."""

    field: str
    """Path of the field, e.g. ``spec.distribution.artifact``."""
    reason: str
    """Why weir does not act on it, and what it does instead."""


class FluxInstanceStatus(ReconcileStatus):
    """The observed installation."""

    last_handled_force_at: str | None = None
    """The last ``reconcile.fluxcd.io/forceAt`` value handled."""
    last_attempted_revision: str | None = None
    """``<version>@sha256:<digest>`` of the last attempted configuration."""
    last_applied_revision: str | None = None
    """``<version>@sha256:<digest>`` of the last applied configuration."""
    last_artifact_revision: str | None = None
    """Digest of the last pulled distribution artifact."""
    components: list[ComponentImage] | None = None
    """The images of the components."""
    inventory: ResourceInventory | None = None
    """Objects applied by the last successful reconciliation."""
    history: list[HistorySnapshot] | None = None
    """The last reconciled configurations, newest first (at most 5)."""
    not_applicable: list[NotApplicable] | None = None
    """Fields of the spec weir accepted but does not act on, and why."""


def _is_flux(obj: FluxInstance) -> bool:
    return obj.metadata.name in (None, INSTANCE_NAME)


class FluxInstance(FluxObject):
    """The installation of weir's controllers in a cluster (one per cluster, named ``flux``)."""

    cel_rules = (
        CelRule(
            rule="self.metadata.name == 'flux'",
            message="the only accepted name for a FluxInstance is 'flux'",
            check=_is_flux,
        ),
    )

    api_version: Literal["fluxcd.controlplane.io/v1"] = "fluxcd.controlplane.io/v1"
    kind: Literal["FluxInstance"] = "FluxInstance"
    spec: FluxInstanceSpec
    """Desired state."""
    status: FluxInstanceStatus | None = status_field()
    """Observed state."""


# ------------------------------------------------------------------------------- FluxReport
class ReportDistribution(ApiModel):
    """The installed distribution."""

    entitlement: str | None = None
    """Who issued the entitlement (empty for weir)."""
    managed_by: str | None = None
    """What installed it: ``weir`` (a FluxInstance), ``flux bootstrap``, ..."""
    status: str
    """``Installed`` or ``Not Installed``."""
    version: str | None = None
    """The distribution's version, e.g. ``v2.9.0``."""


class ReportCluster(ApiModel):
    """The cluster."""

    server_version: str | None = None
    """Kubernetes version of the API server."""
    platform: str | None = None
    """Operating system and architecture of the nodes, e.g. ``linux/amd64``."""
    nodes: Int64 | None = None
    """Number of nodes."""


class ReportOperator(ApiModel):
    """The operator that writes the report."""

    api_version: str
    """API version of the operator's kinds."""
    version: str
    """Version of the operator (weir's)."""
    platform: str
    """Operating system and architecture the operator runs on."""


class ReportComponent(ApiModel):
    """A controller of the installation."""

    name: str
    """Component name, e.g. ``kustomize-controller`` (``-<shard>`` for shards)."""
    image: str
    """Image (``repository:tag[@digest]``), or ``weir <version> (in-process)``."""
    ready: bool
    """Whether it runs and is available."""
    status: str
    """kstatus of the Deployment, or the in-process controllers' state."""


class ReconcilerStats(ApiModel):
    """Counts of one kind's objects."""

    running: Int64
    """Objects not suspended."""
    failing: Int64
    """Objects whose Ready condition is False."""
    suspended: Int64
    """Suspended objects."""
    total_size: str | None = None
    """Size of the stored artifacts (source kinds), e.g. ``3.7 MiB``."""


class ReportReconciler(ApiModel):
    """The objects of one kind."""

    api_version: str
    """API version of the kind."""
    kind: str
    """The kind."""
    stats: ReconcilerStats
    """The counts."""


class ReportSync(ApiModel):
    """The cluster's sync Kustomization."""

    id: str
    """``kustomization/<name>``."""
    path: str | None = None
    """``spec.path`` of the Kustomization."""
    ready: bool
    """Whether the Kustomization is Ready."""
    source: str | None = None
    """URL of its source."""
    status: str
    """Message of its Ready condition."""


class FluxReportSpec(ApiModel):
    """What the operator observed."""

    distribution: ReportDistribution
    """The installed distribution."""
    cluster: ReportCluster | None = None
    """The cluster."""
    operator: ReportOperator | None = None
    """The operator."""
    components: list[ReportComponent] | None = None
    """The controllers and their state."""
    reconcilers: list[ReportReconciler] | None = None
    """Counts per kind."""
    sync: ReportSync | None = None
    """The sync Kustomization."""


class FluxReportStatus(ApiModel):
    """The state of the reporting itself."""

    conditions: list[Condition] | None = None
    """``Ready`` (``Reporting finished in ...``)."""
    last_handled_reconcile_at: str | None = None
    """The last ``reconcile.fluxcd.io/requestedAt`` value handled."""
    observed_generation: Int64 | None = None
    """The last generation the operator observed."""
    last_reported: Timestamp | None = None
    """When the report was last written (weir's addition)."""


class FluxReport(FluxObject):
    """The operator's report of the installation (one per cluster, named ``flux``)."""

    api_version: Literal["fluxcd.controlplane.io/v1"] = "fluxcd.controlplane.io/v1"
    kind: Literal["FluxReport"] = "FluxReport"
    spec: FluxReportSpec
    """The report."""
    status: FluxReportStatus | None = status_field()
    """State of the reporting."""
