"""The controllers ``weir run`` can start, by name, and how ``--controllers`` selects them.

Each feature package registers a factory under a short name (``source``, ``kustomize``,
``helm``, ...); a factory gets a :class:`ControllerContext` and returns the controllers of its
kinds, typically built with :func:`build_controller`::

    REGISTRY.register("kustomize", "weir.kustomize.controller:controllers",
                      "Kustomization (kustomize.toolkit.fluxcd.io/v1)")

A factory given as ``"module:function"`` is imported only when selected.

``--controllers`` is a comma-separated list, as kube-controller-manager spells it: ``*`` means
every controller enabled by default, ``name`` enables one, ``-name`` disables one
(``--controllers=*,-helm``). The empty string starts none.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from kubernetes_asyncio.client import ApiClient

from weir.errors import UsageError
from weir.kube.events import EventRecorder
from weir.kube.resources import ResourceRef
from weir.runtime.controller import Controller, ControllerSettings
from weir.runtime.informers import InformerPool
from weir.runtime.kubeadapter import KubeObjectWriter
from weir.runtime.metrics import RuntimeMetrics
from weir.runtime.ports import EventSink
from weir.runtime.reconciler import Reconciler
from weir.runtime.settings import RunSettings
from weir.types import Obj

T = TypeVar("T")


class Service(Protocol):
    """A server a controller needs beside its workers (e.g. the artifact HTTP server); the
    manager starts it before the caches and stops it at shutdown."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


S = TypeVar("S", bound=Service)


@dataclass
class ControllerContext:
    """What a factory gets: the API client, the process-wide settings, the shared informers,
    and a list to add the services it needs to."""

    api: ApiClient
    settings: ControllerSettings
    metrics: RuntimeMetrics
    namespace: str | None = None
    """Watch only this namespace (None: all namespaces)."""
    label_selector: str | None = None
    """Watch only objects matching this selector (``--watch-label-selector``, for sharding)."""
    informers: InformerPool = field(init=False)
    """Shared informers (one per resource in the process)."""
    services: list[Service] = field(default_factory=list)
    run: RunSettings = field(default_factory=RunSettings)
    """All of ``weir run``'s settings; feature packages read theirs with :meth:`feature`."""
    shared: dict[type[Any], Any] = field(default_factory=dict)
    """Process-wide objects several factories use (one Helm engine), by class; see
    :meth:`shared_service`."""
    leading: Callable[[], bool] = field(default=lambda: True)
    """Whether this process runs the controllers now (the leader, or no leader election):
    services that act on the cluster by themselves (e.g. dispatching notifications) check it,
    so that standbys stay passive."""

    def __post_init__(self) -> None:
        self.informers = InformerPool(self.api, self.namespace, self.label_selector)

    def feature(self, kind: type[T]) -> T:
        """The typed settings of a feature package (``run.features``; the defaults when the
        command line did not set them)."""
        return self.run.feature(kind)

    def shared_service(self, kind: type[S], create: Callable[[], S]) -> S:
        """The one ``kind`` of this process: created with ``create`` on first use and added to
        :attr:`services` (so the manager starts and stops it once)."""
        found = self.shared.get(kind)
        if not isinstance(found, kind):
            found = create()
            self.shared[kind] = found
            self.services.append(found)
        return found


ControllerFactory = Callable[[ControllerContext], Sequence[Controller]]


@dataclass(frozen=True)
class Registration:
    name: str
    factory: ControllerFactory | str
    description: str = ""
    default: bool = True
    """Started by ``--controllers=*``."""

    def load(self) -> ControllerFactory:
        if not isinstance(self.factory, str):
            return self.factory
        module, _, attr = self.factory.partition(":")
        loaded: ControllerFactory = getattr(importlib.import_module(module), attr)
        return loaded


