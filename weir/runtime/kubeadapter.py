"""The runtime's ports (:mod:`weir.runtime.ports`) implemented with :mod:`weir.kube`."""

from __future__ import annotations

from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply
from weir.kube.resources import ResourceRef
from weir.types import Obj


class KubeObjectWriter:
    """Status merge patches and finalizer edits for one resource, as ``field_manager``."""

    def __init__(self, api: ApiClient, resource: ResourceRef, field_manager: str) -> None:
        self.api = api
        self.resource = resource
        self.field_manager = field_manager

    async def patch_status(self, obj: Obj, patch: dict[str, Any]) -> Obj | None:
        meta = obj.get("metadata") or {}
        return await apply.patch_status(
            self.api,
            self.resource,
            meta.get("namespace") if self.resource.namespaced else None,
            str(meta["name"]),
            patch,
            self.field_manager,
        )

    async def add_finalizer(self, obj: Obj, finalizer: str) -> Obj | None:
        return await apply.add_finalizer(
            self.api, obj, finalizer, resource=self.resource, field_manager=self.field_manager
        )

    async def remove_finalizer(self, obj: Obj, finalizer: str) -> None:
        await apply.remove_finalizer(
            self.api, obj, finalizer, resource=self.resource, field_manager=self.field_manager
        )
