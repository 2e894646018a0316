"""A shared informer: an in-memory cache of one resource, kept current by LIST + WATCH.

The loop: a paginated LIST (``limit``/``continue``), then a WATCH from the list's
resourceVersion with bookmarks. A watch that ends normally (server timeout) is resumed from the
last resourceVersion seen; ``410 Gone`` (expired resourceVersion) means an immediate relist;
connection and server errors mean a relist after an exponential backoff. A relist is diffed
against the cache, so handlers see exactly the changes they missed (ADDED, MODIFIED for a
changed resourceVersion, DELETED for vanished objects) and nothing twice.

Handlers run synchronously in the informer's task, in event order; they must not block (hand
work to a queue). Cached objects are shared dicts: treat them as read-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import aiohttp
import orjson
from kubernetes_asyncio.client import ApiClient

from weir.errors import KubeError
from weir.kube import transport
from weir.kube.errors import GoneError, SyncTimeoutError, error_for_status
from weir.kube.indexers import index_by_label, index_by_source_ref
from weir.kube.resources import ResourceRef
from weir.kube.store import Indexer, ObjList, Store, make_key, resource_version
from weir.log import kv
from weir.types import Obj

__all__ = ["Informer", "index_by_label", "index_by_source_ref", "list_all"]

log = logging.getLogger(__name__)

Handler = Callable[[str, Obj], None]
Transform = Callable[[Obj], Obj]

PAGE_SIZE = 500
LIST_TIMEOUT = 60.0
WATCH_TIMEOUT = (300, 600)  # server-side watch timeout, seconds, randomised like client-go
BACKOFF_INITIAL, BACKOFF_MAX = 0.25, 10.0


def strip_managed_fields(obj: Obj) -> Obj:
    """A transform dropping ``metadata.managedFields`` (often more than half of an object)."""
    (obj.get("metadata") or {}).pop("managedFields", None)
    return obj


async def list_pages(
    api: ApiClient,
    resource: ResourceRef,
    *,
    namespace: str | None = None,
    label_selector: str | None = None,
    page_size: int = PAGE_SIZE,
    accept: str | None = None,
) -> AsyncIterator[tuple[bool, Obj]]:
    """The pages of one consistent, paginated LIST of ``resource``, each with ``first``: True
    for the first page of a snapshot. When the continue token expires part-way (410 Gone), the
    LIST starts over from a new snapshot (twice at most): on a new ``first`` the caller drops
    what it kept from the earlier pages. ``accept`` asks for another representation (e.g.
    :data:`~weir.kube.transport.METADATA_LIST`)."""
    path = resource.path(namespace)
    token: str | None = None
    restarts = 0
    while True:
        params: transport.Params = {
            "limit": page_size,
            "continue": token,
            "labelSelector": label_selector,
        }
        try:
            body = await transport.request(
                api, "GET", path, params=params, request_timeout=LIST_TIMEOUT, accept=accept
            )
        except GoneError:
            if token is None or restarts >= 2:
                raise
            restarts += 1  # the continue token expired: start over from a new snapshot
            token = None
            continue
        yield token is None, body
        token = (body.get("metadata") or {}).get("continue") or None
        if token is None:
            return


async def list_all(
    api: ApiClient,
    resource: ResourceRef,
    *,
    namespace: str | None = None,
    label_selector: str | None = None,
    page_size: int = PAGE_SIZE,
) -> tuple[list[Obj], str]:
    """All objects of ``resource`` (paginated, one consistent snapshot) and the list's
    resourceVersion. Items get ``apiVersion``/``kind``, which list responses omit."""
    items: list[Obj] = []
    version = ""
    async for first, body in list_pages(
        api, resource, namespace=namespace, label_selector=label_selector, page_size=page_size
    ):
        if first:
            items = []
        api_version = body.get("apiVersion") or resource.api_version
        kind = resource.kind or str(body.get("kind", "")).removesuffix("List")
        for item in body.get("items") or []:
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
            items.append(item)
        version = str((body.get("metadata") or {}).get("resourceVersion", ""))
    return items, version


class _Backoff:
    def __init__(self) -> None:
        self._delay = BACKOFF_INITIAL

    def reset(self) -> None:
        self._delay = BACKOFF_INITIAL

    def next(self) -> float:
        delay = self._delay * random.uniform(0.8, 1.2)
        self._delay = min(self._delay * 2, BACKOFF_MAX)
        return delay


class Informer:
    """A cache of one resource (optionally one namespace / label selector) with indexes and
    event handlers. Built-in index ``"namespace"``; more through ``indexers``."""

    def __init__(
        self,
        api: ApiClient,
        resource: ResourceRef,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        indexers: Mapping[str, Indexer] | None = None,
        transform: Transform | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.api = api
        self.resource = resource
        self.namespace = namespace if resource.namespaced else None
        self.label_selector = label_selector
        self._transform = transform
        self._page_size = page_size
        self._store = Store(indexers)
        self._handlers: list[Handler] = []
        self._synced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._rv = ""
        self._backoff = _Backoff()
        self.last_error: Exception | None = None
        self.list_count = 0  # LIST rounds done: 1 after the initial sync, +1 per relist

    def __repr__(self) -> str:
        scope = f" ns={self.namespace}" if self.namespace else ""
        sel = f" selector={self.label_selector}" if self.label_selector else ""
        return f"<Informer {self.resource.plural}.{self.resource.api_version}{scope}{sel}>"

    # ----------------------------------------------------------------------------- reading
    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    @property
    def resource_version(self) -> str:
        """The last resourceVersion seen (from a list, an event or a bookmark)."""
        return self._rv

    def get(self, namespace: str | None, name: str) -> Obj | None:
        return self._store.get(make_key(namespace, name))

    def list(self, namespace: str | None = None) -> ObjList:
        return self._store.list(namespace)

    def by_index(self, index: str, value: str) -> ObjList:
        return self._store.by_index(index, value)

    # ----------------------------------------------------------------------------- lifecycle
    def add_indexer(self, name: str, indexer: Indexer) -> None:
        """Add an index to a shared informer (a no-op when one of that name exists)."""
        self._store.add_indexer(name, indexer)

    def add_handler(self, handler: Handler) -> None:
        """Register ``handler(event_type, obj)``. A handler added after objects are cached is
        first called with ADDED for each of them, so it sees the same stream as the others."""
        self._handlers.append(handler)
        for obj in list(self._store.items()):
            self._call(handler, "ADDED", obj)

    async def start(self) -> None:
        """Start the list/watch task. After :meth:`stop`, a new start resumes from the last
        resourceVersion seen, so handlers get exactly the changes made in between."""
        if self._task is not None and not self._task.done():
            return
        name = f"informer/{self.resource.plural}.{self.resource.group or 'core'}"
        self._task = asyncio.create_task(self._run(), name=name)

    async def wait_synced(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until the first list is in the cache; raises :class:`SyncTimeoutError`."""
        if self._synced.is_set():
            return
        if self._task is None:
            raise KubeError(f"{self!r} was never started: call start() before wait_synced()")
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except TimeoutError as e:
            raise SyncTimeoutError(
                f"{self!r} did not sync within {timeout}s (last error: {self.last_error}); "
                "check that the API server is reachable and the resource is served"
            ) from e

    async def stop(self) -> None:
        """Stop the task. The cache stays readable but is no longer kept current."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._synced.clear()

    # ----------------------------------------------------------------------------- the loop
    async def _run(self) -> None:
        need_list = not self._rv
        if not need_list:  # resuming after stop(): the cache is complete as of self._rv
            self._synced.set()
        while True:
            try:
                if need_list:
                    await self._list()
                    need_list = False
                if not await self._watch():
                    await asyncio.sleep(self._backoff.next())
            except GoneError:
                log.info("resourceVersion expired, relisting", extra=kv(informer=repr(self)))
                need_list = True
            except Exception as e:  # the loop must survive anything
                self.last_error = e
                if isinstance(e, KubeError):
                    log.warning("list/watch failed, will relist: %s", e, extra=kv(**self._extra()))
                else:
                    log.exception("informer loop failed, will relist", extra=kv(**self._extra()))
                need_list = True
                await asyncio.sleep(self._backoff.next())

    async def _list(self) -> None:
        items, rv = await list_all(
            self.api,
            self.resource,
            namespace=self.namespace,
            label_selector=self.label_selector,
            page_size=self._page_size,
        )
        if self._transform is not None:
            items = [self._transform(obj) for obj in items]
        events = self._store.replace(items)
        self._rv = rv
        self.list_count += 1
        self.last_error = None
        log.debug("listed", extra=kv(**self._extra(), count=len(items), changes=len(events)))
        for event_type, obj in events:
            self._dispatch(event_type, obj)
        self._synced.set()

    async def _watch(self) -> bool:
        """Watch from the last resourceVersion until the server ends the stream. Returns False
        when it ended at once without any event (then the caller backs off)."""
        seconds = random.randint(*WATCH_TIMEOUT)
        params: transport.Params = {
            "watch": True,
            "resourceVersion": self._rv,
            "allowWatchBookmarks": True,
            "timeoutSeconds": seconds,
            "labelSelector": self.label_selector,
        }
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=seconds + 30)
        path = self.resource.path(self.namespace)
        started, events = time.monotonic(), 0
        async with transport.open_response(
            self.api, "GET", path, params=params, request_timeout=timeout
        ) as resp:
            self._backoff.reset()
            async for line in transport.iter_lines(resp.content.iter_any()):
                self._on_watch_event(path, orjson.loads(line))
                events += 1
        return events > 0 or time.monotonic() - started > 1.0

    def _on_watch_event(self, path: str, event: dict[str, Any]) -> None:
        event_type, obj = event.get("type"), event.get("object") or {}
        if event_type == "ERROR":
            raise error_for_status("WATCH", path, obj)
        if event_type == "BOOKMARK":
            self._rv = resource_version(obj) or self._rv
            return
        if event_type not in ("ADDED", "MODIFIED", "DELETED"):
            log.warning(
                "unknown watch event type %r ignored", event_type, extra=kv(**self._extra())
            )
            return
        if self._transform is not None:
            obj = self._transform(obj)
        change = self._store.apply_event(event_type, obj)
        self._rv = resource_version(obj) or self._rv
        if change is not None:
            self._dispatch(*change)

    def _dispatch(self, event_type: str, obj: Obj) -> None:
        for handler in self._handlers:
            self._call(handler, event_type, obj)

    def _call(self, handler: Handler, event_type: str, obj: Obj) -> None:
        try:
            handler(event_type, obj)
        except Exception:
            log.exception("informer handler failed", extra=kv(**self._extra()))

    def _extra(self) -> dict[str, Any]:
        return {"resource": self.resource.plural, "group": self.resource.group}
