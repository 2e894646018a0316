"""``kustomize.toolkit.fluxcd.io/v1`` Kustomization: build a path of a source with kustomize and
apply it."""

from __future__ import annotations

from typing import Annotated, Literal

from weir.api.base import ApiModel, Duration, bounded, crd_default
from weir.api.meta import (
    CommonMetadata,
    CustomHealthCheck,
    DependencyReference,
    HistorySnapshot,
    IgnoreRule,
    Image,
    KubeConfigReference,
    LocalObjectReference,
    NamespacedObjectKindReference,
    Patch,
    ReconcileStatus,
    ResourceInventory,
    status_field,
)
from weir.api.object import FluxObject

GROUP = "kustomize.toolkit.fluxcd.io"
API_VERSION = f"{GROUP}/v1"


class CrossNamespaceSourceReference(ApiModel):
    """The source whose artifact a Kustomization builds."""

    api_version: str | None = None
    """API version of the referent."""
    kind: Literal["OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"]
    """Kind of the referent."""
    name: str
    """Name of the referent."""
    namespace: str | None = None
    """Namespace of the referent; the Kustomization's namespace when empty."""


class Decryption(ApiModel):
    """How to decrypt SOPS-encrypted Secrets before applying them."""

    provider: Literal["sops"]
    """Decryption engine."""
    service_account_name: str | None = None
    """ServiceAccount for cloud KMS workload identity."""
    secret_ref: LocalObjectReference | None = None
    """Secret with the keys (``*.agekey``, ``*.asc``, ``sops.*``)."""


class SubstituteReference(ApiModel):
    """A ConfigMap or Secret whose data keys are substitution variables."""

    kind: Literal["Secret", "ConfigMap"]
    """Kind of the referent."""
    name: Annotated[str, bounded(1, 253)]
    """Name of the referent, in the Kustomization's namespace."""
    optional: bool | None = crd_default(False)
    """Treat a missing referent as empty instead of failing."""


class PostBuild(ApiModel):
    """Variable substitution on the built manifests."""

    substitute: dict[str, str] | None = None
    """Variables and values; they override those from substituteFrom."""
    substitute_from: list[SubstituteReference] | None = None
    """ConfigMaps and Secrets with variables, later ones override earlier ones."""
    substitute_strategy: Literal["WithVariables", "Always"] | None = None
    """``WithVariables`` (default): substitute only when a variable is defined;
    ``Always``: substitute even without variables (defaults only)."""


class KustomizationSpec(ApiModel):
    """What to build, how to apply it, and how to check its health."""

    build_metadata: list[str] | None = None
    """Kustomize build metadata to add: ``originAnnotations``, ``transformerAnnotations``."""
    common_metadata: CommonMetadata | None = None
    """Labels and annotations added to every applied object."""
    components: list[str] | None = None
    """Relative paths of kustomize components."""
    decryption: Decryption | None = None
    """SOPS decryption of Secrets."""
    deletion_policy: Literal["MirrorPrune", "Delete", "WaitForTermination", "Orphan"] | None = None
    """What happens to applied objects when the Kustomization is deleted (``MirrorPrune``:
    follow ``prune``)."""
    depends_on: list[DependencyReference] | None = None
    """Kustomizations that must be ready first."""
    force: bool | None = crd_default(False)
    """Recreate objects whose immutable fields changed."""
    health_check_exprs: list[CustomHealthCheck] | None = None
    """CEL health checks for custom resources (used with wait or healthChecks)."""
    health_checks: list[NamespacedObjectKindReference] | None = None
    """Objects whose health is checked after apply."""
    ignore: list[IgnoreRule] | None = None
    """Fields excluded from drift detection and apply."""
    ignore_missing_components: bool | None = None
    """Drop components that are not found instead of failing."""
    images: list[Image] | None = None
    """Image name/tag/digest overrides."""
    interval: Duration
    """How often to reconcile."""
    kube_config: KubeConfigReference | None = None
    """Apply to a remote cluster."""
    name_prefix: Annotated[str, bounded(1, 200)] | None = None
    """Prefix added to the names of all objects."""
    name_suffix: Annotated[str, bounded(1, 200)] | None = None
    """Suffix added to the names of all objects."""
    patches: list[Patch] | None = None
    """Strategic-merge or JSON 6902 patches."""
    path: str | None = None
    """Directory in the artifact to build; the root when empty."""
    post_build: PostBuild | None = None
    """Variable substitution on the built manifests."""
    prune: bool
    """Delete objects that are no longer in the build output."""
    retry_interval: Duration | None = None
    """How soon to retry after a failure; ``interval`` when empty."""
    service_account_name: str | None = None
    """ServiceAccount to impersonate when applying."""
    source_ref: CrossNamespaceSourceReference
    """The source to build from."""
    suspend: bool | None = None
    """Stop reconciling this object."""
    target_namespace: Annotated[str, bounded(1, 63)] | None = None
    """Namespace set on all namespaced objects."""
    timeout: Duration | None = None
    """Timeout of build, apply and health checks (``interval`` - 30s, at least 30s)."""
    wait: bool | None = None
    """Check the health of all applied objects (ignores healthChecks)."""


class KustomizationStatus(ReconcileStatus):
    """Observed state of a Kustomization."""

    last_applied_revision: str | None = None
    """Source revision last applied successfully."""
    last_applied_origin_revision: str | None = None
    """Origin revision (e.g. OCI ``org.opencontainers.image.revision``) last applied."""
    last_attempted_revision: str | None = None
    """Source revision of the last attempt."""
    inventory: ResourceInventory | None = None
    """Objects applied by the last successful reconciliation."""
    history: list[HistorySnapshot] | None = None
    """The last reconciled states, newest first."""


class Kustomization(FluxObject):
    """A kustomize overlay from a source, applied with server-side apply and pruned."""

    api_version: Literal["kustomize.toolkit.fluxcd.io/v1"] = "kustomize.toolkit.fluxcd.io/v1"
    kind: Literal["Kustomization"] = "Kustomization"
    spec: KustomizationSpec
    """Desired state."""
    status: KustomizationStatus | None = status_field()
    """Observed state."""
