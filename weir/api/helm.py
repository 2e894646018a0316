"""``helm.toolkit.fluxcd.io/v2`` HelmRelease: install and upgrade a Helm chart."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from weir.api.base import (
    ApiModel,
    CelRule,
    Duration,
    Int64,
    JSONObject,
    Timestamp,
    bounded,
    crd_default,
    has,
)
from weir.api.meta import (
    CommonMetadata,
    CustomHealthCheck,
    DependencyReference,
    IgnoreRule,
    Image,
    KubeConfigReference,
    LocalObjectReference,
    Name253,
    Namespace63,
    Patch,
    ReconcileStatus,
    ResourceInventory,
    ValuesReference,
    status_field,
)
from weir.api.object import FluxObject

GROUP = "helm.toolkit.fluxcd.io"
API_VERSION = f"{GROUP}/v2"

CRDsPolicy = Literal["Skip", "Create", "CreateReplace"]
ServerSideApplyMode = Literal["enabled", "disabled", "auto"]


# ----------------------------------------------------------------------------- chart
class CrossNamespaceObjectReference(ApiModel):
    """The source of a chart template: a HelmRepository, GitRepository or Bucket."""

    api_version: str | None = None
    """API version of the referent."""
    kind: Literal["HelmRepository", "GitRepository", "Bucket"]
    """Kind of the referent."""
    name: Name253
    """Name of the referent."""
    namespace: Namespace63 | None = None
    """Namespace of the referent; the HelmRelease's namespace when empty."""


class HelmChartRef(ApiModel):
    """An existing chart artifact: an OCIRepository, HelmChart or ExternalArtifact."""

    api_version: str | None = None
    """API version of the referent."""
    kind: Literal["OCIRepository", "HelmChart", "ExternalArtifact"]
    """Kind of the referent."""
    name: Name253
    """Name of the referent."""
    namespace: Namespace63 | None = None
    """Namespace of the referent; the HelmRelease's namespace when empty."""


class HelmChartTemplateVerification(ApiModel):
    """Signature verification of an OCI chart."""

    provider: Literal["cosign", "notation"] | None = crd_default("cosign")
    """Signing technology."""
    secret_ref: LocalObjectReference | None = None
    """Secret with the trusted public keys."""


class HelmChartTemplateSpec(ApiModel):
    """The HelmChart the controller creates for this release."""

    chart: Annotated[str, bounded(1, 2048)]
    """Chart name (HelmRepository) or path (GitRepository, Bucket)."""
    version: str | None = crd_default("*")
    """SemVer range of chart versions (HelmRepository only)."""
    source_ref: CrossNamespaceObjectReference
    """Where the chart comes from."""
    interval: Duration | None = None
    """How often to check the source; the release's interval when empty."""
    reconcile_strategy: Literal["ChartVersion", "Revision"] | None = crd_default("ChartVersion")
    """What makes a new chart artifact."""
    values_files: list[str] | None = None
    """Values files, merged in order, that replace the chart's values.yaml."""
    ignore_missing_values_files: bool | None = None
    """Skip missing values files instead of failing."""
    verify: HelmChartTemplateVerification | None = None
    """Signature verification (OCI sources only)."""


class HelmChartTemplateObjectMeta(ApiModel):
    """Labels and annotations of the generated HelmChart."""

    labels: dict[str, str] | None = None
    """Labels of the HelmChart."""
    annotations: dict[str, str] | None = None
    """Annotations of the HelmChart."""


class HelmChartTemplate(ApiModel):
    """Template of the HelmChart generated for this release."""

    metadata: HelmChartTemplateObjectMeta | None = None
    """Labels and annotations of the HelmChart."""
    spec: HelmChartTemplateSpec
    """Spec of the HelmChart."""


# ----------------------------------------------------------------------------- actions
class ActionStrategy(ApiModel):
    """What to do when an install or upgrade fails."""

    cel_rules = (
        CelRule(
            rule="!has(self.retryInterval) || self.name != 'RemediateOnFailure'",
            message=".retryInterval cannot be set when .name is 'RemediateOnFailure'",
            check=lambda s: not has(s.retry_interval) or s.name != "RemediateOnFailure",
        ),
    )

    name: Literal["RemediateOnFailure", "RetryOnFailure"]
    """``RemediateOnFailure`` (remediation settings apply) or ``RetryOnFailure``."""
    retry_interval: Duration | None = None
    """Interval between retries (``RetryOnFailure`` only; 5m when empty)."""


