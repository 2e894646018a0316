"""Object metadata and the base of every Flux kind (apiVersion, kind, metadata)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from weir.api.base import ApiModel, Int64, Timestamp
from weir.api.meta import Condition


class ObjectMeta(ApiModel):
    """Standard Kubernetes object metadata; fields weir does not model are kept as they are."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    """Name of the object, unique in its namespace."""
    generate_name: str | None = None
    """Prefix for a server-generated name."""
    namespace: str | None = None
    """Namespace of the object."""
    uid: str | None = None
    """Server-assigned unique id."""
    resource_version: str | None = None
    """Opaque version for optimistic concurrency."""
    generation: Int64 | None = None
    """Generation of the desired state, bumped on every spec change."""
    creation_timestamp: Timestamp | None = None
    """When the object was created."""
    deletion_timestamp: Timestamp | None = None
    """When the object was asked to be deleted."""
    deletion_grace_period_seconds: Int64 | None = None
    """Grace period before deletion."""
    labels: dict[str, str] | None = None
    """Labels of the object."""
    annotations: dict[str, str] | None = None
    """Annotations of the object."""
    finalizers: list[str] | None = None
    """Finalizers that must be removed before the object is deleted."""
    owner_references: list[dict[str, Any]] | None = None
    """Objects owning this one."""
    managed_fields: list[dict[str, Any]] | None = None
    """Server-side apply field ownership."""


class FluxObject(ApiModel):
    """Base of the Flux kinds: subclasses fix ``api_version``/``kind`` and add spec/status."""

    api_version: str
    """API group and version, e.g. ``source.toolkit.fluxcd.io/v1``."""
    kind: str
    """Kind of the object, e.g. ``GitRepository``."""
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""

    @property
    def name(self) -> str:
        """``metadata.name`` ("" when unset)."""
        return self.metadata.name or ""

    @property
    def namespace(self) -> str:
        """``metadata.namespace`` ("" when unset)."""
        return self.metadata.namespace or ""

    def conditions(self) -> list[Condition]:
        """``status.conditions`` (empty for kinds without status or before the first status)."""
        status = getattr(self, "status", None)
        found = getattr(status, "conditions", None)
        return list(found) if found else []

    def condition(self, type_: str) -> Condition | None:
        """The condition of the given type, or None."""
        return next((c for c in self.conditions() if c.type == type_), None)

    def is_ready(self) -> bool:
        """Whether the ``Ready`` condition is ``True``."""
        ready = self.condition("Ready")
        return ready is not None and ready.status == "True"
