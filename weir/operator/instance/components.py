"""The Flux components a FluxInstance may name, and what each one is in weir.

A component is one of weir's controller registrations (``weir run --controllers=<name>``,
:mod:`weir.runtime.factories`): ``source-controller`` runs ``source``, ``kustomize-controller``
runs ``kustomize``, ``source-watcher`` runs ``source-watcher``, and so on. A component weir
has no registration for (the image automation controllers; ``notification-controller`` until
a build registers ``notification``) is refused with a message naming what this build runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from weir.runtime.factories import REGISTRY, ControllerRegistry


@dataclass(frozen=True)
class Port:
    """A port a component serves, and the Service port in front of it."""

    name: str
    container_port: int
    service_port: int


@dataclass(frozen=True)
class ComponentInfo:
    """One Flux component."""

    name: str
    """Flux's name, e.g. ``kustomize-controller``."""
    controllers: str
    """The weir registration it runs (``--controllers``)."""
    shardable: bool = False
    """Flux shards it (source, kustomize and helm controllers)."""
    applies: bool = False
    """It applies arbitrary objects (cluster-admin; impersonates tenants when multitenant)."""
    service: tuple[Port, ...] = ()
    """Ports behind a Service named like the component."""
    extra_services: tuple[tuple[str, Port], ...] = ()
    """Other Services (name, port), e.g. notification-controller's ``webhook-receiver``."""


STORAGE_PORT = Port("http", 9090, 80)
COMPONENTS: dict[str, ComponentInfo] = {
    c.name: c
    for c in (
        ComponentInfo("source-controller", "source", shardable=True, service=(STORAGE_PORT,)),
        ComponentInfo("kustomize-controller", "kustomize", shardable=True, applies=True),
        ComponentInfo("helm-controller", "helm", shardable=True, applies=True),
        ComponentInfo(
            "notification-controller",
            "notification",
            service=(Port("http", 9090, 80),),
            extra_services=(("webhook-receiver", Port("http", 9292, 80)),),
        ),
        ComponentInfo("image-reflector-controller", "image-reflector", shardable=True),
        ComponentInfo("image-automation-controller", "image-automation", shardable=True),
        ComponentInfo("source-watcher", "source-watcher", shardable=True, service=(STORAGE_PORT,)),
    )
}
"""Every component of the FluxInstance API, in Flux's order."""


def available(registry: ControllerRegistry = REGISTRY) -> list[str]:
    """The components this weir build can run."""
    names = set(registry.names())
    return [c.name for c in COMPONENTS.values() if c.controllers in names]


def missing(names: Iterable[str], registry: ControllerRegistry = REGISTRY) -> list[str]:
    """The components of ``names`` this build cannot run."""
    can = set(available(registry))
    return [n for n in names if n not in can]
