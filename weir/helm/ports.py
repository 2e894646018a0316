"""What the HelmRelease reconciler needs from outside besides the Helm engine, as ports
(callables it is given), like the other reconcilers' informer lookups: unit tests pass
in-memory fakes instead of patching module functions.

- :data:`LatestReader`: the HelmRelease as the API server has it now (None when gone); the
  default reads it with the reconciler's client.
- :data:`InventoryBuilder`: ``status.inventory`` of a release manifest; the default,
  :func:`~weir.helm.inventory.release_inventory`, maps kinds through discovery.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.helm.inventory import release_inventory
from weir.types import Obj

LatestReader = Callable[[str, str], Awaitable[Obj | None]]
"""(namespace, name) -> the HelmRelease as the API has it, or None."""

InventoryBuilder = Callable[
    [ApiClient, str, str, Iterable[Mapping[str, Any]]], Awaitable[dict[str, Any]]
]
"""(client, manifest, release namespace, CRDs) -> ``status.inventory``."""

__all__ = ["InventoryBuilder", "LatestReader", "release_inventory"]
