"""The drift check's shared LIST against the real API server: checks waiting at the same time
share one request (metadata only, paginated), each gets exactly its own objects with their
resourceVersions, and a check never uses a LIST that started before its run's trigger (so a
change made before the trigger is seen)."""

from __future__ import annotations

import asyncio

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kapi
from weir.kube.inventory import owner_labels
from weir.kube.resources import CONFIG_MAPS
from weir.kustomize.unchanged import OwnedLister, Versions, list_versions
from weir.runtime.trigger import Trigger, stamp

MANAGER = "weir-test"


async def make(api: ApiClient, ns: str, name: str, owner: str, owner_ns: str) -> str:
    made = await kapi.apply(
        api,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns, "labels": owner_labels(owner, owner_ns)},
            "data": {"v": "1"},
        },
        MANAGER,
    )
    return str(made["metadata"]["resourceVersion"])


def names(versions: Versions) -> list[str]:
    return sorted(versions)


async def test_concurrent_checks_share_one_list_and_get_their_own_objects(
    kube: ApiClient, namespace: str
) -> None:
    ns = namespace
    made = {}
    for name, owner, owner_ns in (
        ("a1", "a", ns),
        ("a2", "a", ns),
        ("b1", "b", ns),
        ("c1", "c", ns),
        ("other-a", "a", "elsewhere"),  # same name, another namespace's Kustomization
    ):
        made[name, owner_ns] = await make(kube, ns, name, owner, owner_ns)
    lister = OwnedLister()
    a, b, c = await asyncio.gather(
        lister.owned(kube, CONFIG_MAPS, ns, "a", ns),
        lister.owned(kube, CONFIG_MAPS, ns, "b", ns),
        lister.owned(kube, CONFIG_MAPS, ns, "c", ns),
    )
    assert lister.lists == 1
    assert (names(a), names(b), names(c)) == (["a1", "a2"], ["b1"], ["c1"])
    assert a == {"a1": made["a1", ns], "a2": made["a2", ns]}
    assert names(await lister.owned(kube, CONFIG_MAPS, ns, "nobody", ns)) == []
    assert lister.lists == 2


async def test_a_check_never_uses_a_list_that_started_before_its_trigger(
    kube: ApiClient, namespace: str
) -> None:
    ns = namespace
    await make(kube, ns, "a1", "a", ns)
    lister = OwnedLister()
    early = Trigger(stamp(), lambda: [f"{ns}/a", f"{ns}/b"])
    first = await lister.owned(kube, CONFIG_MAPS, ns, "b", ns, trigger=early)
    assert first == {}
    assert lister.held() == 1  # the LIST made for b holds a (queued when it started)
    await make(kube, ns, "a2", "a", ns)  # a change, then a's trigger
    late = Trigger(stamp())
    assert names(await lister.owned(kube, CONFIG_MAPS, ns, "a", ns, trigger=late)) == ["a1", "a2"]
    assert lister.lists == 2


async def test_a_list_that_started_after_the_trigger_is_reused(
    kube: ApiClient, namespace: str
) -> None:
    ns = namespace
    await make(kube, ns, "a1", "a", ns)
    triggered = Trigger(stamp(), lambda: [f"{ns}/a", f"{ns}/b"])
    lister = OwnedLister()
    await make(kube, ns, "b1", "b", ns)  # made after a's trigger: the LIST may show it
    assert names(await lister.owned(kube, CONFIG_MAPS, ns, "b", ns, trigger=triggered)) == ["b1"]
    assert names(await lister.owned(kube, CONFIG_MAPS, ns, "a", ns, trigger=triggered)) == ["a1"]
    assert lister.lists == 1
    assert lister.held() == 0


async def test_many_owners_are_listed_by_the_label_and_paginated(
    kube: ApiClient, namespace: str
) -> None:
    ns = namespace
    owners = frozenset(f"o{i}" for i in range(150))  # above IN_SELECTOR_MAX: label exists
    for name, owner, owner_ns in (
        ("x1", "o1", ns),
        ("x2", "o1", ns),
        ("x3", "o2", ns),
        ("y1", "unwanted", ns),
        ("z1", "o1", "elsewhere"),
    ):
        await make(kube, ns, name, owner, owner_ns)
    found = await list_versions(kube, CONFIG_MAPS, ns, ns, owners, page_size=1)
    assert set(found) == owners
    assert (names(found["o1"]), names(found["o2"])) == (["x1", "x2"], ["x3"])
    assert sum(len(v) for v in found.values()) == 3
