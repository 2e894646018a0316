"""The drift check's shared LIST against the real API server: checks waiting at the same time
share one request, each gets exactly its own objects, and a check never joins a LIST that
started before it (so a change made before the check is seen)."""

from __future__ import annotations

import asyncio

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kapi
from weir.kube.inventory import owner_labels
from weir.kube.resources import CONFIG_MAPS
from weir.kustomize.unchanged import OwnedLister

MANAGER = "weir-test"


async def make(api: ApiClient, ns: str, name: str, owner: str, owner_ns: str) -> None:
    await kapi.apply(
        api,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns, "labels": owner_labels(owner, owner_ns)},
            "data": {"v": "1"},
        },
        MANAGER,
    )


def names(items: list[dict[str, dict[str, str]]]) -> list[str]:
    return sorted(i["metadata"]["name"] for i in items)


async def test_concurrent_checks_share_one_list_and_get_their_own_objects(
    kube: ApiClient, namespace: str
) -> None:
    ns = namespace
    for name, owner, owner_ns in (
        ("a1", "a", ns),
        ("a2", "a", ns),
        ("b1", "b", ns),
        ("c1", "c", ns),
        ("other-a", "a", "elsewhere"),  # same name, another namespace's Kustomization
    ):
        await make(kube, ns, name, owner, owner_ns)
    lister = OwnedLister()
    a, b, c = await asyncio.gather(
        lister.owned(kube, CONFIG_MAPS, ns, "a", ns),
        lister.owned(kube, CONFIG_MAPS, ns, "b", ns),
        lister.owned(kube, CONFIG_MAPS, ns, "c", ns),
    )
    assert lister.lists == 1
    assert (names(a), names(b), names(c)) == (["a1", "a2"], ["b1"], ["c1"])
    assert names(await lister.owned(kube, CONFIG_MAPS, ns, "nobody", ns)) == []
    assert lister.lists == 2


async def test_a_check_waits_for_a_list_that_starts_after_it(
    kube: ApiClient, namespace: str
) -> None:
    ns = namespace
    await make(kube, ns, "a1", "a", ns)
    lister = OwnedLister()
    first = asyncio.create_task(lister.owned(kube, CONFIG_MAPS, ns, "a", ns))
    await asyncio.sleep(0)  # the first LIST starts
    await asyncio.sleep(0)
    await make(kube, ns, "a2", "a", ns)  # a change the first LIST may or may not see
    second = await lister.owned(kube, CONFIG_MAPS, ns, "a", ns)
    assert names(second) == ["a1", "a2"], "the second check saw the change made before it"
    assert names(await first) in (["a1"], ["a1", "a2"])
    assert lister.lists == 2
