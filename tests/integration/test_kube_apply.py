"""Server-side apply, dry-run, field conflicts, status patches, finalizers and deletes against
the real API server."""

from __future__ import annotations

import pytest
from kubernetes_asyncio.client import ApiClient

from tests.integration.test_kube_support import (
    FIELD_MANAGER,
    configmap,
    ensure_widget_crd,
    widget,
)
from weir.kube import apply
from weir.kube.errors import ConflictError, NotFoundError, UnknownKindError
from weir.kube.resources import ResourceRef, mapper_for

CONFIGMAPS = ResourceRef("", "v1", "configmaps", True)


async def test_discovery_maps_kinds(kube: ApiClient) -> None:
    mapper = mapper_for(kube)
    deploy = await mapper.resolve("apps/v1", "Deployment")
    assert deploy == ResourceRef("apps", "v1", "deployments", True)
    assert (await mapper.resolve("v1", "Namespace")).namespaced is False
    assert await mapper.resolve("apps/v1", "Deployment") is deploy  # cached
    with pytest.raises(UnknownKindError, match="CustomResourceDefinition"):
        await mapper.resolve("nope.weir.dev/v1", "Nothing")


async def test_apply_creates_updates_and_dry_runs(kube: ApiClient, namespace: str) -> None:
    created = await apply.apply(kube, configmap("cm", namespace, a="1"), FIELD_MANAGER)
    assert created["data"] == {"a": "1"}
    managers = [m["manager"] for m in created["metadata"]["managedFields"]]
    assert managers == [FIELD_MANAGER]

    dry = await apply.apply(kube, configmap("cm", namespace, a="2"), FIELD_MANAGER, dry_run=True)
    assert dry["data"] == {"a": "2"}
    stored = await apply.get(kube, CONFIGMAPS, namespace, "cm")
    assert stored["data"] == {"a": "1"}
    assert stored["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]

    # Applying without a field we set before removes it (we own it).
    updated = await apply.apply(kube, configmap("cm", namespace, b="2"), FIELD_MANAGER)
    assert updated["data"] == {"b": "2"}

    # A no-op apply does not bump the resourceVersion.
    again = await apply.apply(kube, configmap("cm", namespace, b="2"), FIELD_MANAGER)
    assert again["metadata"]["resourceVersion"] == updated["metadata"]["resourceVersion"]


async def test_apply_conflict_and_force(kube: ApiClient, namespace: str) -> None:
    await apply.apply(kube, configmap("cm", namespace, a="1"), "owner")
    with pytest.raises(ConflictError) as err:
        await apply.apply(kube, configmap("cm", namespace, a="2"), "intruder")
    assert "conflict" in err.value.message.lower()
    forced = await apply.apply(kube, configmap("cm", namespace, a="2"), "intruder", force=True)
    assert forced["data"] == {"a": "2"}
    owners = {m["manager"] for m in forced["metadata"]["managedFields"] if "f:data" in str(m)}
    assert owners == {"intruder"}


async def test_get_and_delete(kube: ApiClient, namespace: str) -> None:
    with pytest.raises(NotFoundError, match="not found"):
        await apply.get(kube, CONFIGMAPS, namespace, "missing")
    assert await apply.delete(kube, CONFIGMAPS, namespace, "missing", missing_ok=True) is None
    with pytest.raises(NotFoundError):
        await apply.delete(kube, CONFIGMAPS, namespace, "missing")
    await apply.apply(kube, configmap("cm", namespace), FIELD_MANAGER)
    dry = await apply.delete(kube, CONFIGMAPS, namespace, "cm", dry_run=True)
    assert dry is not None
    await apply.get(kube, CONFIGMAPS, namespace, "cm")  # still there
    await apply.delete(kube, CONFIGMAPS, namespace, "cm")
    with pytest.raises(NotFoundError):
        await apply.get(kube, CONFIGMAPS, namespace, "cm")

    # Foreground deletion leaves the object with a finalizer for the garbage collector. When
    # the shared control plane runs kube-controller-manager, its GC may remove it first; then
    # remove_finalizer finds the object gone and says so with None. Either way it goes.
    await apply.apply(kube, configmap("fg", namespace), FIELD_MANAGER)
    fg = await apply.delete(kube, CONFIGMAPS, namespace, "fg", propagation_policy="Foreground")
    assert fg is not None
    assert fg["metadata"]["finalizers"] == ["foregroundDeletion"]
    removed = await apply.remove_finalizer(kube, fg, "foregroundDeletion")
    assert removed is None or "foregroundDeletion" not in removed["metadata"].get("finalizers", [])
    with pytest.raises(NotFoundError):
        await apply.get(kube, CONFIGMAPS, namespace, "fg")


async def test_patch_status_on_subresource(kube: ApiClient, namespace: str) -> None:
    widgets = await ensure_widget_crd(kube)
    created = await apply.apply(kube, widget("w", namespace, size=1), FIELD_MANAGER)
    status = {
        "observedGeneration": 1,
        "phase": "Ready",
        "conditions": [{"type": "Ready", "status": "True", "reason": "Done"}],
    }
    patched = await apply.patch_status(kube, widgets, namespace, "w", status, "weir-controller")
    assert patched["status"] == status
    assert patched["metadata"]["generation"] == created["metadata"]["generation"]
    status_managers = [
        m["manager"] for m in patched["metadata"]["managedFields"] if m.get("subresource")
    ]
    assert status_managers == ["weir-controller"]

    # Keys given replace, None removes, others stay; a spec sent to /status is ignored.
    patched = await apply.patch_status(
        kube, widgets, namespace, "w", {"phase": None, "extra": "x"}, "weir-controller"
    )
    assert patched["status"] == {
        "observedGeneration": 1,
        "conditions": status["conditions"],
        "extra": "x",
    }
    # Applying the spec leaves the status alone.
    applied = await apply.apply(kube, widget("w", namespace, size=2), FIELD_MANAGER)
    assert applied["status"]["extra"] == "x"
    assert applied["spec"] == {"size": 2}


async def test_finalizers_do_not_clobber_concurrent_changes(
    kube: ApiClient, namespace: str
) -> None:
    stale = await apply.apply(kube, configmap("cm", namespace), FIELD_MANAGER)
    # Someone else adds a finalizer after we read the object.
    other = await apply.add_finalizer(kube, stale, "other.weir.dev/f")
    assert other["metadata"]["finalizers"] == ["other.weir.dev/f"]
    ours = await apply.add_finalizer(kube, stale, "weir.dev/f")  # stale: 409, re-read, retry
    assert ours["metadata"]["finalizers"] == ["other.weir.dev/f", "weir.dev/f"]
    assert await apply.add_finalizer(kube, ours, "weir.dev/f") is ours  # present: no call

    await apply.delete(kube, CONFIGMAPS, namespace, "cm")
    terminating = await apply.get(kube, CONFIGMAPS, namespace, "cm")
    assert terminating["metadata"]["deletionTimestamp"]
    left = await apply.remove_finalizer(kube, ours, "weir.dev/f")  # stale again
    assert left is not None
    assert left["metadata"]["finalizers"] == ["other.weir.dev/f"]
    await apply.remove_finalizer(kube, left, "other.weir.dev/f")
    with pytest.raises(NotFoundError):
        await apply.get(kube, CONFIGMAPS, namespace, "cm")
    assert await apply.remove_finalizer(kube, left, "other.weir.dev/f") is None
