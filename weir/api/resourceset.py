"""``fluxcd.controlplane.io/v1`` ResourceSet and ResourceSetInputProvider: the Flux Operator's
kinds that generate objects from templates and the inputs those templates are rendered with.

The fields follow the Flux Operator's v1 API (``api/v1/resourceset_types.go``,
``resourcesetinputprovider_types.go``, ``schedule_types.go``); rendering lives in
:mod:`weir.operator.resourceset`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, WithJsonSchema

from weir.api.base import ApiModel, CelRule, Duration, Timestamp, crd_default, has
from weir.api.meta import (
    CommonMetadata,
    HistorySnapshot,
    LocalObjectReference,
    ReconcileStatus,
    ResourceInventory,
    status_field,
)
from weir.api.object import FluxObject

GROUP = "fluxcd.controlplane.io"
API_VERSION = f"{GROUP}/v1"

JSONObject = Annotated[
    dict[str, Any],
    WithJsonSchema({"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
]
"""A free-form JSON object (an input set, a templated resource): typed ``object`` so that
CEL rules can see the fields that hold them."""

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
MAX_STEPS = 20


# --------------------------------------------------------------------------------- selectors
class LabelSelectorRequirement(ApiModel):
    """One ``matchExpressions`` entry of a label selector."""

    key: str
    """Label key the selector applies to."""
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    """How the key relates to the values."""
    values: list[str] | None = None
    """Values for ``In``/``NotIn`` (empty for ``Exists``/``DoesNotExist``)."""


class LabelSelector(ApiModel):
    """A Kubernetes label selector (``matchLabels`` and ``matchExpressions``, ANDed)."""

    match_labels: dict[str, str] | None = None
    """Labels an object must all have."""
    match_expressions: list[LabelSelectorRequirement] | None = None
    """Requirements an object must all meet."""


# --------------------------------------------------------------------------------- ResourceSet
class InputProviderReference(ApiModel):
    """ResourceSetInputProviders in the ResourceSet's namespace, by name or by labels."""

    cel_rules = (
        CelRule(
            rule="has(self.name) != has(self.selector)",
            message="exactly one of name or selector must be set",
            check=lambda s: has(s.name) != has(s.selector),
        ),
    )

    api_version: Literal["fluxcd.controlplane.io/v1"] | None = None
    """API version of the providers; the ResourceSet's when empty."""
    kind: Literal["ResourceSetInputProvider"] | None = None
    """Kind of the providers."""
    name: str | None = None
    """Name of one provider (excludes ``selector``)."""
    selector: LabelSelector | None = None
    """Labels of the providers (excludes ``name``)."""


class InputStrategy(ApiModel):
    """How the inputs of the ResourceSet and of its providers are combined."""

    name: Literal["Flatten", "Permute"]
    """``Flatten``: the input sets one after the other; ``Permute``: their Cartesian product,
    each source's set under its normalized name (at most 10000 permutations)."""
    include_empty_providers: bool | None = None
    """Permute only: a provider without inputs yields no permutations instead of being
    skipped."""


class Dependency(ApiModel):
    """An object that must exist (and, with ``ready``, be ready) before reconciling."""

    api_version: str
    """API version of the object."""
    kind: str
    """Kind of the object."""
    name: str
    """Name of the object."""
    namespace: str | None = None
    """Namespace of the object; the ResourceSet's when empty."""
    ready: bool | None = None
    """Require the object's ``Ready`` condition to be ``True``."""
    ready_expr: str | None = None
    """CEL expression over the object that replaces the ``Ready`` check (with ``ready``)."""


class ResourceSetStep(ApiModel):
    """One stage of an ordered apply: its objects are applied and healthy before the next."""

    cel_rules = (
        CelRule(
            rule="has(self.resources) || has(self.resourcesTemplate)",
            message="at least one of resources or resourcesTemplate must be set",
            check=lambda s: bool(s.resources) or bool(s.resources_template),
        ),
    )

    name: Annotated[str, StringConstraints(max_length=63, pattern=DNS_LABEL)]
    """Name of the step (a DNS label, unique in the ResourceSet)."""
    resources: list[JSONObject] | None = None
    """Templated objects of this step."""
    resources_template: str | None = None
    """Multi-document YAML template of this step's objects."""
    timeout: Duration | None = None
    """Health-check timeout of this step; the ResourceSet's when empty."""