class InstallRemediation(ApiModel):
    """Remediation of failed installs (uninstall between attempts)."""

    ignore_test_failures: bool | None = None
    """Do not remediate failed tests; test.ignoreFailures when empty."""
    remediate_last_failure: bool | None = None
    """Remediate the last failure too, when no retries remain."""
    retries: int | None = None
    """Retries before giving up; negative means unlimited."""


class UpgradeRemediation(ApiModel):
    """Remediation of failed upgrades."""

    ignore_test_failures: bool | None = None
    """Do not remediate failed tests; test.ignoreFailures when empty."""
    remediate_last_failure: bool | None = None
    """Remediate the last failure too, when no retries remain (default: retries > 0)."""
    retries: int | None = None
    """Retries before giving up; negative means unlimited."""
    strategy: Literal["rollback", "uninstall"] | None = None
    """How to remediate; ``rollback`` when empty."""


class Install(ApiModel):
    """Settings of Helm install actions."""

    crds: CRDsPolicy | None = None
    """CRDs in the chart's crds/ directory: ``Create`` (default), ``CreateReplace`` or
    ``Skip``."""
    create_namespace: bool | None = None
    """Create the target namespace if missing."""
    disable_hooks: bool | None = None
    """Do not run hooks."""
    disable_open_api_validation: bool | None = Field(default=None, alias="disableOpenAPIValidation")
    """Do not validate rendered manifests against the OpenAPI schema."""
    disable_schema_validation: bool | None = None
    """Do not validate values against the chart's JSON schema."""
    disable_take_ownership: bool | None = None
    """Do not take ownership of existing resources."""
    disable_wait: bool | None = None
    """Do not wait for resources to be ready."""
    disable_wait_for_jobs: bool | None = None
    """Do not wait for Jobs to complete."""
    remediation: InstallRemediation | None = None
    """Remediation of failures."""
    replace: bool | None = None
    """Reuse the name of a deleted release kept in history."""
    server_side_apply: bool | None = None
    """Use server-side apply (default true; false with UseHelm3Defaults)."""
    skip_crds: bool | None = Field(default=None, alias="skipCRDs")
    """Deprecated: use ``crds: Skip``."""
    strategy: ActionStrategy | None = None
    """What to do on failure; ``RemediateOnFailure`` when empty."""
    timeout: Duration | None = None
    """Timeout of each Kubernetes operation; the release timeout when empty."""


class Upgrade(ApiModel):
    """Settings of Helm upgrade actions."""

    chart_name_change_strategy: Literal["InPlaceUpdate", "Reinstall"] | None = None
    """When the chart name changes: ``Reinstall`` (default) or ``InPlaceUpdate``."""
    cleanup_on_fail: bool | None = None
    """Delete resources created by a failed upgrade."""
    crds: CRDsPolicy | None = None
    """CRDs in the chart's crds/ directory: ``Skip`` (default), ``Create``, ``CreateReplace``."""
    disable_hooks: bool | None = None
    """Do not run hooks."""
    disable_open_api_validation: bool | None = Field(default=None, alias="disableOpenAPIValidation")
    """Do not validate rendered manifests against the OpenAPI schema."""
    disable_schema_validation: bool | None = None
    """Do not validate values against the chart's JSON schema."""
    disable_take_ownership: bool | None = None
    """Do not take ownership of existing resources."""
    disable_wait: bool | None = None
    """Do not wait for resources to be ready."""
    disable_wait_for_jobs: bool | None = None
    """Do not wait for Jobs to complete."""
    force: bool | None = None
    """Replace resources instead of patching (client-side apply only)."""
    preserve_values: bool | None = None
    """Reuse the previous release's values (not declarative)."""
    remediation: UpgradeRemediation | None = None
    """Remediation of failures."""
    server_side_apply: ServerSideApplyMode | None = None
    """``enabled``, ``disabled`` or ``auto`` (default: as the previous release)."""
    strategy: ActionStrategy | None = None
    """What to do on failure; ``RemediateOnFailure`` when empty."""
    timeout: Duration | None = None
    """Timeout of each Kubernetes operation; the release timeout when empty."""


class Filter(ApiModel):
    """A Helm test to run or to skip."""

    name: Name253
    """Name of the test."""
    exclude: bool | None = None
    """Skip this test instead of selecting it."""


class HelmTest(ApiModel):
    """Settings of Helm test actions."""

    enable: bool | None = None
    """Run the chart's tests after install and upgrade."""
    filters: list[Filter] | None = None
    """Tests to run or exclude."""
    ignore_failures: bool | None = None
    """Do not remediate failed tests."""
    timeout: Duration | None = None
    """Timeout of each Kubernetes operation; the release timeout when empty."""


