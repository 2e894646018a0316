"""``source.toolkit.fluxcd.io/v1``: GitRepository, OCIRepository, HelmRepository, HelmChart,
Bucket and ExternalArtifact — where artifacts come from."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from weir.api.base import (
    ApiModel,
    CelRule,
    Duration,
    TimeoutDuration,
    crd_default,
    has,
)
from weir.api.meta import (
    AccessFrom,
    Artifact,
    Condition,
    LocalObjectReference,
    NamespacedObjectKindReference,
    ReconcileStatus,
    status_field,
)
from weir.api.object import FluxObject

GROUP = "source.toolkit.fluxcd.io"
API_VERSION = f"{GROUP}/v1"


# ----------------------------------------------------------------------------- GitRepository
class GitRepositoryRef(ApiModel):
    """The Git reference to check out (precedence: commit, name, semver, tag, branch)."""

    branch: str | None = None
    """Branch to check out; ``master`` when no other field is set."""
    tag: str | None = None
    """Tag to check out; takes precedence over branch."""
    semver: str | None = None
    """SemVer range of tags; the highest match is checked out. Takes precedence over tag."""
    name: str | None = None
    """Full reference name such as ``refs/heads/main`` or ``refs/pull/420/head``; takes
    precedence over branch, tag and semver."""
    commit: str | None = None
    """Commit SHA; takes precedence over everything, may be combined with branch."""


class GitRepositoryVerification(ApiModel):
    """Verification of commit or tag signatures (OpenPGP or SSH)."""

    mode: Literal["head", "HEAD", "Tag", "TagAndHEAD"] | None = crd_default("HEAD")
    """Which objects to verify; ``head`` is an alias of ``HEAD``."""
    secret_ref: LocalObjectReference
    """Secret with trusted public keys (``*.asc`` PGP, ``*.sshpub`` SSH)."""


class GitRepositoryInclude(ApiModel):
    """Another GitRepository's artifact copied into this one."""

    repository: LocalObjectReference
    """The GitRepository to include."""
    from_path: str | None = None
    """Path to copy from; the artifact root when empty."""
    to_path: str | None = None
    """Path to copy to; the included repository's name when empty."""


class GitRepositorySpec(ApiModel):
    """How to fetch a Git repository and produce an artifact from it."""

    cel_rules = (
        CelRule(
            rule="!has(self.serviceAccountName) || (has(self.provider) && "
            "(self.provider == 'azure' || self.provider == 'aws'))",
            message="serviceAccountName can only be set when provider is 'azure' or 'aws'",
            check=lambda s: not has(s.service_account_name) or s.provider in ("azure", "aws"),
        ),
    )

    url: Annotated[str, StringConstraints(pattern=r"^(http|https|ssh)://.*$")]
    """Repository URL: HTTP(S) or SSH."""
    secret_ref: LocalObjectReference | None = None
    """Credentials: ``username``/``password`` or ``bearerToken`` for HTTPS, ``identity`` and
    ``known_hosts`` for SSH, optional CA/mTLS keys."""
    provider: Literal["generic", "aws", "azure", "github"] | None = None
    """Authentication provider; ``generic`` (secretRef) when empty."""
    service_account_name: str | None = None
    """ServiceAccount for workload identity (``azure`` and ``aws`` providers only)."""
    interval: Duration
    """How often to check the repository for changes."""
    timeout: TimeoutDuration | None = crd_default("60s")
    """Timeout of Git operations."""
    ref: GitRepositoryRef | None = None
    """Reference to check out; branch ``master`` when empty."""
    verify: GitRepositoryVerification | None = None
    """Signature verification of the checked-out commit or tag."""
    proxy_secret_ref: LocalObjectReference | None = None
    """Secret with the proxy address and credentials."""
    ignore: str | None = None
    """``.sourceignore`` patterns that replace the default exclusions."""
    suspend: bool | None = None
    """Stop reconciling this object."""
    recurse_submodules: bool | None = None
    """Also clone submodules."""
    include: list[GitRepositoryInclude] | None = None
    """Other GitRepositories whose artifacts are copied into this one."""
    sparse_checkout: list[str] | None = None
    """Only check out these directories."""


