"""The development control plane is a real Kubernetes API: CRDs, custom objects, the status
subresource and watches all work through kubernetes_asyncio."""

from __future__ import annotations

import asyncio
from typing import Any

from kubernetes_asyncio import client, watch

from weir.devcluster import DevCluster
from weir.devcluster.process import https_get

GROUP = "devcluster.weir.test"
CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"widgets.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                            "status": {
                                "type": "object",
                                "properties": {"phase": {"type": "string"}},
                            },
                        },
                    }
                },
            }
        ],
    },
}


async def _ensure_crd(kube: client.ApiClient) -> None:
    ext = client.ApiextensionsV1Api(kube)
    try:
        await ext.create_custom_resource_definition(CRD)  # type: ignore[arg-type]
    except client.ApiException as e:
        if e.status != 409:
            raise
    for _ in range(100):
        crd = await ext.read_custom_resource_definition(CRD["metadata"]["name"])
        conds = {c.type: c.status for c in (crd.status.conditions or [])}
        if conds.get("Established") == "True":
            return
        await asyncio.sleep(0.1)
    raise AssertionError("CRD never became Established")


def test_version_is_stamped(control_plane: DevCluster) -> None:
    st = control_plane.state()
    assert st is not None
    status, body = https_get(st.apiserver_port, "/version", control_plane.pki_dir / "ca.crt")
    assert status == 200
    assert f'"gitVersion": "{st.version}"' in body


async def test_crd_custom_object_status_and_watch(kube: client.ApiClient, namespace: str) -> None:
    await _ensure_crd(kube)
    custom = client.CustomObjectsApi(kube)
    obj = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Widget",
        "metadata": {"name": "w1"},
        "spec": {"size": 3},
    }
    created = await custom.create_namespaced_custom_object(GROUP, "v1", namespace, "widgets", obj)
    rv = created["metadata"]["resourceVersion"]

    seen: list[dict[str, Any]] = []

    async def watch_status() -> None:
        w = watch.Watch()
        async with w.stream(
            custom.list_namespaced_custom_object,
            GROUP,
            "v1",
            namespace,
            "widgets",
            resource_version=rv,
            timeout_seconds=20,
        ) as stream:
            async for event in stream:
                seen.append(event)
                if (event["object"].get("status") or {}).get("phase") == "Ready":
                    return

    watcher = asyncio.create_task(watch_status())
    await asyncio.sleep(0.2)
    patched = await custom.patch_namespaced_custom_object_status(  # type: ignore[call-arg]
        GROUP,
        "v1",
        namespace,
        "widgets",
        "w1",
        {"status": {"phase": "Ready"}},
        _content_type="application/merge-patch+json",
    )
    assert patched["status"]["phase"] == "Ready"
    # The status subresource ignores spec changes and bumps no generation.
    assert patched["metadata"]["generation"] == created["metadata"]["generation"]
    await asyncio.wait_for(watcher, 20)
    assert seen[-1]["type"] == "MODIFIED"
    assert seen[-1]["object"]["status"] == {"phase": "Ready"}
