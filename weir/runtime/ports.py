"""What the runtime needs from the Kubernetes layer, as protocols.

:mod:`weir.runtime.kubeadapter` implements them with :mod:`weir.kube`; tests of pure logic can
pass their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from weir.types import Obj

EventHandler = Callable[[str, Obj], None]


class InformerLike(Protocol):
    """A list+watch cache of one resource (``weir.kube.informer.Informer``)."""

    def add_handler(self, handler: EventHandler) -> None: ...
    async def start(self) -> None: ...
    async def wait_synced(self, timeout: float | None = None) -> None: ...  # noqa: ASYNC109
    async def stop(self) -> None: ...
    def get(self, namespace: str | None, name: str) -> Obj | None: ...
    def list(self, namespace: str | None = None) -> list[Obj]: ...


class ObjectWriter(Protocol):
    """Writes the controller makes to the objects it reconciles."""

    async def patch_status(self, obj: Obj, patch: dict[str, Any]) -> Obj | None:
        """Patch the status; returns the object as written (None if the writer cannot say)."""
        ...

    async def add_finalizer(self, obj: Obj, finalizer: str) -> Obj | None: ...
    async def remove_finalizer(self, obj: Obj, finalizer: str) -> None: ...


class EventSink(Protocol):
    """Records Kubernetes Events about an object."""

    async def event(
        self,
        obj: Obj,
        event_type: str,
        reason: str,
        message: str,
        annotations: Mapping[str, str] | None = None,
    ) -> object: ...
