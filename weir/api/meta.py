"""Building blocks shared by the Flux kinds: references, conditions, artifacts, inventory,
history, and the kustomize types (selector, patch, image) used by Kustomization and HelmRelease.

These mirror ``fluxcd/pkg/apis/meta`` and ``fluxcd/pkg/apis/kustomize`` on the wire.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from weir.api.base import ApiModel, CelRule, Int64, Timestamp, bounded, crd_default, has

CONDITION_TYPE_PATTERN = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$"
)
CONDITION_REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"
DIGEST_PATTERN = r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"
VALUES_KEY_PATTERN = r"^[\-._a-zA-Z0-9]+$"
TARGET_PATH_PATTERN = r"^([a-zA-Z0-9_\-.\\\/]|\[[0-9]{1,5}\])+$"

Name253 = Annotated[str, bounded(1, 253)]
Namespace63 = Annotated[str, bounded(1, 63)]


# --------------------------------------------------------------------------------- references
class LocalObjectReference(ApiModel):
    """A reference to an object in the same namespace."""

    name: str
    """Name of the referent."""


class SecretKeyReference(ApiModel):
    """A Secret in the same namespace and, optionally, one of its keys."""

    name: str
    """Name of the Secret."""
    key: str | None = None
    """Key in the Secret; when empty, an implementation-specific default key is used."""


class NamespacedObjectReference(ApiModel):
    """A reference to an object in any namespace."""

    name: str
    """Name of the referent."""
    namespace: str | None = None
    """Namespace of the referent; defaults to the namespace of the referring object."""


class NamespacedObjectKindReference(ApiModel):
    """A typed reference to an object in any namespace."""

    api_version: str | None = None
    """API version of the referent; the preferred version when empty."""
    kind: str
    """Kind of the referent."""
    name: str
    """Name of the referent."""
    namespace: str | None = None
    """Namespace of the referent; defaults to the namespace of the referring object."""


class DependencyReference(ApiModel):
    """Another object of the same kind that must be ready before this one is reconciled."""

    name: str
    """Name of the referent."""
    namespace: str | None = None
    """Namespace of the referent; defaults to the namespace of the referring object."""
    ready_expr: str | None = None
    """CEL expression (variables ``self`` and ``dep``) that replaces the built-in readiness
    check (adds to it with the ``AdditiveCELDependencyCheck`` feature gate)."""


class KubeConfigReference(ApiModel):
    """How to reach a remote cluster: a kubeconfig in a Secret, or a ConfigMap describing a
    cloud provider's cluster (keys ``provider``, ``cluster``, ``address``, ``ca.crt``,
    ``audiences``, ``serviceAccountName``)."""

    cel_rules = (
        CelRule(
            rule="has(self.secretRef) != has(self.configMapRef)",
            message="exactly one of secretRef or configMapRef must be set",
            check=lambda s: has(s.secret_ref) != has(s.config_map_ref),
        ),
    )

    config_map_ref: LocalObjectReference | None = None
    """ConfigMap describing the cluster for workload-identity access; excludes secretRef."""
    secret_ref: SecretKeyReference | None = None
    """Secret holding a kubeconfig under ``key`` (default ``value``); excludes configMapRef."""


class ValuesReference(ApiModel):
    """A ConfigMap or Secret holding Helm values, and where to merge them."""

    kind: Literal["Secret", "ConfigMap"]
    """Kind of the values referent."""
    name: Name253
    """Name of the values referent, in the namespace of the referring object."""
    values_key: (
        Annotated[str, StringConstraints(max_length=253, pattern=VALUES_KEY_PATTERN)] | None
    ) = None
    """Data key holding the values; ``values.yaml`` when empty."""
    target_path: (
        Annotated[str, StringConstraints(max_length=250, pattern=TARGET_PATH_PATTERN)] | None
    ) = None
    """Helm ``--set`` path at which to merge a single value; the root when empty."""
    optional: bool | None = None
    """Ignore a missing referent (other errors still fail the reconciliation)."""
    literal: bool | None = None
    """With targetPath, merge the value as ``--set-literal`` does (no ``--set`` parsing)."""


class NamespaceSelector(ApiModel):
    """Namespaces selected by labels."""

    match_labels: dict[str, str] | None = None
    """Labels a namespace must all have."""


class AccessFrom(ApiModel):
    """Namespaces allowed to refer to an object across namespaces (not enforced by Flux)."""

    namespace_selectors: list[NamespaceSelector]
    """Namespace selectors, ORed."""


# --------------------------------------------------------------------------------- kustomize
class Selector(ApiModel):
    """Objects selected by group/version/kind, name, namespace and label/annotation selectors."""

    group: str | None = None
    """API group of the objects."""
    version: str | None = None
    """API version of the objects."""
    kind: str | None = None
    """Kind of the objects."""
    namespace: str | None = None
    """Namespace of the objects (a regular expression)."""
    name: str | None = None
    """Name of the objects (a regular expression)."""
    annotation_selector: str | None = None
    """Label-selector expression matched against the annotations."""
    label_selector: str | None = None
    """Label-selector expression matched against the labels."""


class Patch(ApiModel):
    """An inline strategic-merge or JSON 6902 patch and the objects it applies to."""

    patch: str
    """The patch document (YAML or JSON)."""
    target: Selector | None = None
    """The objects the patch applies to; the patch's own identity when empty."""


