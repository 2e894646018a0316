"""The view cache's running aggregates (what the dashboard sums per user instead of scanning
10,000 rows): counts by kind, namespace and status, failing rows, objects needing a
controller's attention, recent Events."""

from __future__ import annotations

from typing import Any, cast

from kubernetes_asyncio.client import ApiClient

from weir.api import KINDS
from weir.web.cache import ViewCache, needs_attention
from weir.web.changes import ChangeLog


def ks(name: str, ns: str, ready: str, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": ns, "generation": 1, **meta},
        "spec": {},
        "status": {
            "observedGeneration": 1,
            "conditions": [{"type": "Ready", "status": ready, "reason": "R", "message": "m"}],
        },
    }


def test_counts_failing_attention_and_events() -> None:
    cache = ViewCache(cast(ApiClient, None), ChangeLog())
    handle = cache._flux_handler(KINDS["Kustomization"])
    handle("ADDED", ks("a", "eth", "True"))
    handle("ADDED", ks("b", "eth", "False"))
    handle("ADDED", ks("c", "other", "True"))
    assert cache.counts[("Kustomization", "eth")] == {"ready": 1, "failed": 1}
    assert set(cache.failing) == {"Kustomization/eth/b"}
    assert cache.namespaces() == {"eth", "other"}
    handle("MODIFIED", ks("b", "eth", "True"))
    assert cache.counts[("Kustomization", "eth")] == {"ready": 2}
    assert not cache.failing
    handle("DELETED", ks("c", "other", "True"))
    assert ("Kustomization", "other") not in cache.counts
    assert cache.namespaces() == {"eth"}

    asked = ks("a", "eth", "True", annotations={"reconcile.fluxcd.io/requestedAt": "t1"})
    assert needs_attention(asked)
    handle("MODIFIED", asked)
    assert cache.attention == {"Kustomization/eth/a"}
    asked["status"]["lastHandledReconcileAt"] = "t1"
    handle("MODIFIED", asked)
    assert not cache.attention
    changed = ks("b", "eth", "True")
    changed["metadata"]["generation"] = 2
    assert needs_attention(changed)
    changed["spec"]["suspend"] = True
    assert not needs_attention(changed), "nobody is meant to act on a suspended object"

    event = {
        "metadata": {"name": "e1", "namespace": "eth", "uid": "u1"},
        "involvedObject": {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "name": "a",
            "namespace": "eth",
        },
        "reason": "ReconciliationSucceeded",
        "type": "Normal",
    }
    cache._on_event("ADDED", event)
    cache._on_event("ADDED", {**event, "involvedObject": {"kind": "Pod", "name": "p"}})
    assert [e["reason"] for e in cache.recent_events] == ["ReconciliationSucceeded"]
