"""Where the notification controller hears about events: a watch on core/v1 Events.

weir's controllers record core/v1 Events with Flux's metadata in the Event's annotations
(``<group>/revision``, ``<group>/originRevision``, ``<group>/token``, ...), and so do Flux's
own controllers, the web UI's and the MCP server's audited actions. Watching them (ADR 0008)
reaches the notification controller from any process — a sharded ``weir run``, ``weir mcp``,
Flux's controllers — without anyone having to know where it runs, and the controllers never
wait for it.

The watch does not cache: it asks for the current resourceVersion (a one-item list) and
watches from there, so Events older than the start are never re-sent. ``EventRecorder``
aggregates a repeated Event by bumping its ``count``; a higher count is a new occurrence.
Only Events about the kinds an Alert can select (:data:`SOURCE_KINDS`) are passed on.
When the watch expires (``410``), it starts again from the current version: Events in the gap
are not sent (the same as notification-controller being unreachable for Flux's controllers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, get_args

import aiohttp
import orjson
from kubernetes_asyncio.client import ApiClient

from weir.api.notification import EventSourceKind
from weir.kube import transport
from weir.kube.errors import GoneError, error_for_status
from weir.kube.events import EVENTS
from weir.log import kv
from weir.notification.event import FluxEvent

log = logging.getLogger("weir.notification")

Obj = dict[str, Any]
SOURCE_KINDS = frozenset(get_args(EventSourceKind))
WATCH_TIMEOUT = (240, 420)
MAX_TRACKED = 8192


class CoreEventSource:
    """Calls ``on_event`` with each new occurrence of an Event about a Flux object."""

    def __init__(
        self,
        api: ApiClient,
        on_event: Callable[[FluxEvent], None],
        *,
        namespace: str | None = None,
        kinds: frozenset[str] = SOURCE_KINDS,
    ) -> None:
        self.api = api
        self.on_event = on_event
        self.namespace = namespace
        self.kinds = kinds
        self._rv = ""
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self.watching = asyncio.Event()
        """Set while a watch is open (tests wait for it before emitting Events)."""

    async def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="notification/events")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.watching.clear()

    async def _run(self) -> None:
        delay = 0.25
        while True:
            try:
                if not self._rv:
                    self._rv = await self._current_version()
                await self._watch()
                delay = 0.25
            except GoneError:
                log.warning("the Event watch expired; events meanwhile were not sent")
                self._rv = ""
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.watching.clear()
                log.warning("watching Events failed, retrying", extra=kv(error=str(e)))
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 10.0)

    async def _current_version(self) -> str:
        body = await transport.request(
            self.api, "GET", EVENTS.path(self.namespace), params={"limit": 1}
        )
        return str((body.get("metadata") or {}).get("resourceVersion") or "")

    async def _watch(self) -> None:
        seconds = random.randint(*WATCH_TIMEOUT)
        params: transport.Params = {
            "watch": True,
            "resourceVersion": self._rv,
            "allowWatchBookmarks": True,
            "timeoutSeconds": seconds,
        }
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=seconds + 30)
        path = EVENTS.path(self.namespace)
        async with transport.open_response(
            self.api, "GET", path, params=params, request_timeout=timeout
        ) as resp:
            self.watching.set()
            async for line in transport.iter_lines(resp.content.iter_any()):
                self._on_watch_event(path, orjson.loads(line))
        self.watching.clear()

    def _on_watch_event(self, path: str, event: dict[str, Any]) -> None:
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            raise error_for_status("WATCH", path, obj)
        self._rv = str((obj.get("metadata") or {}).get("resourceVersion") or self._rv)
        if kind not in ("ADDED", "MODIFIED"):
            return
        if not self._new_occurrence(obj):
            return
        if (obj.get("involvedObject") or {}).get("kind") not in self.kinds:
            return
        flux_event = FluxEvent.from_core_event(obj)
        if flux_event is None:
            return
        try:
            self.on_event(flux_event)
        except Exception:
            log.exception("handling an event failed")

    def _new_occurrence(self, obj: Obj) -> bool:
        meta = obj.get("metadata") or {}
        key = str(meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}")
        count = int(obj.get("count") or 1)
        seen = self._counts.get(key)
        self._counts[key] = count
        self._counts.move_to_end(key)
        while len(self._counts) > MAX_TRACKED:
            self._counts.popitem(last=False)
        return seen is None or count > seen
