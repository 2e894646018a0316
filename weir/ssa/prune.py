"""Garbage collection of stale objects, and what ``deletionPolicy`` means on finalization.

Safety rules (Flux's): a stale object is deleted only when its *live* copy still carries both
owner labels of this Kustomization (an object that another owner took over, or that lost its
labels, is left alone); never when the live object says
``kustomize.toolkit.fluxcd.io/prune: disabled``, ``.../reconcile: disabled`` or
``.../ssa: Ignore``. Objects are deleted in reverse apply order with background propagation;
one already gone (or whose kind no longer exists) counts as deleted. Objects whose DELETE failed
are reported so that they stay in the inventory and are retried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kube
from weir.kube.errors import ApiError, NotFoundError, UnknownKindError
from weir.kube.inventory import Entry
from weir.kube.resources import mapper_for
from weir.ssa.errors import PruneError
from weir.ssa.policies import DISABLED, KUSTOMIZE, Policies, has_policy

DeletionPolicy = Literal["MirrorPrune", "Delete", "WaitForTermination", "Orphan"]


def prune_allowed(
    live: Mapping[str, Any], name: str, namespace: str, policies: Policies = KUSTOMIZE
) -> bool:
    """Whether garbage collection may delete ``live`` for the owner ``namespace/name``."""
    if not policies.owned_by(live, name, namespace):
        return False
    return not (has_policy(live, policies.prune, DISABLED) or policies.excluded(live))


def deletes_on_finalize(
    policy: DeletionPolicy | None, prune: bool, *, suspended: bool = False
) -> bool:
    """Whether deleting the Kustomization deletes its objects (``MirrorPrune``, the default,
    follows ``spec.prune``; a suspended Kustomization never deletes anything)."""
    if suspended:
        return False
    if policy in (None, "MirrorPrune"):
        return prune
    return policy in ("Delete", "WaitForTermination")


def waits_on_finalize(policy: DeletionPolicy | None) -> bool:
    """Whether finalization waits until the deleted objects are gone."""
    return policy == "WaitForTermination"


@dataclass
class PruneResult:
    """What garbage collection did, entry by entry."""

    deleted: list[Entry] = field(default_factory=list)
    skipped: list[Entry] = field(default_factory=list)
    """Left alone: not ours any more, or opted out of pruning."""
    failed: dict[Entry, str] = field(default_factory=dict)
    """DELETE refused: keep these in the inventory."""

    def raise_for_failures(self) -> None:
        """Raise :class:`PruneError` listing the objects that could not be deleted."""
        if self.failed:
            lines = [f"{e.ref} deletion failed: {why}" for e, why in self.failed.items()]
            raise PruneError(
                "garbage collection failed: " + "; ".join(lines) + "; they stay in the inventory "
                "and are retried next time"
            )

    def __str__(self) -> str:
        """Flux's change log: one ``Kind/ns/name deleted`` line per deleted object."""
        return "\n".join(f"{e.ref} deleted" for e in self.deleted)


async def _delete_one(
    api: ApiClient, entry: Entry, name: str, namespace: str, policies: Policies
) -> tuple[str, str | None, str | None]:
    """("deleted"|"skipped"|"failed", reason, uid)"""
    ref = entry.ref
    try:
        resource = await mapper_for(api).resolve(entry.api_version, ref.kind)
        live = await kube.get(api, resource, ref.namespace or None, ref.name)
    except (NotFoundError, UnknownKindError):
        return "deleted", None, None
    except ApiError as e:
        return "failed", str(e), None
    if not prune_allowed(live, name, namespace, policies):
        return "skipped", None, None
    uid = (live.get("metadata") or {}).get("uid")
    try:
        await kube.delete(api, resource, ref.namespace or None, ref.name, missing_ok=True, uid=uid)
    except ApiError as e:
        return "failed", e.message or str(e), None
    return "deleted", None, uid


async def prune(
    api: ApiClient,
    stale: Sequence[Entry],
    name: str,
    namespace: str,
    *,
    wait: bool = False,
    timeout: float = 60.0,  # noqa: ASYNC109 - part of the error reported
    policies: Policies = KUSTOMIZE,
) -> PruneResult:
    """Delete the ``stale`` entries (give them in deletion order, as
    :func:`~weir.kube.inventory.stale_entries` returns them) that still belong to the
    owner ``namespace/name`` (by ``policies``' owner labels). With ``wait``, also wait until
    they are gone."""
    result = PruneResult()
    uids: dict[Entry, str] = {}
    for entry in stale:
        outcome, reason, uid = await _delete_one(api, entry, name, namespace, policies)
        if outcome == "deleted":
            result.deleted.append(entry)
            if uid:
                uids[entry] = uid
        elif outcome == "skipped":
            result.skipped.append(entry)
        else:
            result.failed[entry] = reason or "unknown error"
    if wait and uids:
        await wait_deleted(api, uids, timeout)
    return result


async def wait_deleted(
    api: ApiClient,
    uids: Mapping[Entry, str],
    timeout: float,  # noqa: ASYNC109 - the timeout is part of the error reported
) -> None:
    """Poll until none of the objects (by uid) exists; raises :class:`PruneError` on timeout."""
    deadline = time.monotonic() + timeout
    pending = dict(uids)
    while pending:
        for entry, uid in list(pending.items()):
            ref = entry.ref
            try:
                resource = await mapper_for(api).resolve(entry.api_version, ref.kind)
                live = await kube.get(api, resource, ref.namespace or None, ref.name)
            except (NotFoundError, UnknownKindError):
                del pending[entry]
                continue
            if (live.get("metadata") or {}).get("uid") != uid:
                del pending[entry]
        if not pending:
            return
        if time.monotonic() >= deadline:
            names = ", ".join(str(e.ref) for e in pending)
            raise PruneError(
                f"timeout waiting for the termination of: [{names}]; check their finalizers"
            )
        await asyncio.sleep(0.5)
