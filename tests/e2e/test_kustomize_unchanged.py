"""No-op runs cost nothing, and drift is still caught: a Kustomization whose inputs, spec and
applied objects did not change is neither built nor applied; an object edited or deleted before
the run's trigger (even when the drift check reuses a LIST made for another Kustomization's
run), or a change under its path, makes the next run a full one. A new commit queues the
Kustomization it touches ahead of the others, and its tree is the previous one updated."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import wait_for
from weir.api.kinds import lookup
from weir.kube import apply as kapi
from weir.kube.informer import Informer
from weir.kube.resources import CONFIG_MAPS
from weir.kustomize.reconciler import KustomizationReconciler
from weir.runtime import conditions
from weir.runtime.manager import Manager
from weir.testing.gitrepo import GitRepoFixture
from weir.types import Obj

KS = lookup("Kustomization").resource
MANAGER = "weir-e2e"


def reconciler(manager: Manager) -> KustomizationReconciler:
    found = [
        c.reconciler
        for c in manager.controllers
        if isinstance(c.reconciler, KustomizationReconciler)
    ]
    assert found
    return found[0]


def cm(name: str, value: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v: '{value}'\n"


def handled(token: str, sha: str) -> Callable[[Obj], bool]:
    def check(obj: Obj) -> bool:
        status = obj.get("status") or {}
        return (
            status.get("lastHandledReconcileAt") == token
            and conditions.is_true(obj, "Ready")
            and sha in str(status.get("lastAppliedRevision"))
        )

    return check


async def request(api: ApiClient, ns: str, name: str, token: str) -> None:
    await kapi.patch(
        api, KS, ns, name, {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": token}}}
    )


async def test_noop_is_skipped_and_drift_is_still_corrected(
    kube: ApiClient, namespace: str, git_repo: GitRepoFixture, controllers: Manager
) -> None:
    api, ns = kube, namespace
    ks = reconciler(controllers)
    sha = git_repo.commit(
        {"a/cm.yaml": cm("a", "1"), "b/cm.yaml": cm("b", "1"), "README.md": "x"}, "first"
    )
    await kapi.apply(
        api,
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "fleet", "namespace": ns},
            "spec": {"url": git_repo.url, "interval": "1h", "ref": {"branch": "master"}},
        },
        MANAGER,
    )
    for name in ("a", "b"):
        await kapi.apply(
            api,
            {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": name, "namespace": ns},
                "spec": {
                    "interval": "1h",
                    "prune": True,
                    "path": f"./{name}",
                    "targetNamespace": ns,
                    "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                },
            },
            MANAGER,
        )
    for name in ("a", "b"):
        await wait_for(api, KS, ns, name, handled_any(sha), f"{name} applied")
    key_a, key_b = f"{ns}/a", f"{ns}/b"
    builds_a = ks.builds_by_key[key_a]

    # a forced reconcile with nothing changed: no build, no apply, one status write (no
    # Reconciling in between: the outcome and lastHandledReconcileAt in one patch)
    statuses: list[Obj] = []

    def seen(event_type: str, obj: Obj) -> None:
        status = obj.get("status") or {}
        if obj["metadata"]["name"] == "a" and (not statuses or statuses[-1] != status):
            statuses.append(status)

    watch = Informer(api, KS, namespace=ns)
    watch.add_handler(seen)
    await watch.start()
    try:
        await watch.wait_synced(timeout=30)
        await request(api, ns, "a", "noop-1")
        await wait_for(api, KS, ns, "a", handled("noop-1", sha), "no-op handled")
        await asyncio.sleep(0.5)  # a later write would show by now
    finally:
        await watch.stop()
    assert len(statuses) == 2, f"one status write, saw {len(statuses) - 1}: {statuses[1:]}"
    assert statuses[1]["lastHandledReconcileAt"] == "noop-1"
    assert statuses[1]["conditions"] == statuses[0]["conditions"], "Ready did not flap"
    assert ks.builds_by_key[key_a] == builds_a
    assert ks.skips_by_key[key_a] >= 1
    live = await kapi.get(api, CONFIG_MAPS, ns, "a")

    # drift: someone edits the object -> the next run applies again
    await kapi.patch(api, CONFIG_MAPS, ns, "a", {"data": {"v": "tampered"}})
    await request(api, ns, "a", "drift-1")
    await wait_for(api, KS, ns, "a", handled("drift-1", sha), "drift handled")
    restored = await kapi.get(api, CONFIG_MAPS, ns, "a")
    assert restored["data"] == {"v": "1"}
    assert restored["metadata"]["resourceVersion"] != live["metadata"]["resourceVersion"]

    # drift: someone deletes the object -> it comes back
    await kapi.delete(api, CONFIG_MAPS, ns, "a")
    await request(api, ns, "a", "drift-2")
    await wait_for(api, KS, ns, "a", handled("drift-2", sha), "deletion handled")
    assert (await kapi.get(api, CONFIG_MAPS, ns, "a"))["data"] == {"v": "1"}

    # drift in a burst: a's object is edited, then a and b are requested together; their checks
    # share LISTs (one made for b may serve a), which must still show the edit
    skips_b, builds_b = ks.skips_by_key[key_b], ks.builds_by_key[key_b]
    await kapi.patch(api, CONFIG_MAPS, ns, "a", {"data": {"v": "tampered"}})
    await asyncio.gather(request(api, ns, "b", "burst"), request(api, ns, "a", "burst"))
    for name in ("a", "b"):
        await wait_for(api, KS, ns, name, handled("burst", sha), f"{name} handled the burst")
    assert (await kapi.get(api, CONFIG_MAPS, ns, "a"))["data"] == {"v": "1"}
    assert ks.skips_by_key[key_b] == skips_b + 1
    assert ks.builds_by_key[key_b] == builds_b

    # a commit touching only b's path (and a file no path reaches): a is not built again, and
    # runs once: the GitRepository showing Reconciling before its new artifact queues nobody
    builds_a, builds_b = ks.builds_by_key[key_a], ks.builds_by_key[key_b]
    skips_a = ks.skips_by_key[key_a]
    promoted, updates = ks.touched.promoted, ks.artifacts.updates
    statuses.clear()
    watch = Informer(api, KS, namespace=ns)
    watch.add_handler(seen)
    await watch.start()
    try:
        await watch.wait_synced(timeout=30)
        sha2 = git_repo.commit({"b/cm.yaml": cm("b", "2"), "README.md": "y"}, "touch b")
        await kapi.patch(
            api,
            lookup("GitRepository").resource,
            ns,
            "fleet",
            {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "push"}}},
        )
        for name in ("a", "b"):
            await wait_for(api, KS, ns, name, handled_any(sha2), f"{name} at the new revision")
        await asyncio.sleep(0.5)  # a later write would show by now
    finally:
        await watch.stop()
    assert ks.builds_by_key[key_a] == builds_a
    assert ks.builds_by_key[key_b] == builds_b + 1
    assert ks.skips_by_key[key_a] == skips_a + 1, "a ran once for the new artifact"
    assert len(statuses) == 2, f"one status write for a, saw {len(statuses) - 1}: {statuses[1:]}"
    assert (await kapi.get(api, CONFIG_MAPS, ns, "b"))["data"] == {"v": "2"}
    # b, the one the commit touched, was queued ahead of a; the new artifact's tree was the
    # previous one updated in place (two files written), not a new extraction
    assert ks.touched.promoted == promoted + 1
    assert ks.artifacts.updates == updates + 1


def handled_any(sha: str) -> Callable[[Obj], bool]:
    def check(obj: Obj) -> bool:
        status = obj.get("status") or {}
        return conditions.is_true(obj, "Ready") and sha in str(status.get("lastAppliedRevision"))

    return check


pytestmark = pytest.mark.usefixtures("controllers")
