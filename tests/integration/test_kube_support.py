"""Helpers shared by the weir.kube integration tests (this module holds no tests): polling,
and a tiny namespaced test CRD ``Widget`` with a status subresource."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply
from weir.kube.errors import UnknownKindError
from weir.kube.resources import ResourceRef, mapper_for

WIDGETS = ResourceRef("test.weir.dev", "v1", "widgets", True, "Widget")
CRDS = ResourceRef("apiextensions.k8s.io", "v1", "customresourcedefinitions", False)
FIELD_MANAGER = "weir-test"

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.test.weir.dev"},
    "spec": {
        "group": "test.weir.dev",
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
                            "spec": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                            "status": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                        },
                    }
                },
            }
        ],
    },
}


async def ensure_widget_crd(api: ApiClient) -> ResourceRef:
    """Install the Widget CRD (idempotent) and wait until discovery serves it."""
    await apply.apply(api, WIDGET_CRD, FIELD_MANAGER)
    deadline = time.monotonic() + 30
    while True:
        crd = await apply.get(api, CRDS, None, "widgets.test.weir.dev")
        conds = (crd.get("status") or {}).get("conditions") or []
        if any(c["type"] == "Established" and c["status"] == "True" for c in conds):
            break
        if time.monotonic() > deadline:
            raise AssertionError("the Widget CRD did not become Established")
        await asyncio.sleep(0.1)
    while True:
        try:
            return await mapper_for(api).resolve("test.weir.dev/v1", "Widget")
        except UnknownKindError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def widget(name: str, namespace: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "test.weir.dev/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


TEST_LABEL = "weir.test/owner=informer"
"""Set on every test ConfigMap, so informers can ignore the ones kube-controller-manager adds
(``kube-root-ca.crt`` appears in every namespace once the kwok tier has started)."""


def configmap(name: str, namespace: str, **data: str) -> dict[str, Any]:
    key, _, value = TEST_LABEL.partition("=")
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": {key: value}},
        "data": data,
    }