class GitRepositoryStatus(ReconcileStatus):
    """Observed state of a GitRepository."""

    artifact: Artifact | None = None
    """The last artifact produced."""
    included_artifacts: list[Artifact] | None = None
    """Artifacts of the included repositories."""
    observed_ignore: str | None = None
    """Exclusion patterns used for the artifact."""
    observed_recurse_submodules: bool | None = None
    """Submodule setting used for the artifact."""
    observed_include: list[GitRepositoryInclude] | None = None
    """Includes used for the artifact."""
    observed_sparse_checkout: list[str] | None = None
    """Sparse checkout directories used for the artifact."""
    source_verification_mode: str | None = None
    """Verification mode last applied."""


class GitRepository(FluxObject):
    """A Git repository, turned into an artifact at each new revision."""

    api_version: Literal["source.toolkit.fluxcd.io/v1"] = "source.toolkit.fluxcd.io/v1"
    kind: Literal["GitRepository"] = "GitRepository"
    spec: GitRepositorySpec
    """Desired state."""
    status: GitRepositoryStatus | None = status_field()
    """Observed state."""


# ----------------------------------------------------------------------------- OCIRepository
class OCIRepositoryRef(ApiModel):
    """The OCI reference to pull (precedence: digest, semver, tag)."""

    digest: str | None = None
    """Digest to pull, ``sha256:<hex>``."""
    semver: str | None = None
    """SemVer range of tags; the highest match is pulled."""
    semver_filter: str | None = None
    """Regular expression filtering the tags considered by semver."""
    tag: str | None = None
    """Tag to pull; ``latest`` when no other field is set."""


class OCILayerSelector(ApiModel):
    """Which layer of the artifact to use, and how."""

    media_type: str | None = None
    """Media type of the layer; the first layer when empty."""
    operation: Literal["extract", "copy"] | None = None
    """``extract`` the layer (default) or ``copy`` it as is."""


class OIDCIdentityMatch(ApiModel):
    """Regular expressions matched against a keyless (Fulcio) certificate."""

    issuer: str
    """Regular expression for the OIDC issuer."""
    subject: str
    """Regular expression for the identity subject."""


class OCIRepositoryVerification(ApiModel):
    """Signature verification of OCI artifacts with cosign or notation."""

    provider: Literal["cosign", "notation"] | None = crd_default("cosign")
    """Signing technology."""
    secret_ref: LocalObjectReference | None = None
    """Secret with trusted public keys or certificates."""
    match_oidc_identity: list[OIDCIdentityMatch] | None = Field(
        default=None, alias="matchOIDCIdentity"
    )
    """Accepted keyless identities; any match verifies."""
    trusted_root_secret_ref: LocalObjectReference | None = None
    """Secret with a Sigstore ``trusted_root.json`` for self-hosted Sigstore."""


class OCIRepositorySpec(ApiModel):
    """How to pull an OCI artifact and produce an artifact from it."""

    url: Annotated[str, StringConstraints(pattern=r"^oci://.*$")]
    """Repository address, ``oci://registry/path``."""
    ref: OCIRepositoryRef | None = None
    """Reference to pull; tag ``latest`` when empty."""
    layer_selector: OCILayerSelector | None = None
    """Layer to use; the first one when empty."""
    provider: Literal["generic", "aws", "azure", "gcp"] | None = crd_default("generic")
    """Authentication provider."""
    secret_ref: LocalObjectReference | None = None
    """Registry credentials (``kubernetes.io/dockerconfigjson`` Secret)."""
    verify: OCIRepositoryVerification | None = None
    """Signature verification."""
    service_account_name: str | None = None
    """ServiceAccount whose image pull secrets are used."""
    cert_secret_ref: LocalObjectReference | None = None
    """Secret with ``ca.crt`` and/or ``tls.crt``/``tls.key``."""
    proxy_secret_ref: LocalObjectReference | None = None
    """Secret with the proxy address and credentials."""
    interval: Duration
    """How often to check the repository for changes."""
    timeout: TimeoutDuration | None = crd_default("60s")
    """Timeout of registry operations."""
    ignore: str | None = None
    """``.sourceignore`` patterns that replace the default exclusions."""
    insecure: bool | None = None
    """Allow a plain-HTTP registry."""
    suspend: bool | None = None
    """Stop reconciling this object."""


