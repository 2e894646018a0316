"""Leader election on a ``coordination.k8s.io/v1`` Lease, with client-go's semantics.

- Campaign: every ``retry_period`` (plus jitter) read the Lease; take it when it does not
  exist, is held by nobody (released), or its holder has not renewed it for its
  ``leaseDurationSeconds``. Expiry is judged on the *local* clock, from when this process last
  saw the Lease change, so clock skew between nodes does not matter.
- Lead: renew ``renewTime`` every ``retry_period``; when no renewal succeeded for
  ``renew_deadline``, or another holder is seen, leadership is lost.
- Updates are optimistic (``PUT`` with ``resourceVersion``): of two racing candidates only one
  wins.
- Graceful stop (cancelling :meth:`LeaderElector.run`) releases the Lease by clearing
  ``holderIdentity``, so a standby takes over at its next retry instead of waiting for expiry.
- The campaign and the renewals run in a thread of their own, on their own event loop with
  their own API client: a reconcile that keeps the controllers' event loop busy (a hostile
  repository, a huge manifest) cannot make the leader miss its renewals and lose the Lease --
  which, with two replicas, once made both exit one after the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import random
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.errors import KubeError
from weir.kube import apply
from weir.kube.client import new_client
from weir.kube.errors import AlreadyExistsError, ConflictError, NotFoundError
from weir.kube.resources import ResourceRef
from weir.log import kv
from weir.types import Obj

log = logging.getLogger(__name__)

LEASES = ResourceRef("coordination.k8s.io", "v1", "leases", True, "Lease")
JITTER = 1.2


def now_micro() -> str:
    """The current time as a ``metav1.MicroTime``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Observation:
    """What a candidate knows about the Lease: its holder and since when (local monotonic time)
    it has not changed."""

    holder: str
    duration: float
    unchanged_since: float

    def held_by_other(self, identity: str, now: float) -> bool:
        """True while someone else holds a Lease that has not expired."""
        if not self.holder or self.holder == identity:
            return False
        return now < self.unchanged_since + self.duration


class LeaderElector:
    """Elects one leader among the processes sharing ``namespace/name``."""

    def __init__(
        self,
        api: ApiClient,
        namespace: str,
        name: str,
        identity: str,
        *,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        release_on_cancel: bool = True,
    ) -> None:
        if not lease_duration > renew_deadline > retry_period * JITTER > 0:
            raise ValueError(
                "leader election needs lease_duration > renew_deadline > 1.2 * retry_period > 0"
            )
        if not identity:
            raise ValueError("leader election needs a non-empty identity")
        self.api = api
        self._client = api
        """The client of the renewing thread (``api``'s configuration, the thread's loop)."""
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.release_on_cancel = release_on_cancel
        self._leader = False
        self._lease: Obj | None = None  # the Lease as we last wrote or read it
        self._observed_rv = ""
        self._observation = Observation("", 0.0, 0.0)

    @property
    def is_leader(self) -> bool:
        return self._leader

    @property
    def observed_holder(self) -> str:
        return self._observation.holder

    async def run(
        self,
        on_started_leading: Callable[[], Coroutine[Any, Any, None]],
        on_stopped_leading: Callable[[], Awaitable[None] | None],
    ) -> None:
        """Campaign until elected, run ``on_started_leading()`` as a task while leading, and
        return once leadership is lost (call again to campaign again). Cancelling ``run`` stops
        leading (releasing the Lease unless ``release_on_cancel`` is False). The work task is
        cancelled before ``on_stopped_leading()`` is called; if it fails, the leader steps
        down and ``run`` re-raises its exception. The Lease itself is handled by a
        :class:`_Renewer` thread (see the module docstring)."""
        loop = asyncio.get_running_loop()
        renewer = _Renewer(self, loop)
        renewer.start()
        work: asyncio.Task[None] | None = None
        release = False
        try:
            await asyncio.shield(renewer.elected)
            self._leader = True
            log.info("became leader", extra=kv(**self._extra()))
            work = asyncio.create_task(on_started_leading(), name=f"leader/{self.name}")
            await asyncio.wait({work, renewer.lost}, return_when=asyncio.FIRST_COMPLETED)
            if work.done() and not work.cancelled() and work.exception() is not None:
                log.error("leader work failed, stepping down", extra=kv(**self._extra()))
                release = True
                work.result()  # re-raises
            await asyncio.shield(renewer.lost)
        except asyncio.CancelledError:
            release = release or self.release_on_cancel
            raise
        finally:
            was_leader = self._leader
            self._leader = False
            if work is not None:
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await work
            renewer.stop(release=release)
            await asyncio.to_thread(renewer.join)
            if was_leader:
                log.info("stopped leading", extra=kv(**self._extra()))
                result = on_stopped_leading()
                if inspect.isawaitable(result):
                    await result

    # ----------------------------------------------------------------------------- phases
    async def _campaign(self) -> None:
        while True:
            if await self._attempt():
                return
            await asyncio.sleep(self.retry_period * random.uniform(1.0, JITTER))

    async def _keep_leading(self, stopping: asyncio.Event) -> None:
        """Renew every ``retry_period`` until ``stopping`` is set or leadership is lost."""
        last_renew = time.monotonic()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.retry_period)
            if stopping.is_set():
                return
            if await self._attempt():
                last_renew = time.monotonic()
                continue
            now = time.monotonic()
            if self._observation.held_by_other(self.identity, now):
                log.warning(
                    "lease taken over by %s", self.observed_holder, extra=kv(**self._extra())
                )
                return
            if now - last_renew >= self.renew_deadline:
                log.warning("could not renew the lease in time", extra=kv(**self._extra()))
                return

    async def _attempt(self) -> bool:
        """One try to acquire or renew; False on any failure (logged)."""
        try:
            async with asyncio.timeout(self.renew_deadline):
                return await self._try_acquire_or_renew()
        except (KubeError, TimeoutError) as e:
            log.warning("lease update failed: %s", e, extra=kv(**self._extra()))
            self._lease = None
            return False

    async def _try_acquire_or_renew(self) -> bool:
        lease = self._lease if self._leader and self._lease else None
        if lease is None:
            try:
                lease = await apply.get(self._client, LEASES, self.namespace, self.name)
            except NotFoundError:
                return await self._create()
            self._observe(lease)
            if self._observation.held_by_other(self.identity, time.monotonic()):
                return False
        spec = dict(lease.get("spec") or {})
        now = now_micro()
        if spec.get("holderIdentity") != self.identity or not self._leader:
            if spec.get("holderIdentity") != self.identity:
                spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
            spec["acquireTime"] = now
        spec.update(
            holderIdentity=self.identity,
            leaseDurationSeconds=self._duration_seconds(),
            renewTime=now,
        )
        try:
            updated = await apply.replace(self._client, LEASES, {**lease, "spec": spec})
        except ConflictError:
            self._lease = None
            return False
        self._observe(updated)
        return True

    async def _create(self) -> bool:
        now = now_micro()
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": self._duration_seconds(),
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": 0,
            },
        }
        try:
            created = await apply.create(self._client, LEASES, body)
        except AlreadyExistsError:
            return False
        self._observe(created)
        return True

    async def _release(self) -> None:
        """Clear ``holderIdentity`` if we still hold the Lease. A renewal cancelled in flight may
        have landed unseen, so a conflict means: re-read and try again."""
        try:
            async with asyncio.timeout(self.renew_deadline):
                for _ in range(3):
                    lease = self._lease or await apply.get(
                        self._client, LEASES, self.namespace, self.name
                    )
                    if (lease.get("spec") or {}).get("holderIdentity") != self.identity:
                        return
                    try:
                        self._observe(
                            await apply.replace(self._client, LEASES, self._released(lease))
                        )
                    except ConflictError:
                        self._lease = None
                        continue
                    log.info("released the lease", extra=kv(**self._extra()))
                    return
        except (KubeError, TimeoutError) as e:
            log.warning("could not release the lease: %s", e, extra=kv(**self._extra()))

    @staticmethod
    def _released(lease: Obj) -> Obj:
        now = now_micro()
        spec = {
            **(lease.get("spec") or {}),
            "holderIdentity": "",
            "leaseDurationSeconds": 1,
            "acquireTime": now,
            "renewTime": now,
        }
        return {**lease, "spec": spec}

    # ----------------------------------------------------------------------------- helpers
    def _observe(self, lease: Obj) -> None:
        self._lease = lease
        rv = str((lease.get("metadata") or {}).get("resourceVersion", ""))
        spec = lease.get("spec") or {}
        since = self._observation.unchanged_since
        if rv != self._observed_rv:
            self._observed_rv, since = rv, time.monotonic()
        self._observation = Observation(
            holder=spec.get("holderIdentity") or "",
            duration=float(spec.get("leaseDurationSeconds") or self.lease_duration),
            unchanged_since=since,
        )

    def _duration_seconds(self) -> int:
        return max(1, math.ceil(self.lease_duration))

    def _extra(self) -> dict[str, Any]:
        return {"lease": f"{self.namespace}/{self.name}", "identity": self.identity}


