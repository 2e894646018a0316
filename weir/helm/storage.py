"""Helm release storage in a namespace other than the release namespace (``spec.storageNamespace``).

Helm keeps a release's history as Secrets ``sh.helm.release.v1.<name>.v<N>`` (type
``helm.sh/release.v1``, labels ``owner=helm``, ``name``, ``status``, ``version``).
helm-controller writes them into the *storage namespace* (``spec.storageNamespace``, by
default the HelmRelease's own namespace) while the release's objects go to the *release
namespace* (``spec.targetNamespace``). weir's Helm engine (helm-python-sdk; ADR 0002) binds
storage and objects to one namespace, so weir keeps the records where Flux keeps them and
moves them around each Helm *write* action (ADR 0012):

1. **stage**: copy the release's records from the storage namespace into the release
   namespace (records already there, left by an interrupted run, win: they are newer);
2. run the Helm action in the release namespace, as Helm always does;
3. **unstage**: copy every record of the release back into the storage namespace (create or
   update), delete it from the release namespace, and delete from the storage namespace the
   records Helm removed (``maxHistory``, uninstall).

Reads (history, status, values) go straight to the storage namespace, so a run that changes
nothing moves nothing. A process stopping between 1 and 3 leaves the records in the release
namespace; the next action stages around them and unstages everything. :meth:`adopt` moves
the records when the storage namespace of a release changes (weir before this change kept
them in the release namespace).

Both namespaces are accessed as the release's identity (``spec.serviceAccountName``): like
Flux's, it needs ``secrets`` access in the storage namespace.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kube
from weir.kube.errors import AlreadyExistsError, ApiError, NotFoundError
from weir.kube.informer import list_all
from weir.kube.resources import SECRETS
from weir.log import kv
from weir.runtime.result import ReconcileError
from weir.types import Obj

log = logging.getLogger("weir.helm.storage")

RELEASE_TYPE = "helm.sh/release.v1"
STORAGE_FAILED = "StorageFailed"


class ReleaseStorage(Protocol):
    """Where a release's records live, and moving them (a port: unit tests pass a fake)."""

    def staged(
        self, api: ApiClient, name: str, release_ns: str, storage_ns: str
    ) -> AbstractAsyncContextManager[None]:
        """Records in the release namespace for the duration of a Helm write action."""

    async def adopt(self, api: ApiClient, name: str, from_ns: str, to_ns: str) -> bool:
        """Move the records from ``from_ns`` to ``to_ns`` when ``to_ns`` has none."""


def _copy(secret: Obj, namespace: str) -> Obj:
    meta = secret.get("metadata") or {}
    out_meta: Obj = {"name": meta["name"], "namespace": namespace}
    for field in ("labels", "annotations"):
        if meta.get(field):
            out_meta[field] = dict(meta[field])
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": out_meta,
        "type": secret.get("type") or RELEASE_TYPE,
        "data": dict(secret.get("data") or {}),
    }


class SecretsStorage:
    """:class:`ReleaseStorage` over Helm's Secrets storage driver (see the module docstring)."""

    async def records(self, api: ApiClient, name: str, namespace: str) -> list[Obj]:
        """The storage Secrets of release ``name`` in ``namespace``."""
        items, _ = await list_all(
            api, SECRETS, namespace=namespace, label_selector=f"owner=helm,name={name}"
        )
        return [s for s in items if s.get("type", RELEASE_TYPE) == RELEASE_TYPE]

    async def _put(self, api: ApiClient, secret: Obj, namespace: str) -> None:
        body = _copy(secret, namespace)
        try:
            await kube.create(api, SECRETS, body)
        except AlreadyExistsError:
            live = await kube.get(api, SECRETS, namespace, body["metadata"]["name"])
            body["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
            await kube.replace(api, SECRETS, body)

    async def _delete(self, api: ApiClient, secret: Obj) -> None:
        meta = secret["metadata"]
        with contextlib.suppress(NotFoundError):
            await kube.delete(
                api, SECRETS, meta["namespace"], meta["name"], uid=meta.get("uid"), missing_ok=True
            )

    async def _move(self, api: ApiClient, records: list[Obj], to_ns: str) -> None:
        for secret in records:
            await self._put(api, secret, to_ns)
        for secret in records:
            await self._delete(api, secret)

    @contextlib.asynccontextmanager
    async def staged(
        self, api: ApiClient, name: str, release_ns: str, storage_ns: str
    ) -> AsyncIterator[None]:
        if release_ns == storage_ns:
            yield
            return
        try:
            stored = await self.records(api, name, storage_ns)
            present = {s["metadata"]["name"] for s in await self.records(api, name, release_ns)}
            for secret in stored:
                if secret["metadata"]["name"] not in present:
                    await self._put(api, secret, release_ns)
        except ApiError as e:
            raise _failed("copy", name, storage_ns, release_ns, e) from e
        known = present | {s["metadata"]["name"] for s in stored}
        failed = True
        try:
            yield
            failed = False
        finally:
            try:
                await self._unstage(api, name, release_ns, storage_ns, known)
            except ApiError as e:
                if not failed:  # do not hide the action's own error
                    raise _failed("move", name, release_ns, storage_ns, e) from e
                log.warning(
                    "cannot move the release records back to the storage namespace; the next "
                    "action will",
                    extra=kv(release=name, namespace=release_ns, storage=storage_ns, error=str(e)),
                )

    async def _unstage(
        self, api: ApiClient, name: str, release_ns: str, storage_ns: str, known: set[str]
    ) -> None:
        now = await self.records(api, name, release_ns)
        await self._move(api, now, storage_ns)
        gone = known - {s["metadata"]["name"] for s in now}
        for secret in await self.records(api, name, storage_ns):
            if secret["metadata"]["name"] in gone:
                await self._delete(api, secret)

    async def adopt(self, api: ApiClient, name: str, from_ns: str, to_ns: str) -> bool:
        if from_ns == to_ns:
            return False
        try:
            old = await self.records(api, name, from_ns)
            if not old or await self.records(api, name, to_ns):
                return False
            await self._move(api, old, to_ns)
        except ApiError as e:
            raise _failed("move", name, from_ns, to_ns, e) from e
        log.info(
            "moved the release records to the storage namespace",
            extra=kv(release=name, source=from_ns, storage=to_ns, records=len(old)),
        )
        return True


def _failed(verb: str, name: str, src: str, dest: str, err: ApiError) -> ReconcileError:
    return ReconcileError(
        STORAGE_FAILED,
        f"cannot {verb} the Helm records of release {name} from namespace {src!r} to {dest!r}: "
        f"{err}; the release's identity needs access to Secrets in both namespaces",
    )