class OCIRepositoryStatus(ReconcileStatus):
    """Observed state of an OCIRepository."""

    url: str | None = None
    """Download address of the last artifact."""
    artifact: Artifact | None = None
    """The last artifact produced."""
    observed_ignore: str | None = None
    """Exclusion patterns used for the artifact."""
    observed_layer_selector: OCILayerSelector | None = None
    """Layer selector used for the artifact."""


class OCIRepository(FluxObject):
    """An OCI artifact, turned into an artifact at each new digest."""

    api_version: Literal["source.toolkit.fluxcd.io/v1"] = "source.toolkit.fluxcd.io/v1"
    kind: Literal["OCIRepository"] = "OCIRepository"
    spec: OCIRepositorySpec
    """Desired state."""
    status: OCIRepositoryStatus | None = status_field()
    """Observed state."""


# ----------------------------------------------------------------------------- HelmRepository
class HelmRepositorySpec(ApiModel):
    """A Helm repository: an HTTP(S) index, or (``type: oci``) an OCI registry prefix."""

    url: Annotated[str, StringConstraints(pattern=r"^(http|https|oci)://.*$")]
    """Repository address."""
    secret_ref: LocalObjectReference | None = None
    """Credentials (``username``/``password``)."""
    cert_secret_ref: LocalObjectReference | None = None
    """Secret with ``ca.crt`` and/or ``tls.crt``/``tls.key``."""
    pass_credentials: bool | None = None
    """Send the credentials to hosts other than the repository's."""
    interval: Duration | None = None
    """How often to fetch the index (1m when empty)."""
    insecure: bool | None = None
    """Allow a plain-HTTP registry (``type: oci`` only)."""
    timeout: TimeoutDuration | None = None
    """Timeout of index fetches and OCI pulls (60s when empty)."""
    suspend: bool | None = None
    """Stop reconciling this object."""
    access_from: AccessFrom | None = None
    """Cross-namespace access list (not enforced)."""
    type: Literal["default", "oci"] | None = None
    """``default`` (HTTP index) or ``oci``."""
    provider: Literal["generic", "aws", "azure", "gcp"] | None = crd_default("generic")
    """Authentication provider (``type: oci`` only)."""


class HelmRepositoryStatus(ReconcileStatus):
    """Observed state of a HelmRepository."""

    url: str | None = None
    """Download address of the last index artifact."""
    artifact: Artifact | None = None
    """The last index artifact."""


class HelmRepository(FluxObject):
    """A Helm chart repository."""

    api_version: Literal["source.toolkit.fluxcd.io/v1"] = "source.toolkit.fluxcd.io/v1"
    kind: Literal["HelmRepository"] = "HelmRepository"
    spec: HelmRepositorySpec
    """Desired state."""
    status: HelmRepositoryStatus | None = status_field()
    """Observed state."""


# ----------------------------------------------------------------------------- HelmChart
class LocalHelmChartSourceReference(ApiModel):
    """The source (same namespace) a chart comes from."""

    api_version: str | None = None
    """API version of the referent."""
    kind: Literal["HelmRepository", "GitRepository", "Bucket"]
    """Kind of the referent."""
    name: str
    """Name of the referent."""