class Image(ApiModel):
    """An image override: new name, tag or digest for an image name."""

    name: str
    """Image name without tag."""
    new_name: str | None = None
    """Name that replaces the original one."""
    new_tag: str | None = None
    """Tag that replaces the original one."""
    digest: str | None = None
    """Digest that replaces the original tag (newTag is then ignored)."""


class CustomHealthCheck(ApiModel):
    """CEL expressions that compute the health of a custom resource kind."""

    api_version: str
    """API version of the custom resource."""
    kind: str | None = None
    """Kind of the custom resource; all kinds of the group when empty."""
    current: str
    """CEL expression true when the resource reached its desired state."""
    in_progress: str | None = None
    """CEL expression true while the resource is still progressing."""
    failed: str | None = None
    """CEL expression true when the resource failed."""


class IgnoreRule(ApiModel):
    """JSON pointers left out of drift detection (and apply) for the selected objects."""

    paths: list[str]
    """JSON Pointer (RFC 6901) paths to ignore."""
    target: Selector | None = None
    """Objects the rule applies to; all objects when empty."""


class CommonMetadata(ApiModel):
    """Labels and annotations added to every applied object."""

    annotations: dict[str, str] | None = None
    """Annotations to add (override existing keys)."""
    labels: dict[str, str] | None = None
    """Labels to add (override existing keys)."""


# --------------------------------------------------------------------------------- status parts
class Condition(ApiModel):
    """One aspect of an object's state (``metav1.Condition``)."""

    type: Annotated[str, StringConstraints(max_length=316, pattern=CONDITION_TYPE_PATTERN)]
    """Condition type in CamelCase, e.g. ``Ready``, ``Reconciling``, ``Stalled``."""
    status: Literal["True", "False", "Unknown"]
    """Status of the condition."""
    observed_generation: Annotated[Int64, Field(ge=0)] | None = None
    """The ``metadata.generation`` the condition was computed for."""
    last_transition_time: Timestamp
    """When the status last changed."""
    reason: Annotated[
        str, StringConstraints(min_length=1, max_length=1024, pattern=CONDITION_REASON_PATTERN)
    ]
    """CamelCase machine-readable reason for the last transition."""
    message: Annotated[str, StringConstraints(max_length=32768)]
    """Human-readable details (may be empty)."""


class Artifact(ApiModel):
    """The output of a source reconciliation, served over HTTP by the source controller."""

    digest: Annotated[str, StringConstraints(pattern=DIGEST_PATTERN)]
    """Digest of the file, ``<algorithm>:<checksum>``."""
    last_update_time: Timestamp
    """When the artifact was last updated."""
    metadata: dict[str, str] | None = None
    """Upstream information such as OCI annotations."""
    path: str
    """Path of the file relative to the storage root."""
    revision: str
    """Human-readable origin revision, e.g. ``main@sha1:<hex>`` or a chart version."""
    size: Int64 | None = None
    """Size of the file in bytes."""
    url: str
    """HTTP address of the file."""


class ResourceRef(ApiModel):
    """One applied object: ``<namespace>_<name>_<group>_<kind>`` and its API version."""

    id: str
    """Object id, ``<namespace>_<name>_<group>_<kind>``."""
    v: str
    """API version of the object's kind."""


class ResourceInventory(ApiModel):
    """The objects applied by the last successful reconciliation."""

    entries: list[ResourceRef]
    """Applied objects, in apply order."""


class HistorySnapshot(ApiModel):
    """One reconciled state (Kustomization history entry)."""

    digest: str
    """Digest of the built manifests, ``<algo>:<hex>``."""
    first_reconciled: Timestamp
    """When this state was first reconciled."""
    last_reconciled: Timestamp
    """When this state was last reconciled."""
    last_reconciled_duration: str
    """How long the last reconciliation of this state took."""
    last_reconciled_status: str
    """Outcome of the last reconciliation of this state."""
    metadata: dict[str, str] | None = None
    """Extra information such as ``revision`` and ``originRevision``."""
    total_reconciliations: Int64
    """How many times this state was reconciled."""


class ReconcileStatus(ApiModel):
    """The status fields every reconciled Flux object has."""

    observed_generation: Int64 | None = None
    """The last generation the controller observed (``-1`` before the first reconciliation)."""
    conditions: list[Condition] | None = None
    """Conditions of the object (``Ready``, ``Reconciling``, ``Stalled``, ...)."""
    last_handled_reconcile_at: str | None = None
    """The last ``reconcile.fluxcd.io/requestedAt`` value handled."""


STATUS_DEFAULT = {"observedGeneration": -1}
"""What the API server puts into ``status`` of a new object."""


def status_field() -> Any:
    """The ``status`` field of a kind: absent in Python until set, defaulted by the server."""
    return crd_default(STATUS_DEFAULT)