class ResourceSetSpec(ApiModel):
    """The inputs, the templates and how the generated objects are applied."""

    cel_rules = (
        CelRule(
            rule="!has(self.steps) || (!has(self.resources) && !has(self.resourcesTemplate))",
            message="steps is mutually exclusive with resources and resourcesTemplate",
            check=lambda s: not s.steps or (not s.resources and not s.resources_template),
        ),
    )

    common_metadata: CommonMetadata | None = None
    """Labels and annotations set on every generated object (overriding theirs)."""
    inputs: list[JSONObject] | None = None
    """Input sets given in line: maps of arbitrary values (``<< inputs.tenant >>``)."""
    inputs_from: list[InputProviderReference] | None = None
    """ResourceSetInputProviders whose exported inputs are added."""
    input_strategy: InputStrategy | None = None
    """How the input sets are combined; ``Flatten`` when empty."""
    resources: list[JSONObject] | None = None
    """Templated objects, rendered once per input set."""
    resources_template: str | None = None
    """A multi-document YAML template rendered once per input set; with ``resources``, the
    objects of ``resources`` win on duplicates."""
    steps: Annotated[list[ResourceSetStep], Field(max_length=MAX_STEPS)] | None = None
    """Ordered stages (excludes ``resources`` and ``resourcesTemplate``)."""
    depends_on: list[Dependency] | None = None
    """Objects that must exist or be ready first."""
    service_account_name: str | None = None
    """ServiceAccount impersonated to apply the objects."""
    wait: bool | None = None
    """Wait for the applied objects to be healthy."""


class ResourceSetStatus(ReconcileStatus):
    """Observed state of a ResourceSet."""

    inventory: ResourceInventory | None = None
    """Objects applied by the last successful reconciliation."""
    last_applied_revision: str | None = None
    """Digest of the objects last applied."""
    external_checksum_refs: list[JSONObject] | None = None
    """Objects named by ``checksumFrom`` annotations, whose content is watched."""
    history: list[HistorySnapshot] | None = None
    """The last reconciled states, newest first (at most 5)."""


class ResourceSet(FluxObject):
    """A group of objects generated from templates and a matrix of inputs."""

    api_version: Literal["fluxcd.controlplane.io/v1"] = "fluxcd.controlplane.io/v1"
    kind: Literal["ResourceSet"] = "ResourceSet"
    spec: ResourceSetSpec
    """Desired state."""
    status: ResourceSetStatus | None = status_field()
    """Observed state."""


# --------------------------------------------------------------------------------- providers
ProviderType = Literal[
    "Static",
    "GitHubPullRequest",
    "GitHubBranch",
    "GitHubTag",
    "GitLabMergeRequest",
    "GitLabBranch",
    "GitLabTag",
    "GitLabEnvironment",
    "AzureDevOpsPullRequest",
    "AzureDevOpsBranch",
    "AzureDevOpsTag",
    "GiteaPullRequest",
    "GiteaBranch",
    "GiteaTag",
    "AWSCodeCommitPullRequest",
    "AWSCodeCommitBranch",
    "AWSCodeCommitTag",
    "OCIArtifactTag",
    "ACRArtifactTag",
    "ECRArtifactTag",
    "GARArtifactTag",
    "ExternalService",
    "ExternalArtifact",
]
WITHOUT_URL = ("Static", "ExternalArtifact")


class ProviderFilter(ApiModel):
    """Which change requests, branches, tags or environments are exported."""

    limit: Annotated[int, Field(ge=1, le=10000)] | None = crd_default(100)
    """Most input sets exported."""
    labels: list[str] | None = None
    """Change requests must have all these labels."""
    include_branch: str | None = None
    """Regular expression branches must match."""
    exclude_branch: str | None = None
    """Regular expression branches must not match."""
    include_tag: str | None = None
    """Regular expression tags must match."""
    exclude_tag: str | None = None
    """Regular expression tags must not match."""
    include_environment: str | None = None
    """Regular expression GitLab environments must match."""
    exclude_environment: str | None = None
    """Regular expression GitLab environments must not match."""
    semver: str | None = None
    """SemVer range tags must satisfy (the highest first)."""


class ProviderSkip(ApiModel):
    """When to leave the exported inputs as they are."""

    labels: list[str] | None = None
    """Skip the update while a change request has one of these labels (``!label``: while it
    does not have it)."""