class HelmChartSpec(ApiModel):
    """A chart from a HelmRepository, GitRepository or Bucket."""

    cel_rules = (
        CelRule(
            rule="!has(self.verify) || self.sourceRef.kind == 'HelmRepository'",
            message="spec.verify is only supported when spec.sourceRef.kind is 'HelmRepository'",
            check=lambda s: not has(s.verify) or s.source_ref.kind == "HelmRepository",
        ),
    )

    chart: str
    """Chart name (HelmRepository) or path (GitRepository, Bucket)."""
    version: str | None = crd_default("*")
    """SemVer range of chart versions (HelmRepository only)."""
    source_ref: LocalHelmChartSourceReference
    """Where the chart comes from."""
    interval: Duration
    """How often to check the source for a new chart."""
    reconcile_strategy: Literal["ChartVersion", "Revision"] | None = crd_default("ChartVersion")
    """What makes a new artifact: a new chart version, or any new source revision."""
    values_files: list[str] | None = None
    """Values files, merged in order, that replace the chart's values.yaml."""
    ignore_missing_values_files: bool | None = None
    """Skip missing values files instead of failing."""
    suspend: bool | None = None
    """Stop reconciling this object."""
    verify: OCIRepositoryVerification | None = None
    """Signature verification (OCI HelmRepository only)."""


class HelmChartStatus(ReconcileStatus):
    """Observed state of a HelmChart."""

    observed_source_artifact_revision: str | None = None
    """Revision of the source artifact last used."""
    observed_chart_name: str | None = None
    """Chart name last resolved."""
    observed_values_files: list[str] | None = None
    """Values files of the last artifact."""
    url: str | None = None
    """Download address of the last chart artifact."""
    artifact: Artifact | None = None
    """The last packaged chart."""


class HelmChart(FluxObject):
    """A Helm chart, packaged into an artifact (usually generated for a HelmRelease)."""

    api_version: Literal["source.toolkit.fluxcd.io/v1"] = "source.toolkit.fluxcd.io/v1"
    kind: Literal["HelmChart"] = "HelmChart"
    spec: HelmChartSpec
    """Desired state."""
    status: HelmChartStatus | None = status_field()
    """Observed state."""


# ----------------------------------------------------------------------------- Bucket
class BucketSTSSpec(ApiModel):
    """A Security Token Service that issues temporary bucket credentials."""

    provider: Literal["aws", "ldap"]
    """Kind of STS."""
    endpoint: Annotated[str, StringConstraints(pattern=r"^(http|https)://.*$")]
    """HTTP(S) address of the STS."""
    secret_ref: LocalObjectReference | None = None
    """``username``/``password`` for the ``ldap`` STS."""
    cert_secret_ref: LocalObjectReference | None = None
    """TLS material for the ``ldap`` STS."""


def _bucket_provider(spec: BucketSpec) -> str:
    return spec.provider or "generic"


