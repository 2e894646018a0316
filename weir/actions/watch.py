"""Following one object as it changes: a list + watch with a field selector on its name.

Used to wait for a controller without polling: every change of the object arrives as a watch
event. A watch that ends is resumed from the last resourceVersion; an expired one (410) starts
again with a fresh list.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import aiohttp
import orjson
from kubernetes_asyncio.client import ApiClient

from weir.actions.errors import ObjectNotFoundError
from weir.kube import transport
from weir.kube.errors import GoneError, error_for_status
from weir.kube.resources import ResourceRef
from weir.types import Obj

WATCH_SECONDS = 60


async def follow(
    api: ApiClient, resource: ResourceRef, namespace: str | None, name: str
) -> AsyncGenerator[Obj, None]:
    """Yield the object now, then again at every change. Raises
    :class:`~weir.actions.errors.ObjectNotFoundError` when it does not exist or is deleted."""
    selector = f"metadata.name={name}"
    path = resource.path(namespace)
    rv = ""
    while True:
        if not rv:
            body = await transport.request(
                api, "GET", path, params={"fieldSelector": selector, "limit": 1}
            )
            items = body.get("items") or []
            if not items:
                raise ObjectNotFoundError(
                    f"{resource.kind or resource.plural} {namespace}/{name} does not exist "
                    "(was it deleted?)"
                )
            rv = str((body.get("metadata") or {}).get("resourceVersion", ""))
            yield items[0]
        params: transport.Params = {
            "watch": True,
            "fieldSelector": selector,
            "resourceVersion": rv,
            "allowWatchBookmarks": True,
            "timeoutSeconds": WATCH_SECONDS,
        }
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=WATCH_SECONDS + 30)
        try:
            async with transport.open_response(
                api, "GET", path, params=params, request_timeout=timeout
            ) as resp:
                async for line in transport.iter_lines(resp.content.iter_any()):
                    event = orjson.loads(line)
                    event_type, obj = event.get("type"), event.get("object") or {}
                    if event_type == "ERROR":
                        raise error_for_status("WATCH", path, obj)
                    rv = str((obj.get("metadata") or {}).get("resourceVersion", "")) or rv
                    if event_type == "DELETED":
                        raise ObjectNotFoundError(
                            f"{resource.kind or resource.plural} {namespace}/{name} "
                            "was deleted while waiting"
                        )
                    if event_type in ("ADDED", "MODIFIED"):
                        yield obj
        except GoneError:
            rv = ""
