"""Pure parts of `weir trace`, `events`, `stats`, `check`, `get` rows and kind discovery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from weir.actions.check import crd_check, parse_version, version_check
from weir.actions.discovery import match
from weir.actions.events import EventFilter, event_time, is_flux, row, sort_events
from weir.actions.inventory import ObjectRef
from weir.actions.objects import revision, summarize
from weir.actions.stats import count
from weir.actions.trace import Step, Trace, manager_of, step_of
from weir.api import KINDS
from weir.cli.events import cells
from weir.cli.get import render
from weir.cli.trace import render as render_trace
from weir.cli.trace import split_target


def test_manager_from_owner_labels() -> None:
    labels = {
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    }
    info, ns, name = manager_of({"metadata": {"labels": labels}}) or (None, "", "")
    assert (info and info.kind, ns, name) == ("Kustomization", "flux-system", "apps")
    helm = {"helm.toolkit.fluxcd.io/name": "erigon", "helm.toolkit.fluxcd.io/namespace": "eth"}
    found = manager_of({"metadata": {"labels": helm}})
    assert found is not None
    assert found[0].kind == "HelmRelease"
    assert manager_of({"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/name": "x"}}}) is None


def test_trace_render() -> None:
    source = Step(
        ObjectRef("source.toolkit.fluxcd.io", "GitRepository", "flux-system", "fleet", "v1"),
        ready="True",
        reason="Succeeded",
        message="stored artifact",
        revision="main@sha1:ab",
        details={"url": "https://example.com/fleet"},
    )
    manager = Step(
        ObjectRef("kustomize.toolkit.fluxcd.io", "Kustomization", "flux-system", "apps", "v1"),
        ready="False",
        reason="BuildFailed",
        message="boom",
        details={"path": "./apps"},
        sources=[source],
    )
    trace = Trace(Step(ObjectRef("apps", "Deployment", "eth", "erigon", "v1")), [manager])
    assert render_trace(trace) == (
        "Deployment:    erigon\n"
        "Namespace:     eth\n"
        "---\n"
        "Kustomization: apps\n"
        "Namespace:     flux-system\n"
        "Path:          ./apps\n"
        "Status:        Ready=False (BuildFailed)\n"
        "Message:       boom\n"
        "---\n"
        "GitRepository: fleet\n"
        "Namespace:     flux-system\n"
        "URL:           https://example.com/fleet\n"
        "Revision:      main@sha1:ab\n"
        "Status:        Ready=True (Succeeded)\n"
        "Message:       stored artifact\n"
    )
    data = trace.to_dict()
    assert data["managers"][0]["sources"][0]["url"] == "https://example.com/fleet"


def test_step_of_plain_object() -> None:
    step = step_of({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
    assert (step.ready, step.revision, step.details) == ("", "", {})


def test_split_target() -> None:
    assert split_target("deployment/erigon", None) == ("deployment", "erigon")
    assert split_target("deploy", "erigon") == ("deploy", "erigon")


def event(kind: str, name: str, api_version: str = "v1", **fields: Any) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "apps", "creationTimestamp": "2025-01-01T00:00:00Z"},
        "involvedObject": {
            "kind": kind,
            "name": name,
            "namespace": "apps",
            "apiVersion": api_version,
        },
        "type": "Normal",
        "reason": "R",
        "message": "m",
        **fields,
    }


def test_event_filters() -> None:
    flux_event = event("Kustomization", "apps", "kustomize.toolkit.fluxcd.io/v1")
    managed = event("Deployment", "podinfo", "apps/v1")
    other = event("Pod", "x")
    assert is_flux(flux_event)
    assert not is_flux(managed)
    everything = EventFilter(managed=frozenset({("Deployment", "apps", "podinfo")}))
    assert [everything.matches(e) for e in (flux_event, managed, other)] == [True, True, False]
    only = EventFilter(objects=frozenset({("Pod", "apps", "x")}))
    assert [only.matches(e) for e in (flux_event, managed, other)] == [False, False, True]
    assert only.namespaces() == {"apps"}
    assert everything.namespaces() is None


def test_event_times_and_rows() -> None:
    old = event("A", "a", lastTimestamp="2025-01-01T00:00:05Z", count=3)
    new = event("B", "b", eventTime="2025-01-01T00:00:09.000000Z")
    created = event("C", "c")
    assert event_time(new) == datetime(2025, 1, 1, 0, 0, 9, tzinfo=UTC)
    assert [e["involvedObject"]["kind"] for e in sort_events([new, old, created])] == [
        "C",
        "A",
        "B",
    ]
    r = row(old)
    assert (r.object, r.count) == ("A/a", 3)
    assert cells(old, all_namespaces=True)[0] == "apps"
    assert cells(old, all_namespaces=False)[1:] == ["Normal", "R", "A/a", "m (x3)"]


def flux_obj(kind: str, ready: str | None, suspend: bool = False, **status: Any) -> dict[str, Any]:
    conditions = [{"type": "Ready", "status": ready, "reason": "R", "message": "msg"}]
    return {
        "apiVersion": KINDS[kind].api_version,
        "kind": kind,
        "metadata": {"name": "x", "namespace": "n", "creationTimestamp": "2025-01-01T00:00:00Z"},
        "spec": {"suspend": suspend},
        "status": {"conditions": conditions if ready else [], **status},
    }


def test_stats_count() -> None:
    objs = [
        flux_obj("Kustomization", "True"),
        flux_obj("Kustomization", "False", suspend=True),
        flux_obj("Kustomization", "Unknown"),
        flux_obj("Kustomization", None),
    ]
    stats = count("Kustomization", objs)
    assert (stats.total, stats.ready, stats.failing, stats.progressing, stats.suspended) == (
        4,
        1,
        1,
        2,
        1,
    )
    assert count("Alert", [flux_obj("Alert", None)], has_status=False).progressing == 0


def test_revision_and_summary() -> None:
    assert revision({"status": {"artifact": {"revision": "main@sha1:a"}}}) == "main@sha1:a"
    assert revision({"status": {"lastAppliedRevision": "main@sha1:b"}}) == "main@sha1:b"
    assert revision({"status": {"history": [{"chartVersion": "6.5.0"}]}}) == "6.5.0"
    assert revision({"status": {"lastAttemptedRevision": "1.0.0"}}) == "1.0.0"
    assert revision({}) == ""
    s = summarize(flux_obj("Kustomization", "False", suspend=True))
    assert (s.ready, s.suspended, s.message) == ("False", True, "msg")
    fresh = summarize(flux_obj("Kustomization", None))
    assert (fresh.ready, fresh.message) == ("Unknown", "waiting to be reconciled")
    # Alerts have a status in weir (ADR 0008): one not reconciled yet waits like the others
    alert = summarize({**flux_obj("Alert", None), "status": None})
    assert (alert.ready, alert.message) == ("Unknown", "waiting to be reconciled")


def test_get_render_prefixes_kinds() -> None:
    kinds = [KINDS["GitRepository"], KINDS["Kustomization"], KINDS["HelmRelease"]]
    objs = {"GitRepository": [flux_obj("GitRepository", "True")], "Kustomization": []}
    text, tables = render(kinds, objs, all_namespaces=True)
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert lines[1].split()[:2] == ["n", "gitrepository/x"]
    assert len(lines) == 2  # kinds without objects are left out
    assert set(tables) == {"GitRepository", "Kustomization", "HelmRelease"}


def test_versions() -> None:
    assert parse_version({"major": "1", "minor": "32+"}) == (1, 32)
    assert parse_version({"gitVersion": "v1.31.4-gke.1"}) == (1, 31)
    assert parse_version({}) is None
    assert version_check({"major": "1", "minor": "32", "gitVersion": "v1.32.0"}).ok
    old = version_check({"major": "1", "minor": "31", "gitVersion": "v1.31.9"})
    assert not old.ok
    assert "too old" in old.message


def test_crd_check() -> None:
    info = KINDS["Kustomization"]
    assert "weir crds" in crd_check(info, None).message
    pending = {"status": {"conditions": [{"type": "Established", "status": "False"}]}}
    assert not crd_check(info, pending).ok
    old = {
        "spec": {"versions": [{"name": "v1beta2", "served": True}]},
        "status": {"conditions": [{"type": "Established", "status": "True"}]},
    }
    assert "does not serve v1" in crd_check(info, old).message
    good = {**old, "spec": {"versions": [{"name": "v1", "served": True}]}}
    assert crd_check(info, good).ok


def test_discovery_match() -> None:
    apps = {
        "resources": [
            {
                "name": "deployments",
                "singularName": "deployment",
                "kind": "Deployment",
                "namespaced": True,
                "shortNames": ["deploy"],
            },
            {"name": "deployments/scale", "kind": "Scale", "namespaced": True},
        ]
    }
    lists = [("apps", "v1", apps)]
    for word in ("deployment", "deployments", "deploy"):
        found = match(word, None, lists)
        assert found is not None
        assert (found.group, found.plural, found.kind) == ("apps", "deployments", "Deployment")
    assert match("deploy", "batch", lists) is None
    assert match("scale", None, lists) is None
