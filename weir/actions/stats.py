"""How many objects of each Flux kind there are, and how many are ready, failing and suspended
(``weir stats``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.actions.objects import ALL_KINDS, condition_status, is_suspended, list_many
from weir.api import KindInfo


@dataclass(frozen=True)
class KindStats:
    """Counts for one kind. ``ready``/``failing`` count Ready=True/False; the rest of ``total``
    is in progress or not reconciled yet. ``suspended`` counts independently."""

    kind: str
    total: int
    ready: int
    failing: int
    suspended: int
    has_status: bool = True
    """False for kinds without status (Provider, Alert): ready/failing/progressing are 0."""

    @property
    def progressing(self) -> int:
        return self.total - self.ready - self.failing if self.has_status else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "total": self.total,
            "ready": self.ready,
            "failing": self.failing,
            "progressing": self.progressing,
            "suspended": self.suspended,
            "hasStatus": self.has_status,
        }


def count(kind: str, objs: Iterable[Mapping[str, Any]], has_status: bool = True) -> KindStats:
    total = ready = failing = suspended = 0
    for obj in objs:
        total += 1
        state = condition_status(obj, "Ready")
        ready += state == "True"
        failing += state == "False"
        suspended += is_suspended(obj)
    return KindStats(kind, total, ready, failing, suspended, has_status)


async def stats(
    api: ApiClient, namespace: str | None, kinds: Sequence[KindInfo] = ALL_KINDS
) -> list[KindStats]:
    """Counts per kind in ``namespace`` (None: all namespaces), in the registry's order."""
    objs = await list_many(api, kinds, namespace)
    return [count(info.kind, objs[info.kind], info.has_status) for info in kinds]