class _Renewer(threading.Thread):
    """Campaigns for and renews the Lease on an event loop of its own (see the module
    docstring); tells the caller's loop when leadership is won (:attr:`elected`) and lost
    (:attr:`lost`)."""

    def __init__(self, elector: LeaderElector, caller: asyncio.AbstractEventLoop) -> None:
        super().__init__(name=f"lease/{elector.name}", daemon=True)
        self.elector = elector
        self.caller = caller
        self.elected: asyncio.Future[None] = caller.create_future()
        self.lost: asyncio.Future[None] = caller.create_future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._release = False
        self._stop_requested = False

    def _tell(self, future: asyncio.Future[None]) -> None:
        def settle() -> None:
            if not future.done():
                future.set_result(None)

        with contextlib.suppress(RuntimeError):  # the caller's loop is closed
            self.caller.call_soon_threadsafe(settle)

    def stop(self, *, release: bool) -> None:
        """Stop campaigning or renewing; ``release``: clear the holder first if we hold it."""
        self._release = release
        self._stop_requested = True
        self._ready.wait()
        if self._loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stopping.set)

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        elector = self.elector
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        if self._stop_requested:
            self._stopping.set()
        self._ready.set()
        client = new_client(elector.api.configuration)
        elector._client = client
        try:
            campaign = asyncio.create_task(elector._campaign())
            stopping = asyncio.create_task(self._stopping.wait())
            await asyncio.wait({campaign, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not campaign.done():
                campaign.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await campaign
                return
            stopping.cancel()
            self._tell(self.elected)
            await elector._keep_leading(self._stopping)
            if self._release:
                await elector._release()
        finally:
            self._tell(self.lost)
            self._give_up()
            with contextlib.suppress(Exception):
                await client.close()

    def _give_up(self) -> None:
        """The thread ends without having been elected: the caller stops waiting."""

        def settle() -> None:
            if self.elected.done():
                return
            if self._stop_requested:
                self.elected.cancel()
            else:
                self.elected.set_exception(KubeError("leader election stopped unexpectedly"))

        with contextlib.suppress(RuntimeError):
            self.caller.call_soon_threadsafe(settle)