class BucketSpec(ApiModel):
    """An object-storage bucket (S3-compatible, AWS, GCS or Azure Blob)."""

    cel_rules = (
        CelRule(
            rule="self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)",
            message="STS configuration is only supported for the 'aws' and 'generic' "
            "Bucket providers",
            check=lambda s: _bucket_provider(s) in ("aws", "generic") or not has(s.sts),
        ),
        CelRule(
            rule="self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'",
            message="'aws' is the only supported STS provider for the 'aws' Bucket provider",
            check=lambda s: (
                _bucket_provider(s) != "aws" or not has(s.sts) or s.sts.provider == "aws"
            ),
        ),
        CelRule(
            rule="self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'",
            message="'ldap' is the only supported STS provider for the 'generic' Bucket provider",
            check=lambda s: (
                _bucket_provider(s) != "generic" or not has(s.sts) or s.sts.provider == "ldap"
            ),
        ),
        CelRule(
            rule="!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)",
            message="spec.sts.secretRef is not required for the 'aws' STS provider",
            check=lambda s: not has(s.sts) or s.sts.provider != "aws" or not has(s.sts.secret_ref),
        ),
        CelRule(
            rule="!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)",
            message="spec.sts.certSecretRef is not required for the 'aws' STS provider",
            check=lambda s: (
                not has(s.sts) or s.sts.provider != "aws" or not has(s.sts.cert_secret_ref)
            ),
        ),
        CelRule(
            rule="self.provider != 'generic' || !has(self.serviceAccountName)",
            message="ServiceAccountName is not supported for the 'generic' Bucket provider",
            check=lambda s: _bucket_provider(s) != "generic" or not has(s.service_account_name),
        ),
        CelRule(
            rule="!has(self.secretRef) || !has(self.serviceAccountName)",
            message="cannot set both .spec.secretRef and .spec.serviceAccountName",
            check=lambda s: not has(s.secret_ref) or not has(s.service_account_name),
        ),
    )

    provider: Literal["generic", "aws", "gcp", "azure"] | None = crd_default("generic")
    """Storage provider; ``generic`` is any S3-compatible API."""
    bucket_name: str
    """Name of the bucket."""
    endpoint: str
    """Address of the storage service."""
    sts: BucketSTSSpec | None = None
    """Security Token Service for temporary credentials (``aws`` and ``generic`` only)."""
    insecure: bool | None = None
    """Allow a plain-HTTP endpoint."""
    region: str | None = None
    """Region of the bucket."""
    prefix: str | None = None
    """Only fetch objects with this prefix."""
    secret_ref: LocalObjectReference | None = None
    """Credentials of the bucket."""
    service_account_name: str | None = None
    """ServiceAccount for workload identity (``gcp``, ``aws``, ``azure``)."""
    cert_secret_ref: LocalObjectReference | None = None
    """Secret with ``ca.crt`` and/or ``tls.crt``/``tls.key`` (``generic`` only)."""
    proxy_secret_ref: LocalObjectReference | None = None
    """Secret with the proxy address and credentials."""
    interval: Duration
    """How often to check the bucket for changes."""
    timeout: TimeoutDuration | None = crd_default("60s")
    """Timeout of fetch operations."""
    ignore: str | None = None
    """``.sourceignore`` patterns that replace the default exclusions."""
    suspend: bool | None = None
    """Stop reconciling this object."""


class BucketStatus(ReconcileStatus):
    """Observed state of a Bucket."""

    url: str | None = None
    """Download address of the last artifact."""
    artifact: Artifact | None = None
    """The last artifact produced."""
    observed_ignore: str | None = None
    """Exclusion patterns used for the artifact."""


class Bucket(FluxObject):
    """An object-storage bucket, turned into an artifact at each change."""

    api_version: Literal["source.toolkit.fluxcd.io/v1"] = "source.toolkit.fluxcd.io/v1"
    kind: Literal["Bucket"] = "Bucket"
    spec: BucketSpec
    """Desired state."""
    status: BucketStatus | None = status_field()
    """Observed state."""


# ----------------------------------------------------------------------------- ExternalArtifact
class ExternalArtifactSpec(ApiModel):
    """Where an artifact produced outside the source controller comes from."""

    source_ref: NamespacedObjectKindReference | None = None
    """The object the artifact is generated for (an ArtifactGenerator, for example)."""


class ExternalArtifactStatus(ApiModel):
    """Observed state of an ExternalArtifact, written by the controller that produces it."""

    artifact: Artifact | None = None
    """The artifact consumers download."""
    conditions: list[Condition] | None = None
    """``Ready`` with ``Succeeded``, or False with ``FetchFailed``, ``StorageOperationFailed``
    or ``VerificationFailed``."""


class ExternalArtifact(FluxObject):
    """An artifact produced by another controller (Flux 2.7, RFC-0012), e.g. by an
    ArtifactGenerator; Kustomizations and HelmReleases consume it like any source."""

    api_version: Literal["source.toolkit.fluxcd.io/v1"] = "source.toolkit.fluxcd.io/v1"
    kind: Literal["ExternalArtifact"] = "ExternalArtifact"
    spec: ExternalArtifactSpec | None = None
    """Desired state."""
    status: ExternalArtifactStatus | None = None
    """Observed state."""