class Rollback(ApiModel):
    """Settings of Helm rollback actions."""

    cleanup_on_fail: bool | None = None
    """Delete resources created by a failed rollback."""
    disable_hooks: bool | None = None
    """Do not run hooks."""
    disable_wait: bool | None = None
    """Do not wait for resources to be ready."""
    disable_wait_for_jobs: bool | None = None
    """Do not wait for Jobs to complete."""
    force: bool | None = None
    """Replace resources instead of patching (client-side apply only)."""
    recreate: bool | None = None
    """Deprecated, no effect with Helm 4."""
    server_side_apply: ServerSideApplyMode | None = None
    """``enabled``, ``disabled`` or ``auto`` (default: as the release being rolled back to)."""
    timeout: Duration | None = None
    """Timeout of each Kubernetes operation; the release timeout when empty."""


class Uninstall(ApiModel):
    """Settings of Helm uninstall actions."""

    deletion_propagation: Literal["background", "foreground", "orphan"] | None = crd_default(
        "background"
    )
    """Deletion propagation policy."""
    disable_hooks: bool | None = None
    """Do not run hooks."""
    disable_wait: bool | None = None
    """Do not wait for resources to be deleted."""
    keep_history: bool | None = None
    """Keep the release history (marked deleted)."""
    timeout: Duration | None = None
    """Timeout of each Kubernetes operation; the release timeout when empty."""


class DriftDetection(ApiModel):
    """Detection (and correction) of changes made to the release's objects in the cluster."""

    ignore: list[IgnoreRule] | None = None
    """Fields excluded from drift detection."""
    mode: Literal["enabled", "warn", "disabled"] | None = None
    """``enabled`` (correct drift), ``warn`` (report only) or ``disabled`` (default)."""


class Kustomize(ApiModel):
    """A kustomize post-renderer."""

    patches: list[Patch] | None = None
    """Strategic-merge or JSON 6902 patches."""
    images: list[Image] | None = None
    """Image name/tag/digest overrides."""


class PostRenderer(ApiModel):
    """A post-renderer applied to the rendered manifests."""

    kustomize: Kustomize | None = None
    """Kustomize patches and image overrides."""


class WaitStrategy(ApiModel):
    """How Helm waits for resources to be ready."""

    name: Literal["poller", "legacy"]
    """``poller`` (kstatus, default) or ``legacy`` (Helm 3 logic)."""


# ----------------------------------------------------------------------------- spec
class HelmReleaseSpec(ApiModel):
    """The chart, its values, and how to install, upgrade, test, roll back and uninstall it."""

    cel_rules = (
        CelRule(
            rule="(has(self.chart) && !has(self.chartRef)) || "
            "(!has(self.chart) && has(self.chartRef))",
            message="either chart or chartRef must be set",
            check=lambda s: has(s.chart) != has(s.chart_ref),
        ),
    )

    chart: HelmChartTemplate | None = None
    """Template of the HelmChart to create; excludes chartRef."""
    chart_ref: HelmChartRef | None = None
    """An existing chart artifact; excludes chart."""
    common_metadata: CommonMetadata | None = None
    """Labels and annotations added to every rendered object."""
    depends_on: list[DependencyReference] | None = None
    """HelmReleases that must be ready first."""
    drift_detection: DriftDetection | None = None
    """Drift detection and correction."""
    health_check_exprs: list[CustomHealthCheck] | None = None
    """CEL health checks for custom resources (poller wait strategy)."""
    install: Install | None = None
    """Install settings."""
    interval: Duration
    """How often to reconcile."""
    kube_config: KubeConfigReference | None = None
    """Install into a remote cluster."""
    max_history: int | None = None
    """Release revisions Helm keeps (5 when empty, 0 for unlimited)."""
    persistent_client: bool | None = None
    """Reuse one Kubernetes client per reconciliation (default true)."""
    post_render_strategy: Literal["nohooks", "combined", "separate"] | None = None
    """How hooks reach post-renderers (default ``combined``)."""
    post_renderers: list[PostRenderer] | None = None
    """Post-renderers, applied in order."""
    release_name: Annotated[str, bounded(1, 53)] | None = None
    """Helm release name; ``[targetNamespace-]name`` when empty."""
    rollback: Rollback | None = None
    """Rollback settings."""
    service_account_name: Name253 | None = None
    """ServiceAccount to impersonate."""
    storage_namespace: Namespace63 | None = None
    """Namespace of the Helm storage; the HelmRelease's namespace when empty."""
    suspend: bool | None = None
    """Stop reconciling this object."""
    target_namespace: Namespace63 | None = None
    """Namespace to install into; the HelmRelease's namespace when empty."""
    test: HelmTest | None = None
    """Test settings."""
    timeout: Duration | None = None
    """Timeout of each Kubernetes operation (5m when empty)."""
    uninstall: Uninstall | None = None
    """Uninstall settings."""
    upgrade: Upgrade | None = None
    """Upgrade settings."""
    values: JSONObject | None = None
    """Values for the chart (free-form)."""
    values_from: list[ValuesReference] | None = None
    """ConfigMaps and Secrets with values, merged in order before ``values``."""
    wait_strategy: WaitStrategy | None = None
    """How to wait for resources to be ready."""


