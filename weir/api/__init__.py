"""Pydantic models of Flux's API kinds, their registry, and the CRDs generated from them.

    >>> from weir.api import KINDS, lookup, parse_object
    >>> KINDS["Kustomization"].short_names
    ('ks',)
    >>> lookup("hr").kind
    'HelmRelease'

Kinds: ``source.toolkit.fluxcd.io/v1`` GitRepository, OCIRepository, HelmRepository, HelmChart,
Bucket, ExternalArtifact; ``source.extensions.fluxcd.io/v1beta1`` ArtifactGenerator;
``kustomize.toolkit.fluxcd.io/v1`` Kustomization; ``helm.toolkit.fluxcd.io/v2``
HelmRelease; ``notification.toolkit.fluxcd.io`` Provider and Alert (v1beta3), Receiver (v1).
"""

from weir.api.artifactgenerator import ArtifactGenerator
from weir.api.defaults import with_defaults
from weir.api.helm import HelmRelease, HelmReleaseSpec, HelmReleaseStatus
from weir.api.kinds import (
    KINDS,
    KindInfo,
    PrinterColumn,
    UnknownKindError,
    kind_for,
    lookup,
    parse_object,
)
from weir.api.kustomize import Kustomization, KustomizationSpec, KustomizationStatus
from weir.api.meta import (
    Artifact,
    Condition,
    DependencyReference,
    KubeConfigReference,
    LocalObjectReference,
    ResourceInventory,
    ResourceRef,
    ValuesReference,
)
from weir.api.notification import Alert, Provider, Receiver
from weir.api.object import FluxObject, ObjectMeta
from weir.api.source import (
    Bucket,
    ExternalArtifact,
    GitRepository,
    HelmChart,
    HelmRepository,
    OCIRepository,
)

__all__ = [
    "KINDS",
    "Alert",
    "Artifact",
    "ArtifactGenerator",
    "Bucket",
    "Condition",
    "DependencyReference",
    "ExternalArtifact",
    "FluxObject",
    "GitRepository",
    "HelmChart",
    "HelmRelease",
    "HelmReleaseSpec",
    "HelmReleaseStatus",
    "HelmRepository",
    "KindInfo",
    "KubeConfigReference",
    "Kustomization",
    "KustomizationSpec",
    "KustomizationStatus",
    "LocalObjectReference",
    "OCIRepository",
    "ObjectMeta",
    "PrinterColumn",
    "Provider",
    "Receiver",
    "ResourceInventory",
    "ResourceRef",
    "UnknownKindError",
    "ValuesReference",
    "kind_for",
    "lookup",
    "parse_object",
    "with_defaults",
]