class ControllerRegistry:
    """Named controller factories."""

    def __init__(self) -> None:
        self._entries: dict[str, Registration] = {}

    def register(
        self,
        name: str,
        factory: ControllerFactory | str,
        description: str = "",
        *,
        default: bool = True,
    ) -> None:
        if not name or "," in name or name.startswith("-") or name == "*":
            raise ValueError(f"invalid controller name {name!r}")
        if name in self._entries:
            raise ValueError(f"controller {name!r} is registered twice")
        self._entries[name] = Registration(name, factory, description, default)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> Mapping[str, Registration]:
        return dict(self._entries)

    def select(self, spec: str) -> list[Registration]:
        """The registrations ``--controllers=spec`` selects, in name order."""
        chosen: set[str] = set()
        for raw in spec.split(","):
            item = raw.strip()
            if not item:
                continue
            if item == "*":
                chosen |= {n for n, r in self._entries.items() if r.default}
                continue
            name = item.removeprefix("-")
            if name not in self._entries:
                known = ", ".join(self.names()) or "none yet"
                raise UsageError(
                    f"unknown controller {name!r} in --controllers={spec}: "
                    f"known controllers are {known}"
                )
            if item.startswith("-"):
                chosen.discard(name)
            else:
                chosen.add(name)
        return [self._entries[n] for n in sorted(chosen)]


REGISTRY = ControllerRegistry()
"""The controllers ``weir run`` knows; feature packages add theirs here."""


def build_controller(
    ctx: ControllerContext,
    kind: str,
    resource: ResourceRef,
    reconciler: Reconciler,
    *,
    component: str,
    status_manager: str | None = None,
    indexers: Mapping[str, Callable[[Obj], list[str]]] | None = None,
    name: str | None = None,
    events: EventSink | None = None,
) -> Controller:
    """A controller for ``resource`` with an informer honouring the context's namespace and
    label selector, Events as ``component`` (e.g. ``kustomize-controller``) and status patches
    as ``status_manager`` (default ``gotk-<component>``, Flux's status field manager).
    ``events`` replaces the Event sink (the HelmRelease controller keeps only Warnings)."""
    informer = ctx.informers.get(resource, indexers)
    return Controller(
        kind,
        resource,
        reconciler,
        informer,
        writer=KubeObjectWriter(ctx.api, resource, status_manager or f"gotk-{component}"),
        events=events or EventRecorder(ctx.api, component),
        metrics=ctx.metrics,
        settings=ctx.settings,
        name=name,
    )


# Built-in controllers: each feature package adds one line here, with a lazy "module:function"
# factory so that `weir run` imports only what it starts, e.g.
# REGISTRY.register("source", "weir.source.controller:controllers", "Flux sources")
REGISTRY.register(
    "source",
    "weir.source.controller:controllers",
    "GitRepository, HelmRepository, HelmChart, OCIRepository, Bucket (source.toolkit.fluxcd.io/v1)",
)
REGISTRY.register(
    "source-watcher",
    "weir.source.controller:watcher_controllers",
    "ArtifactGenerator (source.extensions.fluxcd.io/v1beta1) -> ExternalArtifacts",
)
REGISTRY.register(
    "kustomize",
    "weir.kustomize.controller:controllers",
    "Kustomization (kustomize.toolkit.fluxcd.io/v1)",
)
REGISTRY.register(
    "helm", "weir.helm.controller:controllers", "HelmRelease (helm.toolkit.fluxcd.io/v2)"
)
REGISTRY.register(
    "notification",
    "weir.notification.controller:controllers",
    "Provider, Alert (notification.toolkit.fluxcd.io/v1beta3), Receiver (v1): alerts out, "
    "webhooks in",
)
REGISTRY.register(
    "operator",
    "weir.operator.controller:controllers",
    "FluxInstance, FluxReport, ResourceSet, ResourceSetInputProvider (fluxcd.controlplane.io/v1);"
    " runs the instance's controllers",
    default=False,
)
REGISTRY.register(
    "resourcesets",
    "weir.operator.rset.controller:controllers",
    "ResourceSet, ResourceSetInputProvider (fluxcd.controlplane.io/v1) without the operator",
    default=False,
)
REGISTRY.register(
    "plan",
    "weir.operator.instance.planwatch:controllers",
    "the controllers a settings ConfigMap names (--plan-configmap)",
    default=False,
)
