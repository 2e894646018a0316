"""The informer against the real API server: initial sync, events, indexes, selectors, resume
after a stop, and a relist after an expired resourceVersion (410 Gone)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.integration.test_kube_support import (
    FIELD_MANAGER,
    TEST_LABEL,
    configmap,
    ensure_widget_crd,
    widget,
)
from tests.support.waiting import eventually
from weir.kube import apply
from weir.kube.indexers import index_by_label, index_by_source_ref, source_key
from weir.kube.informer import Informer, strip_managed_fields
from weir.kube.resources import ResourceRef

CONFIGMAPS = ResourceRef("", "v1", "configmaps", True, "ConfigMap")


class Recorder:
    """A handler that records (event type, name, resourceVersion)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def __call__(self, event_type: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        self.events.append((event_type, meta["name"], meta["resourceVersion"]))

    def kinds(self) -> list[tuple[str, str]]:
        return [(t, n) for t, n, _ in self.events]


@pytest.fixture
async def informers() -> AsyncIterator[list[Informer]]:
    """Informers a test started, stopped after it."""
    started: list[Informer] = []
    yield started
    for inf in started:
        await inf.stop()


async def put(kube: ApiClient, name: str, namespace: str, **data: str) -> str:
    obj = await apply.apply(kube, configmap(name, namespace, **data), FIELD_MANAGER)
    return str(obj["metadata"]["resourceVersion"])


async def test_initial_sync_then_events(
    kube: ApiClient, namespace: str, informers: list[Informer]
) -> None:
    for name in ("a", "b", "c"):
        await put(kube, name, namespace, v="1")
    inf = Informer(  # paginated list
        kube, CONFIGMAPS, namespace=namespace, page_size=2, label_selector=TEST_LABEL
    )
    informers.append(inf)
    rec = Recorder()
    inf.add_handler(rec)
    await inf.start()
    await inf.wait_synced(timeout=10)
    assert inf.synced
    assert sorted(rec.kinds()) == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c")]
    cached = inf.get(namespace, "a")
    assert cached is not None
    assert (cached["apiVersion"], cached["kind"]) == ("v1", "ConfigMap")  # filled in on list

    rec.events.clear()
    rv_d = await put(kube, "d", namespace, v="1")
    rv_a = await put(kube, "a", namespace, v="2")
    await apply.delete(kube, CONFIGMAPS, namespace, "b")
    await eventually(lambda: len(rec.events) >= 3, what="three watch events")
    assert rec.events[:2] == [("ADDED", "d", rv_d), ("MODIFIED", "a", rv_a)]
    assert rec.kinds()[2] == ("DELETED", "b")
    assert inf.get(namespace, "b") is None
    assert inf.get(namespace, "a")["data"] == {"v": "2"}  # type: ignore[index]
    assert sorted(o["metadata"]["name"] for o in inf.list()) == ["a", "c", "d"]
    assert sorted(o["metadata"]["name"] for o in inf.list(namespace)) == ["a", "c", "d"]
    assert inf.list_count == 1

    # A handler added late is brought up to date with ADDED events.
    late = Recorder()
    inf.add_handler(late)
    assert sorted(late.kinds()) == [("ADDED", "a"), ("ADDED", "c"), ("ADDED", "d")]
    await put(kube, "c", namespace, v="2")
    await eventually(lambda: len(late.events) == 4, what="the late handler's event")
    assert late.kinds()[-1] == ("MODIFIED", "c")
    assert rec.kinds()[-1] == ("MODIFIED", "c")
    assert len(rec.events) == 4


async def test_indexes(kube: ApiClient, namespace: str, informers: list[Informer]) -> None:
    widgets = await ensure_widget_crd(kube)
    ref = {"kind": "GitRepository", "name": "repo"}
    await apply.apply(kube, widget("w1", namespace, sourceRef=ref), FIELD_MANAGER)
    other = {**ref, "namespace": "flux-system"}
    await apply.apply(kube, widget("w2", namespace, sourceRef=other), FIELD_MANAGER)
    inf = Informer(
        kube,
        widgets,
        namespace=namespace,
        indexers={"source": index_by_source_ref},
        transform=strip_managed_fields,
    )
    informers.append(inf)
    await inf.start()
    await inf.wait_synced(timeout=10)
    local = source_key("GitRepository", namespace, "repo")
    assert [o["metadata"]["name"] for o in inf.by_index("source", local)] == ["w1"]
    remote = source_key("GitRepository", "flux-system", "repo")
    assert [o["metadata"]["name"] for o in inf.by_index("source", remote)] == ["w2"]
    assert "managedFields" not in inf.get(namespace, "w1")["metadata"]  # type: ignore[index]

    # Re-pointing w2 moves it between index values.
    await apply.apply(kube, widget("w2", namespace, sourceRef=ref), FIELD_MANAGER)
    await eventually(lambda: len(inf.by_index("source", local)) == 2, what="w2 re-indexed")
    assert inf.by_index("source", remote) == []
    assert len(inf.by_index("namespace", namespace)) == 2


async def test_label_selector(kube: ApiClient, namespace: str, informers: list[Informer]) -> None:
    labelled = configmap("x", namespace)
    labelled["metadata"]["labels"] = {"app": "web"}
    await apply.apply(kube, labelled, FIELD_MANAGER)
    await put(kube, "y", namespace)
    inf = Informer(
        kube,
        CONFIGMAPS,
        namespace=namespace,
        label_selector="app=web",
        indexers={"app": index_by_label("app")},
    )
    informers.append(inf)
    rec = Recorder()
    inf.add_handler(rec)
    await inf.start()
    await inf.wait_synced(timeout=10)
    assert rec.kinds() == [("ADDED", "x")]
    assert [o["metadata"]["name"] for o in inf.by_index("app", "web")] == ["x"]
    labelled["metadata"]["labels"] = {"app": "db"}
    await apply.apply(kube, labelled, FIELD_MANAGER)  # leaves the selection
    await eventually(lambda: len(rec.events) == 2, what="the object leaving the selection")
    assert rec.kinds()[1] == ("DELETED", "x")
    assert inf.list() == []


async def put_widget(kube: ApiClient, name: str, namespace: str, size: int) -> str:
    obj = await apply.apply(kube, widget(name, namespace, size=size), FIELD_MANAGER)
    return str(obj["metadata"]["resourceVersion"])


async def _changes_while_stopped(
    kube: ApiClient, namespace: str, inf: Informer, rec: Recorder
) -> dict[str, str]:
    """Sync widgets a, b, c; stop; then create d, modify a, delete b. Returns the new versions."""
    for name in ("a", "b", "c"):
        await put_widget(kube, name, namespace, 1)
    inf.add_handler(rec)
    await inf.start()
    await inf.wait_synced(timeout=10)
    await eventually(lambda: len(rec.events) == 3, what="the initial ADDED events")
    await inf.stop()
    rec.events.clear()
    rvs = {
        "d": await put_widget(kube, "d", namespace, 1),
        "a": await put_widget(kube, "a", namespace, 2),
    }
    await apply.delete(kube, inf.resource, namespace, "b")
    return rvs


def _assert_exact_changes(rec: Recorder, rvs: dict[str, str]) -> None:
    assert sorted(rec.events[:2]) == sorted([("ADDED", "d", rvs["d"]), ("MODIFIED", "a", rvs["a"])])
    assert rec.kinds()[2] == ("DELETED", "b")
    assert len(rec.events) == 3


async def test_resume_after_stop_replays_exactly_the_changes(
    kube: ApiClient, namespace: str, informers: list[Informer]
) -> None:
    inf = Informer(kube, await ensure_widget_crd(kube), namespace=namespace)
    informers.append(inf)
    rec = Recorder()
    rvs = await _changes_while_stopped(kube, namespace, inf, rec)
    await inf.start()  # resumes the watch from the last resourceVersion: no relist
    await inf.wait_synced(timeout=10)
    await eventually(lambda: len(rec.events) >= 3, what="the missed changes")
    _assert_exact_changes(rec, rvs)
    assert inf.list_count == 1


async def test_expired_resource_version_relists_exactly_the_changes(
    kube: ApiClient, namespace: str, informers: list[Informer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="weir.kube.informer")
    # The Widget CRD was created long after resourceVersion 1, so the API server's watch cache
    # for it cannot serve a watch from there: it answers 410 Gone.
    inf = Informer(kube, await ensure_widget_crd(kube), namespace=namespace)
    informers.append(inf)
    rec = Recorder()
    rvs = await _changes_while_stopped(kube, namespace, inf, rec)
    inf._rv = "1"  # inject an expired resourceVersion
    await inf.start()
    await eventually(lambda: inf.list_count == 2, what="a relist after 410 Gone")
    assert "resourceVersion expired, relisting" in caplog.text
    assert "failed" not in caplog.text  # an expiry is routine, not an error
    _assert_exact_changes(rec, rvs)
    assert sorted(o["metadata"]["name"] for o in inf.list()) == ["a", "c", "d"]

    # And the watch carries on from the relist.
    rv_c = await put_widget(kube, "c", namespace, 2)
    await eventually(lambda: len(rec.events) == 4, what="a watch event after the relist")
    assert rec.events[-1] == ("MODIFIED", "c", rv_c)


async def test_wait_synced_requires_start(kube: ApiClient) -> None:
    inf = Informer(kube, CONFIGMAPS)
    with pytest.raises(Exception, match=r"call start\(\)"):
        await inf.wait_synced(timeout=1)
