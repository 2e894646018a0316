"""Polling helpers for tests that wait on objects in the API server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.resources import ResourceRef
from weir.types import Obj


async def wait_for(
    api: ApiClient,
    resource: ResourceRef,
    ns: str | None,
    name: str,
    check: Callable[[Obj], bool],
    what: str,
    timeout: float = 60.0,
) -> Obj:
    """Poll the object until ``check`` passes; fail with ``what`` and its last status."""
    deadline = time.monotonic() + timeout
    last: Obj | None = None
    while True:
        try:
            last = await kapi.get(api, resource, ns, name)
            if check(last):
                return last
        except NotFoundError:
            last = None
        if time.monotonic() > deadline:
            status = (last or {}).get("status")
            raise AssertionError(f"timed out waiting for {what}; last status: {status}")
        await asyncio.sleep(0.1)
