"""Waiting for objects to become healthy: poll their live state until every one is Current.

Used for the stage waits of an apply (CRDs and Namespaces must be ready before the rest) and for
a Kustomization's health checks (``wait``, ``healthChecks``, ``healthCheckExprs``). Like Flux:

- every object is read from the API server on each poll (no cache);
- a missing object is NotFound, except a Job with ``ttlSecondsAfterFinished`` that the TTL
  controller already removed, which counts as done;
- the wait ends when all are Current; with ``fail_fast`` (Flux's default) it stops at the first
  Failed object: ``failed early due to stalled resources: [...]``; at the timeout it fails with
  ``timeout waiting for: [...]`` listing the objects that are not Current.

:func:`until_current` is the loop; :func:`wait_for_health` words its outcome as Flux's health
check does, and Helm releases (:mod:`weir.helm.wait`) as Helm's wait does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kube
from weir.kube.errors import ApiError, NotFoundError, UnknownKindError
from weir.kube.inventory import ObjectRef
from weir.kube.kstatus import Result, Status
from weir.kube.resources import mapper_for
from weir.ssa.celhealth import HealthRules
from weir.ssa.errors import HealthCheckError

DEFAULT_INTERVAL = 5.0
FIRST_DELAY = 0.25
CONCURRENCY = 8


@dataclass(frozen=True)
class ObjectStatus:
    """The health of one object at one poll."""

    ref: ObjectRef
    result: Result

    def __str__(self) -> str:
        text = f"{self.ref} status: '{self.result.status}'"
        return f"{text}: {self.result.message}" if self.result.message else text


def _job_gone_by_ttl(obj: Mapping[str, Any]) -> bool:
    return (
        obj.get("kind") == "Job"
        and (obj.get("spec") or {}).get("ttlSecondsAfterFinished") is not None
    )


async def read_status(
    api: ApiClient, obj: Mapping[str, Any], rules: HealthRules | None = None
) -> ObjectStatus:
    """The current health of the live counterpart of ``obj`` (a manifest or a stub)."""
    ref = ObjectRef.of(obj)
    try:
        resource = await mapper_for(api).for_object(dict(obj))
        live = await kube.get(api, resource, ref.namespace or None, ref.name)
    except (NotFoundError, UnknownKindError):
        if _job_gone_by_ttl(obj):
            return ObjectStatus(ref, Result(Status.CURRENT, "Job finished and was deleted"))
        return ObjectStatus(ref, Result(Status.NOT_FOUND, "Resource not found"))
    return ObjectStatus(ref, (rules or HealthRules()).status(live))


async def poll(
    api: ApiClient, objects: Sequence[Mapping[str, Any]], rules: HealthRules | None = None
) -> list[ObjectStatus]:
    """One poll of every object, a few reads at a time."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(obj: Mapping[str, Any]) -> ObjectStatus:
        async with limit:
            return await read_status(api, obj, rules)

    return list(await asyncio.gather(*(one(o) for o in objects)))


def _listing(statuses: Iterable[ObjectStatus]) -> str:
    return "[" + ", ".join(str(s) for s in statuses) + "]"


class NotCurrent(Exception):
    """Why :func:`until_current` gave up: some objects are Failed (with ``fail_fast``), or the
    time ran out. Callers word the error: Flux's health check and Helm's wait differ."""

    def __init__(
        self,
        *,
        pending: list[ObjectStatus],
        failed: list[ObjectStatus],
        elapsed: float,
        read_error: ApiError | None = None,
    ) -> None:
        super().__init__("objects not Current")
        self.pending = pending
        """The objects not Current at the last poll (empty when a read failed)."""
        self.failed = failed
        """Those of them that are Failed, when that ended the wait (else empty)."""
        self.elapsed = elapsed
        self.read_error = read_error
        """The last failed read, when one ended the wait at the timeout."""

    @property
    def timed_out(self) -> bool:
        return not self.failed


async def until_current(
    api: ApiClient,
    objects: Iterable[Mapping[str, Any]],
    *,
    timeout: float,  # noqa: ASYNC109 - the elapsed time is part of the error reported
    interval: float = DEFAULT_INTERVAL,
    rules: HealthRules | None = None,
    fail_fast: bool = True,
    read_current_again: bool = True,
    retry_failed_reads: bool = False,
) -> list[ObjectStatus]:
    """Poll until every object is Current (pauses from :data:`FIRST_DELAY` doubling up to
    ``interval``); returns the last poll's statuses.

    Raises :class:`NotCurrent` at the timeout, or as soon as an object is Failed when
    ``fail_fast``. ``read_current_again=False`` polls only the objects not Current yet;
    ``retry_failed_reads`` retries a poll whose read failed until the timeout (else the
    :class:`~weir.kube.errors.ApiError` propagates).
    """
    targets = list(objects)
    start = time.monotonic()
    delay = min(FIRST_DELAY, interval)
    while True:
        try:
            statuses = await poll(api, targets, rules)
        except ApiError as e:
            if not retry_failed_reads:
                raise
            remaining = timeout - (time.monotonic() - start)
            if remaining <= 0:
                raise NotCurrent(
                    pending=[], failed=[], elapsed=time.monotonic() - start, read_error=e
                ) from e
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, interval)
            continue
        pending = [s for s in statuses if s.result.status is not Status.CURRENT]
        if not pending:
            return statuses
        failed = [s for s in pending if s.result.status is Status.FAILED]
        if fail_fast and failed:
            raise NotCurrent(pending=pending, failed=failed, elapsed=time.monotonic() - start)
        remaining = timeout - (time.monotonic() - start)
        if remaining <= 0:
            raise NotCurrent(pending=pending, failed=[], elapsed=time.monotonic() - start)
        if not read_current_again:
            keep = {s.ref for s in pending}
            targets = [o for o in targets if ObjectRef.of(o) in keep]
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 2, interval)


async def wait_for_health(
    api: ApiClient,
    objects: Iterable[Mapping[str, Any]],
    *,
    timeout: float,  # noqa: ASYNC109 - the timeout is part of the error reported
    interval: float = DEFAULT_INTERVAL,
    rules: HealthRules | None = None,
    fail_fast: bool = True,
) -> list[ObjectStatus]:
    """Poll until every object is Current (every object read on each poll, as Flux's poller);
    returns the final statuses.

    Raises :class:`~weir.ssa.errors.HealthCheckError` on timeout, or as soon as an object
    is Failed when ``fail_fast``.
    """
    try:
        return await until_current(
            api, objects, timeout=timeout, interval=interval, rules=rules, fail_fast=fail_fast
        )
    except NotCurrent as e:
        if e.failed:
            raise HealthCheckError(
                f"health check failed after {e.elapsed:.1f}s: "
                f"failed early due to stalled resources: {_listing(e.failed)}"
            ) from None
        raise HealthCheckError(
            f"health check failed after {e.elapsed:.1f}s: "
            f"timeout waiting for: {_listing(e.pending)}"
        ) from None
