"""The kinds weir serves: names, printer columns and model class of each, lookup by any of the
names ``kubectl`` accepts, and parsing of raw objects into models."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from weir.api import (
    artifactgenerator,
    fluxinstance,
    helm,
    kustomize,
    notification,
    resourceset,
    source,
)
from weir.api.object import FluxObject
from weir.errors import ConfigError
from weir.kube.resources import ResourceRef


class UnknownKindError(ConfigError):
    """An object or a name that is not one of the kinds weir serves."""


@dataclass(frozen=True)
class PrinterColumn:
    """A column of ``kubectl get`` (``additionalPrinterColumns``)."""

    name: str
    type: Literal["string", "integer", "number", "boolean", "date"]
    json_path: str
    priority: int = 0
    """0: always shown; 1: only with ``-o wide``."""

    def to_crd(self) -> dict[str, Any]:
        column: dict[str, Any] = {"name": self.name, "type": self.type, "jsonPath": self.json_path}
        if self.priority:
            column["priority"] = self.priority
        return column


AGE = PrinterColumn("Age", "date", ".metadata.creationTimestamp")
READY = PrinterColumn("Ready", "string", '.status.conditions[?(@.type=="Ready")].status')
STATUS = PrinterColumn("Status", "string", '.status.conditions[?(@.type=="Ready")].message')
URL = PrinterColumn("URL", "string", ".spec.url")


@dataclass(frozen=True)
class KindInfo:
    """Everything weir knows about one kind, besides its schema (which is in ``model``)."""

    kind: str
    group: str
    version: str
    plural: str
    singular: str
    model: type[FluxObject]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    printer_columns: tuple[PrinterColumn, ...] = ()
    namespaced: bool = True
    controller: str = ""
    """The Flux controller that owns this kind (``source-controller``, ...)."""
    aliases: tuple[str, ...] = ()
    """More names weir's CLI accepts, not in the CRD (the Flux Operator CLI's ``instance``)."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def resource(self) -> ResourceRef:
        """The REST resource of this kind, for :mod:`weir.kube`."""
        return ResourceRef(self.group, self.version, self.plural, self.namespaced, self.kind)

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{self.group}"

    @property
    def has_status(self) -> bool:
        """Whether the kind has a status (and so a ``status`` subresource)."""
        return "status" in self.model.model_fields

    def names(self) -> tuple[str, ...]:
        """Every name ``kubectl get`` accepts for this kind (lower case)."""
        return (self.kind.lower(), self.plural, self.singular, *self.short_names, *self.aliases)


def _categories(extra: str) -> tuple[str, ...]:
    return ("all", "fluxcd", extra)


SOURCES = _categories("fluxcd-sources")
APPLIERS = _categories("fluxcd-appliers")
NOTIFICATIONS = _categories("fluxcd-notifications")

_ALL: tuple[KindInfo, ...] = (
    KindInfo(
        kind="GitRepository",
        group=source.GROUP,
        version="v1",
        plural="gitrepositories",
        singular="gitrepository",
        model=source.GitRepository,
        short_names=("gitrepo",),
        categories=SOURCES,
        printer_columns=(URL, AGE, READY, STATUS),
        controller="source-controller",
    ),
    KindInfo(
        kind="OCIRepository",
        group=source.GROUP,
        version="v1",
        plural="ocirepositories",
        singular="ocirepository",
        model=source.OCIRepository,
        short_names=("ocirepo",),
        categories=SOURCES,
        printer_columns=(URL, READY, STATUS, AGE),
        controller="source-controller",
    ),
    KindInfo(
        kind="HelmRepository",
        group=source.GROUP,
        version="v1",
        plural="helmrepositories",
        singular="helmrepository",
        model=source.HelmRepository,
        short_names=("helmrepo",),
        categories=SOURCES,
        printer_columns=(URL, AGE, READY, STATUS),
        controller="source-controller",
    ),
    KindInfo(
        kind="HelmChart",
        group=source.GROUP,
        version="v1",
        plural="helmcharts",
        singular="helmchart",
        model=source.HelmChart,
        short_names=("hc",),
        categories=SOURCES,
        printer_columns=(
            PrinterColumn("Chart", "string", ".spec.chart"),
            PrinterColumn("Version", "string", ".spec.version"),
            PrinterColumn("Source Kind", "string", ".spec.sourceRef.kind"),
            PrinterColumn("Source Name", "string", ".spec.sourceRef.name"),
            AGE,
            READY,
            STATUS,
        ),
        controller="source-controller",
    ),
    KindInfo(
        kind="Bucket",
        group=source.GROUP,
        version="v1",
        plural="buckets",
        singular="bucket",
        model=source.Bucket,
        categories=SOURCES,
        printer_columns=(
            PrinterColumn("Endpoint", "string", ".spec.endpoint"),
            AGE,
            READY,
            STATUS,
        ),
        controller="source-controller",
    ),
    KindInfo(
        kind="ExternalArtifact",
        group=source.GROUP,
        version="v1",
        plural="externalartifacts",
        singular="externalartifact",
        model=source.ExternalArtifact,
        short_names=("ea",),
        categories=SOURCES,
        printer_columns=(
            AGE,
            READY,
            STATUS,
            PrinterColumn("Source", "string", ".spec.sourceRef.name"),
        ),
        controller="source-watcher",
    ),
    KindInfo(
        kind="ArtifactGenerator",
        group=artifactgenerator.GROUP,
        version="v1beta1",
        plural="artifactgenerators",
        singular="artifactgenerator",
        model=artifactgenerator.ArtifactGenerator,
        short_names=("ag",),
        categories=SOURCES,
        printer_columns=(AGE, READY, STATUS),
        controller="source-watcher",
    ),
    KindInfo(
        kind="Kustomization",
        group=kustomize.GROUP,
        version="v1",
        plural="kustomizations",
        singular="kustomization",
        model=kustomize.Kustomization,
        short_names=("ks",),
        categories=APPLIERS,
        printer_columns=(AGE, READY, STATUS),
        controller="kustomize-controller",
    ),
    KindInfo(
        kind="HelmRelease",
        group=helm.GROUP,
        version="v2",
        plural="helmreleases",
        singular="helmrelease",
        model=helm.HelmRelease,
        short_names=("hr",),
        categories=APPLIERS,
        printer_columns=(AGE, READY, STATUS),
        controller="helm-controller",
    ),
    KindInfo(
        kind="Provider",
        group=notification.GROUP,
        version="v1beta3",
        plural="providers",
        singular="provider",
        model=notification.Provider,
        categories=NOTIFICATIONS,
        printer_columns=(AGE, READY, STATUS),
        controller="notification-controller",
    ),
    KindInfo(
        kind="Alert",
        group=notification.GROUP,
        version="v1beta3",
        plural="alerts",
        singular="alert",
        model=notification.Alert,
        categories=NOTIFICATIONS,
        printer_columns=(AGE, READY, STATUS),
        controller="notification-controller",
    ),
    KindInfo(
        kind="Receiver",
        group=notification.GROUP,
        version="v1",
        plural="receivers",
        singular="receiver",
        model=notification.Receiver,
        categories=NOTIFICATIONS,
        printer_columns=(AGE, READY, STATUS),
        controller="notification-controller",
    ),
    KindInfo(
        kind="ResourceSet",
        group=resourceset.GROUP,
        version="v1",
        plural="resourcesets",
        singular="resourceset",
        model=resourceset.ResourceSet,
        short_names=("rset",),
        printer_columns=(AGE, READY, STATUS),
        controller="flux-operator",
    ),
    KindInfo(
        kind="ResourceSetInputProvider",
        group=resourceset.GROUP,
        version="v1",
        plural="resourcesetinputproviders",
        singular="resourcesetinputprovider",
        model=resourceset.ResourceSetInputProvider,
        short_names=("rsip",),
        printer_columns=(AGE, READY, STATUS),
        controller="flux-operator",
    ),
)

