"""Shared informers: one list+watch cache per resource in a ``weir run`` process.

Controllers that need the same kind share one informer (the Kustomization controller reads the
GitRepositories the source controller watches anyway). The manager starts every informer of
the pool before the workers run, and stops them at shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from kubernetes_asyncio.client import ApiClient

from weir.kube.informer import Informer, strip_managed_fields
from weir.kube.resources import ResourceRef
from weir.types import Obj

Indexer = Callable[[Obj], list[str]]


class InformerPool:
    """Informers by resource, created on first use with the process's namespace and label
    selector (``--watch-namespace``, ``--watch-label-selector``)."""

    def __init__(
        self, api: ApiClient, namespace: str | None = None, label_selector: str | None = None
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.label_selector = label_selector
        self._informers: dict[ResourceRef, Informer] = {}

    def get(self, resource: ResourceRef, indexers: Mapping[str, Indexer] | None = None) -> Informer:
        """The informer of ``resource``, with ``indexers`` added to it."""
        informer = self._informers.get(resource)
        if informer is None:
            informer = Informer(
                self.api,
                resource,
                namespace=self.namespace,
                label_selector=self.label_selector,
                indexers=indexers,
                transform=strip_managed_fields,
            )
            self._informers[resource] = informer
            return informer
        for name, fn in (indexers or {}).items():
            informer.add_indexer(name, fn)
        return informer

    def all(self) -> list[Informer]:
        return list(self._informers.values())

    async def start(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Start every informer and wait for their first lists."""
        for informer in self._informers.values():
            await informer.start()
        await asyncio.gather(*(i.wait_synced(timeout) for i in self._informers.values()))

    async def stop(self) -> None:
        await asyncio.gather(*(i.stop() for i in self._informers.values()))
