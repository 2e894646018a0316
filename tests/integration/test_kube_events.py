"""Events are written as core/v1 Events and repeats are aggregated into one Event."""

from __future__ import annotations

from typing import Any

from kubernetes_asyncio.client import ApiClient

from tests.integration.test_kube_support import FIELD_MANAGER, configmap
from weir.kube import apply, transport
from weir.kube.events import EVENTS, EventRecorder


async def events_about(kube: ApiClient, namespace: str, name: str) -> list[dict[str, Any]]:
    body = await transport.request(
        kube,
        "GET",
        EVENTS.path(namespace),
        params={"fieldSelector": f"involvedObject.name={name}"},
    )
    return sorted(body["items"], key=lambda e: e["metadata"]["creationTimestamp"])


async def test_event_fields(kube: ApiClient, namespace: str) -> None:
    obj = await apply.apply(kube, configmap("cm", namespace), FIELD_MANAGER)
    rec = EventRecorder(kube, "kustomize-controller", instance="weir-0")
    ann = {"kustomize.toolkit.fluxcd.io/revision": "main@sha1:abc"}
    stored = await rec.warning(obj, "ReconciliationFailed", "apply failed", ann)
    assert stored is not None
    [event] = await events_about(kube, namespace, "cm")
    assert event["type"] == "Warning"
    assert event["reason"] == "ReconciliationFailed"
    assert event["message"] == "apply failed"
    assert event["count"] == 1
    assert event["source"] == {"component": "kustomize-controller"}
    assert event["reportingComponent"] == "kustomize-controller"
    assert event["reportingInstance"] == "weir-0"
    assert event["metadata"]["annotations"] == ann
    assert event["involvedObject"]["kind"] == "ConfigMap"
    assert event["involvedObject"]["uid"] == obj["metadata"]["uid"]


async def test_repeats_are_aggregated(kube: ApiClient, namespace: str) -> None:
    obj = await apply.apply(kube, configmap("cm", namespace), FIELD_MANAGER)
    rec = EventRecorder(kube, "weir-test")
    for _ in range(3):
        await rec.normal(obj, "Progressing", "applied 3 objects")
    await rec.normal(obj, "Progressing", "applied 4 objects")  # a different message
    await rec.normal(obj, "Progressing", "applied 3 objects")
    events = await events_about(kube, namespace, "cm")
    assert [(e["message"], e["count"]) for e in events] == [
        ("applied 3 objects", 4),
        ("applied 4 objects", 1),
    ]

    # A deleted Event is recreated rather than lost.
    await apply.delete(kube, EVENTS, namespace, events[1]["metadata"]["name"])
    assert await rec.normal(obj, "Progressing", "applied 4 objects") is not None
    events = await events_about(kube, namespace, "cm")
    assert [(e["message"], e["count"]) for e in events] == [
        ("applied 3 objects", 4),
        ("applied 4 objects", 1),
    ]


async def test_outside_the_window_a_new_event_starts(kube: ApiClient, namespace: str) -> None:
    obj = await apply.apply(kube, configmap("cm", namespace), FIELD_MANAGER)
    rec = EventRecorder(kube, "weir-test", window=0.0)
    await rec.normal(obj, "Progressing", "same")
    await rec.normal(obj, "Progressing", "same")
    assert [e["count"] for e in await events_about(kube, namespace, "cm")] == [1, 1]


async def test_failures_are_not_raised(kube: ApiClient) -> None:
    rec = EventRecorder(kube, "weir-test")
    gone = configmap("cm", "no-such-namespace")
    assert await rec.normal(gone, "Progressing", "lost") is None