class Schedule(ApiModel):
    """A deployment window: when the provider may change its exported inputs."""

    cron: str
    """Cron expression (5 fields, or a descriptor such as ``@daily``)."""
    time_zone: str | None = crd_default("UTC")
    """IANA time zone of the cron expression."""
    window: Duration | None = crd_default("0s")
    """How long the window stays open; ``0s``: a single run at the cron time."""


class NextSchedule(Schedule):
    """The next window and when it opens."""

    when: Timestamp
    """When the next window opens."""


class ArtifactSelector(ApiModel):
    """ExternalArtifact objects selected by name, namespace and labels."""

    match_labels: dict[str, str] | None = None
    """Labels the objects must all have."""
    match_expressions: list[LabelSelectorRequirement] | None = None
    """Requirements the objects must all meet."""
    name: str | None = None
    """Name of the objects (``*`` for any)."""
    namespace: str | None = None
    """Namespace of the objects (``*`` for any); the provider's when empty."""


class ResourceSetInputProviderSpec(ApiModel):
    """Where the inputs come from and which are exported."""

    cel_rules = (
        CelRule(
            rule="(self.type == 'Static' || self.type == 'ExternalArtifact') != has(self.url)",
            message="url must be set, except for the Static and ExternalArtifact types "
            "where it must be empty",
            check=lambda s: (s.type in WITHOUT_URL) != has(s.url),
        ),
        CelRule(
            rule="!has(self.insecure) || !self.insecure || self.type == 'ExternalService' "
            "|| self.type == 'OCIArtifactTag'",
            message="insecure can only be set for the ExternalService and OCIArtifactTag types",
            check=lambda s: not s.insecure or s.type in ("ExternalService", "OCIArtifactTag"),
        ),
    )

    type: ProviderType
    """The kind of source: a forge's change requests, branches or tags, an OCI repository's
    tags, an HTTP service, ExternalArtifact objects, or ``Static`` (only defaultValues)."""
    url: str | None = None
    """Address of the repository or service (empty for Static and ExternalArtifact)."""
    secret_ref: LocalObjectReference | None = None
    """Credentials: ``username``/``password``, a token, GitHub App keys or a dockerconfig."""
    cert_secret_ref: LocalObjectReference | None = None
    """TLS material: ``ca.crt``, ``tls.crt``/``tls.key``."""
    service_account_name: str | None = None
    """ServiceAccount for workload identity (Azure DevOps, AWS, registries) or
    impersonation (ExternalArtifact)."""
    insecure: bool | None = None
    """Plain HTTP (ExternalService and OCIArtifactTag only)."""
    default_values: JSONObject | None = None
    """Values merged into every exported input set."""
    filter: ProviderFilter | None = None
    """Which items are exported."""
    skip: ProviderSkip | None = None
    """When the exported inputs are left unchanged."""
    schedule: list[Schedule] | None = None
    """Deployment windows; inputs change only inside one."""
    selectors: list[ArtifactSelector] | None = None
    """ExternalArtifact objects to export (ExternalArtifact type only)."""


class ResourceSetInputProviderStatus(ReconcileStatus):
    """Observed state of a ResourceSetInputProvider."""

    exported_inputs: list[JSONObject] | None = None
    """The input sets, each with a stable ``id``."""
    last_exported_revision: str | None = None
    """Digest of the exported inputs."""
    next_schedule: NextSchedule | None = None
    """The next deployment window (absent while one is open)."""


class ResourceSetInputProvider(FluxObject):
    """Inputs for ResourceSets, fetched from a forge, a registry, a service or given."""

    api_version: Literal["fluxcd.controlplane.io/v1"] = "fluxcd.controlplane.io/v1"
    kind: Literal["ResourceSetInputProvider"] = "ResourceSetInputProvider"
    spec: ResourceSetInputProviderSpec
    """Desired state."""
    status: ResourceSetInputProviderStatus | None = status_field()
    """Observed state."""


def inputs_of(obj: ResourceSet | ResourceSetInputProvider) -> list[dict[str, Any]]:
    """The raw input sets of an object: a ResourceSet's ``spec.inputs``, a provider's
    ``status.exportedInputs`` (copies)."""
    import copy  # noqa: PLC0415

    if isinstance(obj, ResourceSet):
        return copy.deepcopy(list(obj.spec.inputs or []))
    return copy.deepcopy(list(obj.status.exported_inputs or []) if obj.status else [])