_ALL += (
    KindInfo(
        kind="FluxInstance",
        group=fluxinstance.GROUP,
        version="v1",
        plural="fluxinstances",
        singular="fluxinstance",
        model=fluxinstance.FluxInstance,
        aliases=("instance",),
        printer_columns=(
            AGE,
            READY,
            STATUS,
            PrinterColumn("Revision", "string", ".status.lastAttemptedRevision"),
        ),
        controller="flux-operator",
    ),
    KindInfo(
        kind="FluxReport",
        group=fluxinstance.GROUP,
        version="v1",
        plural="fluxreports",
        singular="fluxreport",
        model=fluxinstance.FluxReport,
        aliases=("report",),
        printer_columns=(
            AGE,
            READY,
            STATUS,
            PrinterColumn("Entitlement", "string", ".spec.distribution.entitlement", 1),
        ),
        controller="flux-operator",
    ),
)
"""The operator's kinds (``fluxcd.controlplane.io/v1``; ``weir.operator``)."""

KINDS: Mapping[str, KindInfo] = MappingProxyType({k.kind: k for k in _ALL})
"""The kinds weir serves, by kind name (``KINDS["Kustomization"]``)."""

_BY_NAME: dict[str, KindInfo] = {}
for _info in _ALL:
    for _name in _info.names():
        _BY_NAME.setdefault(_name, _info)
        _BY_NAME.setdefault(f"{_name}.{_info.group}", _info)
_BY_API_VERSION = {(k.api_version, k.kind): k for k in _ALL}


def lookup(name: str) -> KindInfo:
    """The kind for any name ``kubectl get`` accepts: kind, plural, singular or short name,
    optionally qualified with the group (``ks``, ``HelmRelease``, ``gitrepositories``,
    ``helmrelease.helm.toolkit.fluxcd.io``). Case-insensitive."""
    found = _BY_NAME.get(name.strip().lower())
    if found is None:
        raise UnknownKindError(
            f"unknown kind {name!r}: expected one of {', '.join(sorted(KINDS))} "
            "(or their plural or short names)"
        )
    return found


def kind_for(api_version: str, kind: str) -> KindInfo:
    """The kind served at ``api_version``; an error names the version weir serves instead."""
    found = _BY_API_VERSION.get((api_version, kind))
    if found is not None:
        return found
    known = KINDS.get(kind)
    if known is not None:
        raise UnknownKindError(
            f"{kind} {api_version} is not served: use {known.api_version} "
            "(older Flux API versions must be migrated, e.g. with `flux migrate`)"
        )
    raise UnknownKindError(f"{kind} ({api_version}) is not a kind weir serves")


def parse_object(obj: Mapping[str, Any]) -> FluxObject:
    """Validate a raw object (as read from YAML or the API server) into its model.

    Raises :class:`UnknownKindError` for kinds or versions weir does not serve and
    ``pydantic.ValidationError`` for invalid objects.
    """
    api_version = obj.get("apiVersion")
    kind = obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        raise UnknownKindError("object has no apiVersion and kind")
    return kind_for(api_version, kind).model.model_validate(obj)
