"""Installing weir's CRDs into a cluster (``make up``, ``weir check``, the test fixtures)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.api.crds import generate
from weir.kube import apply as kube
from weir.kube import transport
from weir.kube.errors import ApiError
from weir.kube.resources import ResourceRef
from weir.runtime import conditions

CRDS = ResourceRef(
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", False, "CustomResourceDefinition"
)
FIELD_MANAGER = "weir"


async def install_crds(api: ApiClient, timeout: float = 60.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
    """Server-side apply every generated CRD (forced: weir owns them) and wait until each is
    Established. Returns the CRDs."""
    crds = generate()
    await asyncio.gather(*(kube.apply(api, crd, FIELD_MANAGER, force=True) for crd in crds))
    await wait_established(api, crds, timeout)
    return crds


async def wait_served(api: ApiClient, timeout: float = 60.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
    """Wait until every generated CRD (installed by someone else: Helm, ``weir install``) is
    Established and its objects can be listed: a CRD just created answers 429 ``storage is
    (re)initializing`` for a moment, which controllers starting then would log as warnings."""
    crds = generate()
    await wait_established(api, crds, timeout)
    deadline = time.monotonic() + timeout
    for crd in crds:
        spec = crd["spec"]
        version = next(v["name"] for v in spec["versions"] if v.get("storage"))
        ref = ResourceRef(
            spec["group"],
            version,
            spec["names"]["plural"],
            spec["scope"] == "Namespaced",
            spec["names"]["kind"],
        )
        while True:
            try:
                await transport.request(api, "GET", ref.path(None), params={"limit": 1})
                break
            except ApiError as e:
                if e.code != 429 or time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
    return crds


async def wait_established(
    api: ApiClient,
    crds: list[dict[str, Any]],
    timeout: float = 60.0,  # noqa: ASYNC109
) -> None:
    """Wait until each of ``crds`` is Established (raises ``TimeoutError``)."""
    deadline = time.monotonic() + timeout
    pending = [crd["metadata"]["name"] for crd in crds]
    while pending:
        live = [await kube.get(api, CRDS, None, name) for name in pending]
        pending = [o["metadata"]["name"] for o in live if not conditions.is_true(o, "Established")]
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"CRDs not Established after {timeout:.0f}s: {', '.join(pending)}")
        if pending:
            await asyncio.sleep(0.1)
