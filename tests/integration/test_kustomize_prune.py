"""Garbage collection against the real API server: only objects still labelled as ours, never
the ones that opted out."""

from __future__ import annotations

from kubernetes_asyncio.client import ApiClient

from tests.integration.test_kustomize_apply import CONFIGMAPS, cm
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.inventory import entries_from_objects, stale_entries
from weir.kustomize import metadata as md
from weir.ssa.apply import apply_all
from weir.ssa.prune import prune


async def exists(kube: ApiClient, namespace: str, name: str) -> bool:
    try:
        await kapi.get(kube, CONFIGMAPS, namespace, name)
    except NotFoundError:
        return False
    return True


async def test_prune_deletes_only_what_is_still_ours(kube: ApiClient, namespace: str) -> None:
    names = ("keep", "stale", "adopted", "protected", "gone")
    objects = md.prepare([cm(n, namespace, v="1") for n in names], name="app", namespace=namespace)
    changes = await apply_all(kube, objects)
    old = changes.entries()

    # Someone else took one over (owner labels changed), one opted out, one is gone already.
    await kapi.patch(
        kube,
        CONFIGMAPS,
        namespace,
        "adopted",
        {"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/name": "other"}}},
    )
    await kapi.patch(
        kube,
        CONFIGMAPS,
        namespace,
        "protected",
        {"metadata": {"annotations": {md.PRUNE_KEY: "disabled"}}},
    )
    await kapi.delete(kube, CONFIGMAPS, namespace, "gone")

    new = entries_from_objects([o for o in objects if o["metadata"]["name"] == "keep"])
    stale = stale_entries(old, new)
    assert [e.ref.name for e in stale] == ["stale", "protected", "gone", "adopted"]

    result = await prune(kube, stale, "app", namespace, wait=True, timeout=20)
    assert sorted(e.ref.name for e in result.deleted) == ["gone", "stale"]
    assert sorted(e.ref.name for e in result.skipped) == ["adopted", "protected"]
    assert result.failed == {}
    result.raise_for_failures()
    assert str(result).splitlines() == [
        f"ConfigMap/{namespace}/stale deleted",
        f"ConfigMap/{namespace}/gone deleted",
    ]
    remaining = {n for n in names if await exists(kube, namespace, n)}
    assert remaining == {"keep", "adopted", "protected"}


async def test_prune_of_unknown_kinds_counts_as_deleted(kube: ApiClient, namespace: str) -> None:
    stale = entries_from_objects(
        [{"apiVersion": "gone.weir.dev/v1", "kind": "Thing", "metadata": {"name": "t"}}]
    )
    result = await prune(kube, stale, "app", namespace)
    assert [e.ref.name for e in result.deleted] == ["t"]
