"""Which Alerts an event reaches and how the notification is shaped: event sources (kind, name,
``*``, namespace, matchLabels), severity, inclusion/exclusion lists, suspend, summary,
eventMetadata, commit status ids, rate limiting, cross-namespace refusal, standby."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from weir.notification.dispatch import (
    DISPATCHED,
    RATE_LIMITED,
    STANDBY,
    UNMATCHED,
    Dispatcher,
)
from weir.notification.event import FluxEvent
from weir.notification.matching import AlertFilter
from weir.notification.metrics import NotificationMetrics
from weir.notification.queue import Job
from weir.notification.ratelimit import RateLimiter

Obj = dict[str, Any]
KS = "kustomize.toolkit.fluxcd.io"
HR = "helm.toolkit.fluxcd.io"


class FakeQueues:
    """An in-memory stand-in for the provider queues: records what would be sent."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def submit(self, job: Job) -> bool:
        self.jobs.append(job)
        return True


def alert(name: str, namespace: str = "apps", provider: str = "slack", **spec: Any) -> Obj:
    spec.setdefault("eventSources", [{"kind": "Kustomization", "name": "*"}])
    return {
        "apiVersion": "notification.toolkit.fluxcd.io/v1beta3",
        "kind": "Alert",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "generation": 1},
        "spec": {"providerRef": {"name": provider}, **spec},
    }


def provider(name: str = "slack", namespace: str = "apps", **spec: Any) -> Obj:
    spec.setdefault("type", "slack")
    return {
        "apiVersion": "notification.toolkit.fluxcd.io/v1beta3",
        "kind": "Provider",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": "8a2c1b3e-0000-4000-8000-000000000000",
        },
        "spec": spec,
    }


def event(
    kind: str = "Kustomization",
    name: str = "web",
    namespace: str = "apps",
    severity: str = "info",
    message: str = "Applied revision: main@sha1:abc",
    **metadata: str,
) -> FluxEvent:
    group = KS if kind == "Kustomization" else HR
    return FluxEvent(
        involved_object={
            "apiVersion": f"{group}/v1",
            "kind": kind,
            "name": name,
            "namespace": namespace,
            "uid": "u",
        },
        severity=severity,
        message=message,
        reason="ReconciliationSucceeded" if severity == "info" else "HealthCheckFailed",
        reporting_controller="kustomize-controller",
        metadata={f"{group}/revision": "main@sha1:" + "a" * 40, **metadata},
    )


class World:
    """Alerts and Providers as the informers would show them, and a labels lookup."""

    def __init__(self, alerts: list[Obj], providers: list[Obj] | None = None) -> None:
        self.alerts = alerts
        self.providers = {
            (p["metadata"]["namespace"], p["metadata"]["name"]): p
            for p in (providers if providers is not None else [provider()])
        }
        self.labels: dict[str, dict[str, str]] = {}
        self.label_lookups = 0
        self.queues = FakeQueues()
        self.leading = True

    async def labels_of(self, e: FluxEvent) -> Mapping[str, str] | None:
        self.label_lookups += 1
        return self.labels.get(e.name)

    def dispatcher(self, *, interval: float = 300, no_cross_ns: bool = False) -> Dispatcher:
        return Dispatcher(
            lambda: self.alerts,
            lambda ns, name: self.providers.get((ns, name)),
            self.queues,
            RateLimiter(interval),
            NotificationMetrics(),
            labels_of=self.labels_of,
            leading=lambda: self.leading,
            no_cross_namespace_refs=no_cross_ns,
        )

    def sent_by(self) -> list[str]:
        return [j.alert for j in self.queues.jobs]


@pytest.mark.parametrize(
    ("sources", "e", "taken"),
    [
        ([{"kind": "Kustomization", "name": "web"}], event(), True),
        ([{"kind": "Kustomization", "name": "api"}], event(), False),
        ([{"kind": "Kustomization", "name": "*"}], event(name="anything"), True),
        ([{"kind": "HelmRelease", "name": "*"}], event(), False),
        ([{"kind": "Kustomization", "name": "*"}], event(namespace="other"), False),
        (
            [{"kind": "Kustomization", "name": "*", "namespace": "other"}],
            event("Kustomization", "w", "other"),
            True,
        ),
        ([{"kind": "Kustomization", "name": "*", "namespace": "*"}], event(namespace="x"), True),
    ],
)
async def test_event_sources(sources: list[Obj], e: FluxEvent, taken: bool) -> None:
    world = World([alert("a", eventSources=sources)])
    assert await world.dispatcher().submit(e) == (DISPATCHED if taken else UNMATCHED)
    assert world.sent_by() == (["apps/a"] if taken else [])


async def test_match_labels_read_the_objects_labels() -> None:
    sources = [{"kind": "Kustomization", "name": "*", "matchLabels": {"team": "web"}}]
    world = World([alert("a", eventSources=sources)])
    world.labels = {"web": {"team": "web"}, "db": {"team": "db"}}
    d = world.dispatcher()
    assert await d.submit(event(name="web")) == DISPATCHED
    assert await d.submit(event(name="db")) == UNMATCHED
    assert await d.submit(event(name="gone")) == UNMATCHED  # labels unknown: not taken
    assert world.label_lookups == 3
    # sources without matchLabels need no lookup
    world2 = World([alert("b")])
    await world2.dispatcher().submit(event())
    assert world2.label_lookups == 0


