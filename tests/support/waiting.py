"""The one way tests wait: poll a condition until it holds, and fail with what was last seen.

- ``eventually(probe, what)``: ``probe`` (sync or async) until it returns something truthy,
  which is returned;
- ``wait_for(api, resource, ns, name, check, what)``: an object in the API server until
  ``check`` passes;
- ``wait_gone(api, resource, ns, name)``: until the object is deleted.

Never a fixed sleep followed by an assertion: a busy machine makes that either slow or flaky,
and "nothing happened" is checked at a moment where it would have happened (see the runtime
tests' ``idle_for``).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.resources import ResourceRef
from weir.types import Obj

T = TypeVar("T")


async def _call(probe: Callable[[], Any]) -> Any:
    value = probe()
    if inspect.isawaitable(value):
        return await value
    return value


@overload
async def eventually(
    probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = ..., every: float = ...
) -> T: ...
@overload
async def eventually(
    probe: Callable[[], T | None], what: str, timeout: float = ..., every: float = ...
) -> T: ...
async def eventually(
    probe: Callable[[], Any],
    what: str,
    timeout: float = 60.0,
    every: float = 0.05,
) -> Any:
    """Call ``probe`` until it returns something truthy and return that; fail after
    ``timeout`` seconds naming ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await _call(probe)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:g}s waiting for {what} (last: {value!r})"
            )
        await asyncio.sleep(every)


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


async def wait_gone(
    api: ApiClient, resource: ResourceRef, ns: str | None, name: str, timeout: float = 60.0
) -> None:
    """Poll until the object is deleted (its finalizers done)."""

    async def gone() -> bool:
        try:
            await kapi.get(api, resource, ns, name)
        except NotFoundError:
            return True
        return False

    await eventually(gone, f"{resource.kind} {ns}/{name} to be deleted", timeout, every=0.1)
