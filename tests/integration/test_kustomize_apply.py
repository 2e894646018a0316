"""Staged server-side apply against the real API server: ordering, drift detection, ssa policies,
forced recreation, taking fields over from kubectl."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kapi
from weir.kube.inventory import ObjectRef
from weir.kube.resources import ResourceRef
from weir.kustomize import metadata as md
from weir.kustomize.errors import ApplyError
from weir.ssa.apply import Action, ApplyOptions, apply_all

CONFIGMAPS = ResourceRef("", "v1", "configmaps", True, "ConfigMap")
SERVICES = ResourceRef("", "v1", "services", True, "Service")
JOBS = ResourceRef("batch", "v1", "jobs", True, "Job")
CRDS = ResourceRef("apiextensions.k8s.io", "v1", "customresourcedefinitions", False)
NAMESPACES = ResourceRef("", "v1", "namespaces", False, "Namespace")
FAST = ApplyOptions(wait_interval=0.2, wait_timeout=30)


def cm(
    name: str, ns: str, annotations: dict[str, str] | None = None, **data: str
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def crd(group: str) -> dict[str, Any]:
    schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gizmos.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def job(name: str, ns: str, command: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox", "command": [command]}],
                }
            }
        },
    }


def rv(obj: dict[str, Any]) -> str:
    return str(obj["metadata"]["resourceVersion"])


async def test_crd_and_custom_objects_in_one_apply(kube: ApiClient, namespace: str) -> None:
    group = f"{namespace}.weir.dev"
    extra_ns = f"{namespace}-x"
    gizmo = {
        "apiVersion": f"{group}/v1",
        "kind": "Gizmo",
        "metadata": {"name": "g", "namespace": extra_ns},
        "spec": {"size": 1},
    }
    namespace_obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": extra_ns}}
    objects = [gizmo, cm("c", extra_ns, a="1"), namespace_obj, crd(group)]
    try:
        changes = await apply_all(kube, md.prepare(objects, name="app", namespace=namespace), FAST)
        assert [str(c) for c in changes.changes] == [
            f"CustomResourceDefinition/gizmos.{group} created",
            f"Namespace/{extra_ns} created",
            f"ConfigMap/{extra_ns}/c created",
            f"Gizmo/{extra_ns}/g created",
        ]
        assert changes.to_map()[f"{extra_ns}_g_{group}_Gizmo"] == "created"
        assert changes.entries()[0].to_wire() == {
            "id": f"_gizmos.{group}_apiextensions.k8s.io_CustomResourceDefinition",
            "v": "v1",
        }

        again = await apply_all(kube, md.prepare(objects, name="app", namespace=namespace), FAST)
        assert {c.action for c in again.changes} == {Action.UNCHANGED}
        assert str(again) == ""
    finally:
        await kapi.delete(kube, NAMESPACES, None, extra_ns, missing_ok=True)
        await kapi.delete(kube, CRDS, None, f"gizmos.{group}", missing_ok=True)


async def test_only_drifted_objects_are_applied(kube: ApiClient, namespace: str) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    objects = [cm("a", namespace, x="1"), cm("b", namespace, y="1"), service]
    first = await apply_all(kube, md.prepare(objects, name="app", namespace=namespace))
    assert [c.action for c in first.changes] == [Action.CREATED] * 3
    before = {n: rv(await kapi.get(kube, CONFIGMAPS, namespace, n)) for n in ("a", "b")}

    objects[1] = cm("b", namespace, y="2")
    second = await apply_all(kube, md.prepare(objects, name="app", namespace=namespace))
    assert second.to_map() == {
        f"{namespace}_a__ConfigMap": "unchanged",
        f"{namespace}_b__ConfigMap": "configured",
        f"{namespace}_web__Service": "unchanged",
    }
    assert str(second) == f"ConfigMap/{namespace}/b configured"
    assert rv(await kapi.get(kube, CONFIGMAPS, namespace, "a")) == before["a"]
    live_b = await kapi.get(kube, CONFIGMAPS, namespace, "b")
    assert live_b["data"] == {"y": "2"}
    assert live_b["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] == "app"
    managers = {m["manager"] for m in live_b["metadata"]["managedFields"]}
    assert managers == {"kustomize-controller"}


async def test_if_not_present_and_ignore(kube: ApiClient, namespace: str) -> None:
    once = {md.SSA_KEY: "IfNotPresent"}
    never = {md.SSA_KEY: "ignore"}  # matched case-insensitively
    objects = [cm("once", namespace, once, v="1"), cm("never", namespace, never, v="1")]
    first = await apply_all(kube, objects)
    assert first.to_map() == {
        f"{namespace}_never__ConfigMap": "skipped",
        f"{namespace}_once__ConfigMap": "created",
    }
    assert len(first.entries()) == 2  # skipped objects stay in the inventory
    with pytest.raises(Exception, match="not found"):
        await kapi.get(kube, CONFIGMAPS, namespace, "never")

    second = await apply_all(kube, [cm("once", namespace, once, v="2")])
    assert second.to_map() == {f"{namespace}_once__ConfigMap": "skipped"}
    assert (await kapi.get(kube, CONFIGMAPS, namespace, "once"))["data"] == {"v": "1"}

    # An object whose live copy says Ignore is left alone, whatever the manifest says.
    await kapi.apply(kube, cm("live", namespace, never, v="1"), "someone-else")
    third = await apply_all(kube, [cm("live", namespace, v="2")])
    assert third.to_map() == {f"{namespace}_live__ConfigMap": "skipped"}
    assert (await kapi.get(kube, CONFIGMAPS, namespace, "live"))["data"] == {"v": "1"}


async def test_force_recreates_on_immutable_change(kube: ApiClient, namespace: str) -> None:
    await apply_all(kube, [job("j", namespace, "true")])
    old_uid = (await kapi.get(kube, JOBS, namespace, "j"))["metadata"]["uid"]

    with pytest.raises(ApplyError, match=rf"Job/{namespace}/j dry-run failed \(Invalid\)") as err:
        await apply_all(kube, [job("j", namespace, "false")])
    assert "spec.force" in str(err.value)

    changes = await apply_all(kube, [job("j", namespace, "false")], ApplyOptions(force=True))
    assert str(changes) == f"Job/{namespace}/j created"
    live = await kapi.get(kube, JOBS, namespace, "j")
    assert live["metadata"]["uid"] != old_uid
    assert live["spec"]["template"]["spec"]["containers"][0]["command"] == ["false"]


async def test_force_annotation_recreates_a_service(kube: ApiClient, namespace: str) -> None:
    def service(force: bool, **spec: Any) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": "s", "namespace": namespace}
        if force:
            meta["annotations"] = {md.FORCE_KEY: "enabled"}  # matched case-insensitively
        spec["ports"] = [{"port": 80}]
        return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}

    await apply_all(kube, [service(False)])
    allocated = (await kapi.get(kube, SERVICES, namespace, "s"))["spec"]["clusterIP"]
    with pytest.raises(ApplyError, match="dry-run failed"):
        await apply_all(kube, [service(False, clusterIP="None")])
    changes = await apply_all(kube, [service(True, clusterIP="None")])
    assert changes.to_map() == {f"{namespace}_s__Service": "created"}
    live = await kapi.get(kube, SERVICES, namespace, "s")
    assert live["spec"]["clusterIP"] == "None" != allocated


async def test_fields_owned_by_kubectl_are_taken_over(kube: ApiClient, namespace: str) -> None:
    for name in ("override", "merge"):
        await kapi.create(
            kube,
            CONFIGMAPS,
            cm(name, namespace, keep="1", extra="1"),
            field_manager="kubectl-client-side-apply",
        )
    merge = {md.SSA_KEY: "Merge"}
    objects = [cm("override", namespace, keep="1"), cm("merge", namespace, merge, keep="1")]
    changes = await apply_all(kube, objects)
    assert changes.to_map() == {
        f"{namespace}_merge__ConfigMap": "configured",  # the annotation is new
        f"{namespace}_override__ConfigMap": "configured",
    }
    overridden = await kapi.get(kube, CONFIGMAPS, namespace, "override")
    assert overridden["data"] == {"keep": "1"}
    assert {m["manager"] for m in overridden["metadata"]["managedFields"]} == {
        "kustomize-controller"
    }
    merged = await kapi.get(kube, CONFIGMAPS, namespace, "merge")
    assert merged["data"] == {"keep": "1", "extra": "1"}

    again = await apply_all(kube, objects)
    assert {c.action for c in again.changes} == {Action.UNCHANGED}


async def test_dry_run_errors_name_every_object(kube: ApiClient, namespace: str) -> None:
    bad = cm("bad", namespace)
    bad["data"] = {"k": {"not": "a string"}}
    unknown = {"apiVersion": "nope.weir.dev/v1", "kind": "Nothing", "metadata": {"name": "n"}}
    homeless = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "homeless"}}
    with pytest.raises(ApplyError) as err:
        await apply_all(kube, [bad, unknown, homeless, cm("good", namespace, a="1")])
    text = str(err.value)
    assert "ConfigMap/homeless dry-run failed: ConfigMap homeless is namespaced" in text
    assert f"ConfigMap/{namespace}/bad dry-run failed" in text
    assert "Nothing/n dry-run failed" in text
    with pytest.raises(Exception, match="not found"):  # nothing of the stage was applied
        await kapi.get(kube, CONFIGMAPS, namespace, "good")


async def test_namespace_stage_is_waited_for(kube: ApiClient) -> None:
    name = f"t-{uuid.uuid4().hex[:10]}"
    objects = [
        cm("c", name, a="1"),
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
    ]
    try:
        changes = await apply_all(kube, objects, FAST)
        assert [c.ref for c in changes.changes] == [
            ObjectRef("", name, "", "Namespace"),
            ObjectRef(name, "c", "", "ConfigMap"),
        ]
    finally:
        await kapi.delete(kube, NAMESPACES, None, name, missing_ok=True)