# ----------------------------------------------------------------------------- status
class HelmTestHookStatus(ApiModel):
    """What the controller observed of one test hook."""

    last_started: Timestamp | None = None
    """When the test last started."""
    last_completed: Timestamp | None = None
    """When the test last completed."""
    phase: str | None = None
    """Phase of the test."""


class Snapshot(ApiModel):
    """One Helm release revision as the controller recorded it."""

    action: str | None = None
    """Action that produced this revision (``install``, ``upgrade``)."""
    api_version: str | None = None
    """Version of the snapshot format."""
    app_version: str | None = None
    """Chart appVersion."""
    chart_name: str
    """Chart name."""
    chart_version: str
    """Chart version."""
    config_digest: str
    """Digest of the values, ``<algo>:<checksum>``."""
    deleted: Timestamp | None = None
    """When the revision was deleted."""
    digest: str
    """Digest of the release object in storage, ``<algo>:<checksum>``."""
    first_deployed: Timestamp
    """When the release was first deployed."""
    last_deployed: Timestamp
    """When this revision was deployed."""
    name: str
    """Release name."""
    namespace: str
    """Release namespace."""
    oci_digest: str | None = None
    """Digest of the OCI chart artifact."""
    status: str
    """Helm status: ``deployed``, ``superseded``, ``failed``, ..."""
    test_hooks: dict[str, HelmTestHookStatus] | None = None
    """Test hooks observed to run for this revision."""
    version: int
    """Release revision number."""


class HelmReleaseStatus(ReconcileStatus):
    """Observed state of a HelmRelease."""

    observed_post_renderers_digest: str | None = None
    """Digest of the post-renderers last applied."""
    observed_common_metadata_digest: str | None = None
    """Digest of the commonMetadata last applied."""
    last_attempted_generation: Int64 | None = None
    """Generation of the last attempt."""
    helm_chart: str | None = None
    """``<namespace>/<name>`` of the generated HelmChart."""
    storage_namespace: Namespace63 | None = None
    """Namespace of the Helm storage of the current release."""
    history: list[Snapshot] | None = None
    """Release revisions, newest first, down to the last successful one."""
    last_attempted_release_action: Literal["install", "upgrade"] | None = None
    """Last release action performed."""
    last_attempted_release_action_duration: str | None = None
    """How long the last release action took."""
    failures: Int64 | None = None
    """Reconciliation failures for the current desired state."""
    install_failures: Int64 | None = None
    """Install failures for the current desired state."""
    upgrade_failures: Int64 | None = None
    """Upgrade failures for the current desired state."""
    last_attempted_revision: str | None = None
    """Chart revision of the last attempt (``<version>+<digest[:12]>`` for OCI)."""
    last_attempted_revision_digest: str | None = None
    """Artifact digest of the last attempt (OCI sources)."""
    last_attempted_values_checksum: str | None = None
    """Deprecated: SHA1 of the values of the last attempt."""
    last_release_revision: int | None = None
    """Deprecated: revision of the last successful release."""
    last_attempted_config_digest: str | None = None
    """Digest of the values of the last attempt."""
    last_handled_force_at: str | None = None
    """The last ``reconcile.fluxcd.io/forceAt`` value handled."""
    last_handled_reset_at: str | None = None
    """The last ``reconcile.fluxcd.io/resetAt`` value handled."""
    inventory: ResourceInventory | None = None
    """Objects of the release (including CRDs, excluding hooks)."""


class HelmRelease(FluxObject):
    """A Helm release of a chart, installed, upgraded, tested and remediated by the
    controller."""

    api_version: Literal["helm.toolkit.fluxcd.io/v2"] = "helm.toolkit.fluxcd.io/v2"
    kind: Literal["HelmRelease"] = "HelmRelease"
    spec: HelmReleaseSpec
    """Desired state."""
    status: HelmReleaseStatus | None = status_field()
    """Observed state."""
