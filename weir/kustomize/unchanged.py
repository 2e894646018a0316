"""Skipping no-op runs: when nothing a Kustomization depends on changed, build nothing and apply
nothing.

A run's output is decided by the files ``spec.path`` reaches (their digest,
:attr:`weir.kustomize.confine.Closure.digest`), the spec, the post-build variables and
kustomize itself; what applying it changes is decided by the live objects. After a successful
run the reconciler keeps (in memory) an :class:`Applied`: the :func:`fingerprint` of the
inputs, and the resourceVersion every applied object had right after the apply. The next run
(a new revision, the interval, or ``reconcile.fluxcd.io/requestedAt``) computes the fingerprint
again -- reading only the path's files, no kustomize -- and when it matches, lists the applied
objects (one LIST per resource and namespace, selected by the owner labels, shared by the
checks of other Kustomizations that wait at the same time: :class:`OwnedLister`;
:func:`untouched`). If every object is there with the resourceVersion it had, applying would
change nothing, and the run ends with the same outcome without building or applying.

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.errors import KubeError
from weir.kube.informer import list_all
from weir.kube.inventory import OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL
from weir.kube.resources import ResourceRef
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


_BatchKey = tuple[int, ResourceRef, str | None, str]
"""(id of the API client, resource, namespace listed, the Kustomizations' namespace)."""


@dataclass
class _Batch:
    names: set[str] = field(default_factory=set)
    future: asyncio.Future[list[Any]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class OwnedLister:
    """Lists the objects of several Kustomizations in one request.

    Checks that run at the same time and look at the same resource and namespace share one LIST
    (label selector ``kustomize.toolkit.fluxcd.io/name in (a,b,...)`` plus the owners'
    namespace). A check only joins a LIST that has not started yet: while one is in flight the
    next one gathers, so every check still sees the objects as they were after it began and a
    change made before it is never missed. One LIST in flight per key at a time.
    """

    def __init__(self) -> None:
        self._pending: dict[_BatchKey, _Batch] = {}
        self._running: dict[_BatchKey, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.lists = 0
        """LIST requests made (for tests and benchmarks)."""

    async def owned(
        self, api: ApiClient, resource: ResourceRef, ns: str | None, owner: str, owner_ns: str
    ) -> list[Any]:
        """The objects of ``resource`` in ``ns`` labelled as applied by ``owner_ns/owner``."""
        key: _BatchKey = (id(api), resource, ns, owner_ns)
        batch = self._pending.get(key)
        if batch is None:
            batch = self._pending[key] = _Batch()
            batch.future.add_done_callback(_retrieved)
            task = asyncio.create_task(self._list(key, batch, api))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        batch.names.add(owner)
        items = await asyncio.shield(batch.future)
        return [i for i in items if _labels(i).get(OWNER_NAME_LABEL) == owner]

    async def _list(self, key: _BatchKey, batch: _Batch, api: ApiClient) -> None:
        current = asyncio.current_task()
        try:
            previous = self._running.get(key)
            if previous is not None:
                await asyncio.wait({previous})
            if self._pending.get(key) is batch:
                del self._pending[key]  # from here on, later checks wait for the next LIST
            if current is not None:
                self._running[key] = current
            _, resource, ns, owner_ns = key
            names = ",".join(sorted(batch.names))
            selector = f"{OWNER_NAME_LABEL} in ({names}),{OWNER_NAMESPACE_LABEL}={owner_ns}"
            self.lists += 1
            items, _ = await list_all(api, resource, namespace=ns, label_selector=selector)
        except Exception as e:
            batch.future.set_exception(e)
        except BaseException:  # cancelled (shutdown): the checks waiting run in full
            batch.future.set_exception(KubeError("the shared LIST was cancelled"))
            raise
        else:
            batch.future.set_result(items)
        finally:
            if self._pending.get(key) is batch:
                del self._pending[key]
            if current is not None and self._running.get(key) is current:
                del self._running[key]


def _retrieved(future: asyncio.Future[list[Any]]) -> None:
    """Mark a failed LIST as seen even when every check waiting for it was cancelled."""
    if not future.cancelled():
        future.exception()


def _labels(item: Any) -> dict[str, str]:
    return (item.get("metadata") or {}).get("labels") or {}


async def untouched(
    api: ApiClient, applied: Applied, name: str, namespace: str, lister: OwnedLister
) -> bool:
    """True when every applied object still has the resourceVersion it had after the apply
    (see the module docstring); False on any difference or error."""
    for (resource, ns), versions in applied.versions.items():
        try:
            items = await lister.owned(api, resource, ns, name, namespace)
        except KubeError:
            return False
        live = {
            (item.get("metadata") or {}).get("name"): str(
                (item.get("metadata") or {}).get("resourceVersion")
            )
            for item in items
        }
        if any(live.get(obj) != version for obj, version in versions.items()):
            return False
    return True
