"""Inventory ids in Flux's format, the stale-object diff, owner labels and the GC rules."""

from __future__ import annotations

from typing import Any

import pytest

from weir.kube.inventory import (
    Entry,
    ObjectRef,
    entries_from_objects,
    from_wire,
    is_owned_by,
    merge_entries,
    owner_labels,
    set_owner_labels,
    stale_entries,
    to_wire,
)
from weir.ssa.prune import deletes_on_finalize, prune_allowed, waits_on_finalize


def obj(
    api_version: str, kind: str, name: str, namespace: str = "", **labels: str
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": labels}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


@pytest.mark.parametrize(
    ("manifest", "entry"),
    [
        (obj("v1", "Service", "podinfo", "default"), {"id": "default_podinfo__Service", "v": "v1"}),
        (
            obj("apps/v1", "Deployment", "podinfo", "default"),
            {"id": "default_podinfo_apps_Deployment", "v": "v1"},
        ),
        (obj("v1", "Namespace", "my-ns"), {"id": "_my-ns__Namespace", "v": "v1"}),
        (
            obj("rbac.authorization.k8s.io/v1", "ClusterRole", "system:auth"),
            {"id": "_system__auth_rbac.authorization.k8s.io_ClusterRole", "v": "v1"},
        ),
        (
            obj("example.com/v1beta2", "Widget", "a:b", "ns"),
            {"id": "ns_a:b_example.com_Widget", "v": "v1beta2"},
        ),
    ],
)
def test_entry_format_round_trips(manifest: dict[str, Any], entry: dict[str, str]) -> None:
    parsed = Entry.of(manifest)
    assert parsed.to_wire() == entry
    assert Entry.from_wire(entry) == parsed
    assert parsed.api_version == manifest["apiVersion"]
    assert parsed.stub()["metadata"]["name"] == manifest["metadata"]["name"]


def test_ref_display_and_parse_errors() -> None:
    assert str(ObjectRef("apps", "web", "apps", "Deployment")) == "Deployment/apps/web"
    assert str(ObjectRef("", "apps", "", "Namespace")) == "Namespace/apps"
    with pytest.raises(ValueError, match="not an inventory id"):
        ObjectRef.parse("nounderscores")


def test_entries_are_in_apply_order_and_unique() -> None:
    objects = [
        obj("v1", "ConfigMap", "c", "ns"),
        obj("v1", "Namespace", "ns"),
        obj("v1", "ConfigMap", "c", "ns"),
    ]
    assert [e.ref.id for e in entries_from_objects(objects)] == [
        "_ns__Namespace",
        "ns_c__ConfigMap",
    ]


def test_wire_round_trip() -> None:
    entries = entries_from_objects([obj("v1", "ConfigMap", "c", "ns")])
    wire = to_wire(entries)
    assert wire == {"entries": [{"id": "ns_c__ConfigMap", "v": "v1"}]}
    assert from_wire(wire) == entries
    assert from_wire(None) == [] == from_wire({})


def test_stale_entries_in_reverse_apply_order() -> None:
    old = entries_from_objects(
        [
            obj("v1", "Namespace", "ns"),
            obj("apps/v1", "Deployment", "web", "ns"),
            obj("v1", "ConfigMap", "c", "ns"),
            obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "w.example.com"),
            obj("example.com/v1", "W", "w", "ns"),
        ]
    )
    # The Deployment moved to another API version: not stale.
    new = entries_from_objects([obj("apps/v2", "Deployment", "web", "ns")])
    assert [str(e.ref) for e in stale_entries(old, new)] == [
        "W/ns/w",
        "ConfigMap/ns/c",
        "Namespace/ns",
        "CustomResourceDefinition/w.example.com",
    ]
    assert stale_entries(old, old) == []


def test_merge_entries_keeps_failed_deletions() -> None:
    a, b, c = entries_from_objects([obj("v1", "ConfigMap", n, "ns") for n in "abc"])
    assert merge_entries([a, b], [b, c]) == [a, b, c]


def test_owner_labels() -> None:
    o = obj("v1", "ConfigMap", "c", "ns", keep="1", **{"kustomize.toolkit.fluxcd.io/name": "x"})
    set_owner_labels(o, "apps", "flux-system")
    assert o["metadata"]["labels"] == {"keep": "1", **owner_labels("apps", "flux-system")}
    assert is_owned_by(o, "apps", "flux-system")
    assert not is_owned_by(o, "apps", "other")
    assert not is_owned_by(obj("v1", "ConfigMap", "c"), "apps", "flux-system")


def test_gc_safety_rules() -> None:
    mine = owner_labels("apps", "flux-system")
    assert prune_allowed(obj("v1", "ConfigMap", "c", "ns", **mine), "apps", "flux-system")
    assert not prune_allowed(obj("v1", "ConfigMap", "c", "ns"), "apps", "flux-system")
    half = {"kustomize.toolkit.fluxcd.io/name": "apps"}
    assert not prune_allowed(obj("v1", "ConfigMap", "c", "ns", **half), "apps", "flux-system")
    for key, value in (
        ("kustomize.toolkit.fluxcd.io/prune", "disabled"),
        ("kustomize.toolkit.fluxcd.io/prune", "Disabled"),
        ("kustomize.toolkit.fluxcd.io/reconcile", "disabled"),
        ("kustomize.toolkit.fluxcd.io/ssa", "IGNORE"),
    ):
        opted_out = obj("v1", "ConfigMap", "c", "ns", **mine)
        opted_out["metadata"]["annotations"] = {key: value}
        assert not prune_allowed(opted_out, "apps", "flux-system"), key


@pytest.mark.parametrize(
    ("policy", "prune", "deletes", "waits"),
    [
        (None, True, True, False),
        (None, False, False, False),
        ("MirrorPrune", True, True, False),
        ("MirrorPrune", False, False, False),
        ("Delete", False, True, False),
        ("WaitForTermination", False, True, True),
        ("Orphan", True, False, False),
    ],
)
def test_deletion_policy(policy: Any, prune: bool, deletes: bool, waits: bool) -> None:
    assert deletes_on_finalize(policy, prune) is deletes
    assert waits_on_finalize(policy) is waits
    assert deletes_on_finalize(policy, prune, suspended=True) is False