async def test_severity() -> None:
    world = World([alert("errors", eventSeverity="error"), alert("all")])
    d = world.dispatcher()
    await d.submit(event(severity="info"))
    assert world.sent_by() == ["apps/all"]
    world.queues.jobs.clear()
    await d.submit(event(severity="error", message="boom"))
    assert sorted(world.sent_by()) == ["apps/all", "apps/errors"]


async def test_inclusion_and_exclusion_lists() -> None:
    world = World(
        [
            alert("only-failures", inclusionList=["failed", "timeout"]),
            alert("no-dependencies", exclusionList=["^dependency .* is not ready"]),
            alert("both", inclusionList=[".*"], exclusionList=["upgrade"]),
        ]
    )
    d = world.dispatcher(interval=0)

    async def taken(message: str) -> list[str]:
        world.queues.jobs.clear()
        await d.submit(event(message=message))
        return sorted(a.split("/")[1] for a in world.sent_by())

    assert await taken("Helm upgrade failed") == ["no-dependencies", "only-failures"]
    assert await taken("dependency 'apps/db' is not ready") == ["both"]
    assert await taken("Applied revision") == ["both", "no-dependencies"]
    assert await taken("health check timeout") == ["both", "no-dependencies", "only-failures"]


def test_invalid_expressions_are_reported_and_ignored() -> None:
    flt = AlertFilter.compile(alert("a", exclusionList=["(unclosed", "ok"]))
    assert len(flt.errors) == 1
    assert "exclusionList[0]" in flt.errors[0]
    assert not flt.message_passes("it is ok")
    assert flt.message_passes("anything else")


async def test_suspended_alerts_and_providers_send_nothing() -> None:
    world = World(
        [alert("off", suspend=True), alert("on", provider="muted")],
        [provider("muted", suspend=True)],
    )
    assert await world.dispatcher().submit(event()) == DISPATCHED  # "on" took it...
    assert world.queues.jobs == []  # ...but its Provider is suspended


async def test_missing_provider_is_skipped() -> None:
    world = World([alert("a", provider="nope")])
    await world.dispatcher().submit(event())
    assert world.queues.jobs == []


async def test_summary_and_event_metadata() -> None:
    world = World(
        [
            alert(
                "a",
                summary="Cluster eu-1",
                eventMetadata={"env": "prod", "revision": "not this one"},
            )
        ]
    )
    await world.dispatcher().submit(
        event(**{f"{KS}/checksum": "x", "event.toolkit.fluxcd.io/team": "web"})
    )
    (job,) = world.queues.jobs
    assert dict(job.delivery.event.metadata) == {
        "revision": "main@sha1:" + "a" * 40,  # the emitter's value wins
        "team": "web",
        "summary": "Cluster eu-1",
        "env": "prod",
    }
    assert job.type == "slack"
    assert job.delivery.commit_status == ""


async def test_commit_status_ids() -> None:
    world = World(
        [alert("default", provider="gh"), alert("expr", provider="gh-expr")],
        [
            provider("gh", type="github"),
            provider(
                "gh-expr",
                type="github",
                commitStatusExpr="(event.involvedObject.kind + '/' + event.involvedObject.name)"
                ".lowerAscii() + '/' + event.metadata.cluster + '/' + alert.metadata.name",
            ),
        ],
    )
    world.alerts[1]["spec"]["eventMetadata"] = {"cluster": "eu-1"}
    await world.dispatcher().submit(event())
    ids = {j.alert: j.delivery.commit_status for j in world.queues.jobs}
    assert ids == {
        "apps/default": "kustomization/web/8a2c1b3e",
        "apps/expr": "kustomization/web/eu-1/expr",
    }


async def test_a_failing_commit_status_expression_sends_nothing() -> None:
    world = World(
        [alert("a", provider="gh")],
        [provider("gh", type="gitea", commitStatusExpr="event.metadata.missing")],
    )
    await world.dispatcher().submit(event())
    assert world.queues.jobs == []


async def test_duplicates_are_rate_limited() -> None:
    world = World([alert("a")])
    d = world.dispatcher()
    assert await d.submit(event()) == DISPATCHED
    assert await d.submit(event()) == RATE_LIMITED
    other_revision = event(**{f"{KS}/revision": "main@sha1:" + "b" * 40})
    assert await d.submit(other_revision) == DISPATCHED
    assert len(world.queues.jobs) == 2


async def test_cross_namespace_events_are_refused_when_blocked() -> None:
    sources = [{"kind": "Kustomization", "name": "*", "namespace": "tenant"}]
    world = World([alert("a", eventSources=sources)])
    assert await world.dispatcher(no_cross_ns=True).submit(event(namespace="tenant")) == UNMATCHED
    assert await world.dispatcher().submit(event(namespace="tenant")) == DISPATCHED


async def test_standbys_dispatch_nothing() -> None:
    world = World([alert("a")])
    world.leading = False
    assert await world.dispatcher().submit(event()) == STANDBY
    assert world.queues.jobs == []
