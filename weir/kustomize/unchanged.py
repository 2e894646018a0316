"""Skipping no-op runs: when nothing a Kustomization depends on changed, build nothing and apply
nothing.

A run's output is decided by the files ``spec.path`` reaches (their digest,
:attr:`weir.kustomize.confine.Closure.digest`), the spec, the post-build variables and
kustomize itself; what applying it changes is decided by the live objects. After a successful
run the reconciler keeps (in memory) an :class:`Applied`: the :func:`fingerprint` of the
inputs, and the resourceVersion every applied object had right after the apply. The next run
(a new revision, the interval, or ``reconcile.fluxcd.io/requestedAt``) computes the fingerprint
again -- reading only the path's files, no kustomize -- and when it matches, lists the applied
objects (metadata only, by the owner labels, from a LIST that started after the run's trigger
and that other runs share: :class:`OwnedLister`; :func:`untouched`). If every object is there
with the resourceVersion it had, applying would change nothing, and the run ends with the same
outcome without building or applying.

Any difference -- an edited, deleted or relabelled object, a new file under the path, a changed
variable, a restart of the controller -- means a full run, so drift is corrected as before.
Not skipped: builds with remote bases (their content is not in the artifact), Kustomizations
with ``spec.decryption`` (their keys may change unseen), and runs whose apply skipped objects
(``ssa: IfNotPresent``/``Ignore``, ``reconcile: disabled``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.errors import KubeError
from weir.kube import transport
from weir.kube.informer import PAGE_SIZE, list_pages
from weir.kube.inventory import OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL
from weir.kube.resources import ResourceRef
from weir.runtime.trigger import Trigger, stamp
from weir.runtime.trigger import current as current_trigger
from weir.ssa.apply import Action, ChangeSet

Group = tuple[ResourceRef, str | None]


@dataclass(frozen=True)
class Applied:
    """What a successful run left behind."""

    fingerprint: str
    digest: str
    """The ``status.history`` digest of the applied objects."""
    inventory: Any
    """``status.inventory`` as written."""
    versions: dict[Group, dict[str, str]] = field(default_factory=dict)
    """(resource, namespace) -> {name: resourceVersion}."""


def fingerprint(
    inputs: str, spec: Mapping[str, Any], variables: Mapping[str, str] | None, strict: bool
) -> str:
    """A digest of everything a run's output depends on besides the live objects."""
    body = json.dumps(
        {"inputs": inputs, "spec": spec, "variables": variables, "strict": strict},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(fingerprint: str, digest: str, inventory: Any, changes: ChangeSet) -> Applied | None:
    """The :class:`Applied` of a run, or None when a later run could not be skipped safely."""
    versions: dict[Group, dict[str, str]] = {}
    for change in changes.changes:
        if change.action is Action.SKIPPED or not change.resource_version:
            return None
        if change.resource is None:
            return None
        group = (change.resource, change.ref.namespace or None)
        versions.setdefault(group, {})[change.ref.name] = change.resource_version
    return Applied(fingerprint, digest, inventory, versions)


Versions = dict[str, str]
"""name -> resourceVersion of one owner's objects of one resource and namespace."""

Fetch = Callable[
    [ApiClient, ResourceRef, str | None, str, frozenset[str]], Awaitable[dict[str, Versions]]
]
"""Lists ``resource`` in ``namespace`` by a label selector and returns {owner: versions} for
the owners given (every owner given has an entry): :func:`list_versions`, or a fake in tests."""

IN_SELECTOR_MAX = 100
"""Up to this many owners a LIST names them (``name in (a,b,...)``); above it, it selects every
object that has an owner label (fewer, larger pages instead of one long URL)."""

_Key = tuple[int, ResourceRef, str | None, str]
"""(id of the API client, resource, namespace listed, the Kustomizations' namespace)."""


@dataclass(eq=False)
class _Listing:
    """One LIST: the owners it covers, its :func:`~weir.runtime.trigger.stamp` when it started
    (0 until then), and its result."""

    owners: set[str]
    waiting: Callable[[], Collection[str]]
    started: int = 0
    future: asyncio.Future[dict[str, Versions]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    task: asyncio.Task[None] | None = None


@dataclass
class _State:
    done: _Listing | None = None
    """The last LIST that completed, with what no check has taken from it yet."""
    running: _Listing | None = None
    gathering: _Listing | None = None
    """The next LIST (it starts when ``running`` ends); checks that cannot use the others join."""

    def empty(self) -> bool:
        return self.done is None and self.running is None and self.gathering is None


class OwnedLister:
    """Lists the objects of many Kustomizations in one request, shared by every check it can
    serve.

    A drift check of a run may use a LIST that **started after the run's trigger was observed**
    (:mod:`weir.runtime.trigger`): such a LIST sees every change made before the trigger, as a
    LIST of the check's own would. A check takes, in this order: the last completed LIST, or the
    one in flight, if it started after its trigger and covers its owner; else it joins the next
    one, which starts when the one in flight (at most one per key) ends. A LIST covers the owners
    of the checks that joined it and every Kustomization of the same namespace queued or running
    in the controller when it starts (their triggers are older), so a burst of runs -- a
    ``requestedAt`` on all, an interval elapsing for all, a new revision -- needs one LIST per
    resource and namespace, or a few when its triggers keep arriving while they run.

    Memory stays bounded: the LISTs ask for metadata only, page by page, and keep
    {name: resourceVersion} per owner covered; a check takes its owner's entry out, and a LIST
    that completes replaces the previous one (whose remaining owners were not waiting any more).
    """

    def __init__(self, fetch: Fetch | None = None) -> None:
        self._fetch: Fetch = fetch or list_versions
        self._states: dict[_Key, _State] = {}
        self.lists = 0
        """LISTs made (for tests and benchmarks; a paginated LIST counts once)."""

    def held(self) -> int:
        """Owners whose entries are kept for a check that has not taken them yet."""
        return sum(
            len(state.done.owners) for state in self._states.values() if state.done is not None
        )

    async def owned(
        self,
        api: ApiClient,
        resource: ResourceRef,
        ns: str | None,
        owner: str,
        owner_ns: str,
        *,
        trigger: Trigger | None = None,
    ) -> Versions:
        """{name: resourceVersion} of the objects of ``resource`` in ``ns`` labelled as applied by
        ``owner_ns/owner``, from a LIST that started after ``trigger`` (default: the current
        run's, :func:`weir.runtime.trigger.current`)."""
        trigger = trigger or current_trigger()
        key: _Key = (id(api), resource, ns, owner_ns)
        state = self._states.setdefault(key, _State())
        for listing in (state.done, state.running):
            if listing is not None and listing.started > trigger.at and owner in listing.owners:
                return self._take(key, state, listing, owner, await asyncio.shield(listing.future))
        listing = state.gathering
        if listing is None:
            listing = state.gathering = _Listing({owner}, trigger.waiting)
            listing.future.add_done_callback(_retrieved)
            listing.task = asyncio.create_task(self._list(key, state, listing, api))
        listing.owners.add(owner)
        listing.waiting = trigger.waiting
        return self._take(key, state, listing, owner, await asyncio.shield(listing.future))

    def _take(
        self, key: _Key, state: _State, listing: _Listing, owner: str, found: dict[str, Versions]
    ) -> Versions:
        """``owner``'s entry, taken out of ``listing`` (its check needs it once)."""
        versions = found.pop(owner, {})
        listing.owners.discard(owner)
        if state.done is listing and not listing.owners:
            state.done = None
        self._forget_if_empty(key, state)
        return versions

    def _forget_if_empty(self, key: _Key, state: _State) -> None:
        if state.empty() and self._states.get(key) is state:
            del self._states[key]

    async def _list(self, key: _Key, state: _State, listing: _Listing, api: ApiClient) -> None:
        try:
            previous = state.running
            if previous is not None and previous.task is not None:
                await asyncio.wait({previous.task})
            if state.gathering is listing:
                state.gathering = None  # from here on, later checks wait for the next LIST
            _, resource, ns, owner_ns = key
            for waiting in listing.waiting():
                waiting_ns, _, name = waiting.rpartition("/")
                if waiting_ns == owner_ns:
                    listing.owners.add(name)
            state.running = listing
            listing.started = stamp()  # before the request is sent
            self.lists += 1
            found = await self._fetch(api, resource, ns, owner_ns, frozenset(listing.owners))
        except Exception as e:
            listing.future.set_exception(e)
        except BaseException:  # cancelled (shutdown): the checks waiting run in full
            listing.future.set_exception(KubeError("the shared LIST was cancelled"))
            raise
        else:
            listing.future.set_result(found)
            listing.owners &= found.keys()
            state.done = listing if listing.owners else None
        finally:
            if state.gathering is listing:
                state.gathering = None
            if state.running is listing:
                state.running = None
            self._forget_if_empty(key, state)


async def list_versions(
    api: ApiClient,
    resource: ResourceRef,
    ns: str | None,
    owner_ns: str,
    owners: frozenset[str],
    *,
    page_size: int = PAGE_SIZE,
) -> dict[str, Versions]:
    """The objects of ``resource`` in ``ns`` applied by Kustomizations of ``owner_ns`` named in
    ``owners``: {owner: {name: resourceVersion}}, from one paginated LIST of metadata only."""
    if len(owners) <= IN_SELECTOR_MAX:
        names = f"{OWNER_NAME_LABEL} in ({','.join(sorted(owners))})"
    else:
        names = OWNER_NAME_LABEL  # every owned object: the label exists
    selector = f"{names},{OWNER_NAMESPACE_LABEL}={owner_ns}"
    found: dict[str, Versions] = {}
    async for first, body in list_pages(
        api,
        resource,
        namespace=ns,
        label_selector=selector,
        page_size=page_size,
        accept=transport.METADATA_LIST,
    ):
        if first:
            found = {owner: {} for owner in owners}
        for item in body.get("items") or []:
            meta = item.get("metadata") or {}
            versions = found.get((meta.get("labels") or {}).get(OWNER_NAME_LABEL, ""))
            if versions is not None:
                versions[str(meta.get("name"))] = str(meta.get("resourceVersion"))
    return found


def _retrieved(future: asyncio.Future[dict[str, Versions]]) -> None:
    """Mark a failed LIST as seen even when every check waiting for it was cancelled."""
    if not future.cancelled():
        future.exception()


async def untouched(
    api: ApiClient, applied: Applied, name: str, namespace: str, lister: OwnedLister
) -> bool:
    """True when every applied object still has the resourceVersion it had after the apply
    (see the module docstring), as a LIST started after the current run's trigger shows;
    False on any difference or error."""
    trigger = current_trigger()
    for (resource, ns), versions in applied.versions.items():
        try:
            live = await lister.owned(api, resource, ns, name, namespace, trigger=trigger)
        except KubeError:
            return False
        if any(live.get(obj) != version for obj, version in versions.items()):
            return False
    return True
