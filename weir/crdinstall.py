"""Installing weir's CRDs into a cluster (``make up``, ``weir check``, the test fixtures)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.api.crds import generate
from weir.kube import apply as kube
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
    deadline = time.monotonic() + timeout
    pending = [crd["metadata"]["name"] for crd in crds]
    while pending:
        live = [await kube.get(api, CRDS, None, name) for name in pending]
        pending = [o["metadata"]["name"] for o in live if not conditions.is_true(o, "Established")]
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"CRDs not Established after {timeout:.0f}s: {', '.join(pending)}")
        if pending:
            await asyncio.sleep(0.1)
    return crds
