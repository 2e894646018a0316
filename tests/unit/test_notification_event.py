"""Flux's event: wire format, core/v1 Events read back, metadata clean-up, rate-limit key, and
the de-duplication window."""

from __future__ import annotations

import hashlib

import pytest

from weir.notification.event import (
    FluxEvent,
    cleanup_metadata,
    event_key,
    is_commit_status_update,
)
from weir.notification.ratelimit import RateLimiter

KS = "kustomize.toolkit.fluxcd.io"


def ks_event(message: str = "Applied revision: main@sha1:abc", **metadata: str) -> FluxEvent:
    return FluxEvent(
        involved_object={
            "apiVersion": f"{KS}/v1",
            "kind": "Kustomization",
            "name": "apps",
            "namespace": "flux-system",
            "uid": "7d0cdc51-ddcf-4743-b223-83ca5c699632",
        },
        severity="info",
        message=message,
        reason="ReconciliationSucceeded",
        reporting_controller="kustomize-controller",
        timestamp="2024-05-01T12:00:00Z",
        metadata=metadata,
    )


def test_wire_format_round_trips() -> None:
    event = ks_event(**{f"{KS}/revision": "main@sha1:abc"})
    wire = event.to_json()
    assert wire == {
        "involvedObject": {
            "apiVersion": f"{KS}/v1",
            "kind": "Kustomization",
            "name": "apps",
            "namespace": "flux-system",
            "uid": "7d0cdc51-ddcf-4743-b223-83ca5c699632",
        },
        "severity": "info",
        "timestamp": "2024-05-01T12:00:00Z",
        "message": "Applied revision: main@sha1:abc",
        "reason": "ReconciliationSucceeded",
        "metadata": {f"{KS}/revision": "main@sha1:abc"},
        "reportingController": "kustomize-controller",
    }
    assert FluxEvent.from_json(wire) == event


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ([], "JSON object"),
        ({"involvedObject": {"name": "x"}}, "kind"),
        ({"involvedObject": {"kind": "Kustomization"}}, "name"),
        ({"involvedObject": {"kind": "K", "name": "x"}, "severity": "fatal"}, "severity"),
        ({"involvedObject": {"kind": "K", "name": "x"}, "metadata": ["a"]}, "metadata"),
    ],
)
def test_from_json_refuses_what_is_not_an_event(body: object, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        FluxEvent.from_json(body)


def test_core_event_becomes_a_flux_event() -> None:
    core = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": "apps.17a",
            "namespace": "flux-system",
            "annotations": {f"{KS}/revision": "main@sha1:abc"},
        },
        "involvedObject": {
            "apiVersion": f"{KS}/v1",
            "kind": "Kustomization",
            "name": "apps",
            "namespace": "flux-system",
            "uid": "u1",
            "resourceVersion": "42",
        },
        "type": "Warning",
        "reason": "HealthCheckFailed",
        "message": "timeout waiting for Deployment/apps/web",
        "source": {"component": "kustomize-controller"},
        "firstTimestamp": "2024-05-01T11:00:00Z",
        "lastTimestamp": "2024-05-01T12:00:00Z",
        "count": 3,
        "reportingInstance": "weir-0",
    }
    event = FluxEvent.from_core_event(core)
    assert event is not None
    assert event.severity == "error"
    assert event.reporting_controller == "kustomize-controller"
    assert event.timestamp == "2024-05-01T12:00:00Z"
    assert dict(event.involved_object) == {
        "apiVersion": f"{KS}/v1",
        "kind": "Kustomization",
        "name": "apps",
        "namespace": "flux-system",
        "uid": "u1",
    }
    assert event.metadata == {f"{KS}/revision": "main@sha1:abc"}
    normal = FluxEvent.from_core_event({**core, "type": "Normal"})
    assert normal is not None
    assert normal.severity == "info"
    assert FluxEvent.from_core_event({"involvedObject": {}}) is None


def test_cleanup_keeps_the_object_group_and_event_annotations() -> None:
    event = ks_event(
        **{
            f"{KS}/revision": "main@sha1:abc",
            f"{KS}/originRevision": "v1@sha1:def",
            f"{KS}/checksum": "c",
            f"{KS}/digest": "sha256:d",
            f"{KS}/commit_status": "update",
            "helm.toolkit.fluxcd.io/revision": "other group",
            "kubectl.kubernetes.io/last-applied": "{}",
            "event.toolkit.fluxcd.io/env": "production",
        }
    )
    assert cleanup_metadata(event) == {
        "revision": "main@sha1:abc",
        "originRevision": "v1@sha1:def",
        "commit_status": "update",
        "env": "production",
    }
    assert is_commit_status_update(cleanup_metadata(event))
    assert not is_commit_status_update({"commit_status": "other"})


def test_event_key_is_fluxs() -> None:
    event = ks_event(
        **{f"{KS}/revision": "main@sha1:abc", f"{KS}/token": "t", f"{KS}/originRevision": "o"}
    )
    expected = "/".join(
        [
            "event",
            "name=apps",
            "namespace=flux-system",
            "kind=Kustomization",
            "message=Applied revision: main@sha1:abc",
            "originRevision=o",
            "revision=main@sha1:abc",
            "token=t",
        ]
    )
    assert event_key(event) == hashlib.sha256(expected.encode()).hexdigest()
    # another revision, another key; other metadata does not count
    other = ks_event(**{f"{KS}/revision": "main@sha1:def", f"{KS}/token": "t"})
    assert event_key(other) != event_key(event)
    assert event_key(ks_event(x="1")) == event_key(ks_event(y="2"))


def test_rate_limiter_passes_the_first_of_each_window() -> None:
    now = [0.0]
    limiter = RateLimiter(300, clock=lambda: now[0])
    assert limiter.allow("a")
    assert limiter.allow("b")
    now[0] = 299.0
    assert not limiter.allow("a")
    now[0] = 300.0
    assert limiter.allow("a")  # a new window
    assert not limiter.allow("a")
    assert len(limiter) == 1  # "b" expired


def test_rate_limiter_is_bounded() -> None:
    limiter = RateLimiter(300, max_keys=3, clock=lambda: 0.0)
    for key in "abcd":
        assert limiter.allow(key)
    assert len(limiter) == 3
    assert limiter.allow("a")  # the oldest key was forgotten
