"""Flux's apply stages and the deterministic order within them."""

from __future__ import annotations

import random
from typing import Any

from weir.kube.order import Stage, apply_order, stage_of, staged


def obj(api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


OBJECTS = [
    obj("apps/v1", "Deployment", "web", "apps"),
    obj("v1", "Service", "web", "apps"),
    obj("example.com/v1", "Widget", "w", "apps"),
    obj("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "hook"),
    obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "crb"),
    obj("rbac.authorization.k8s.io/v1", "ClusterRole", "cr"),
    obj("networking.k8s.io/v1", "IngressClass", "nginx"),
    obj("storage.k8s.io/v1", "StorageClass", "fast"),
    obj("v1", "ConfigMap", "b", "apps"),
    obj("v1", "ConfigMap", "a", "apps"),
    obj("v1", "ConfigMap", "a", "other"),
    obj("v1", "Namespace", "apps"),
    obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"),
    obj("v1", "ServiceAccount", "sa", "apps"),
    obj("batch/v1", "CronJob", "cj", "apps"),
    obj("gateway.networking.k8s.io/v1", "GatewayClass", "gw"),
]


def names(objects: list[dict[str, Any]]) -> list[str]:
    return [
        f"{o['kind']}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}" for o in objects
    ]


def test_stages() -> None:
    assert stage_of(obj("v1", "Namespace", "x")) is Stage.CLUSTER_DEFINITIONS
    assert (
        stage_of(obj("rbac.authorization.k8s.io/v1", "ClusterRole", "x"))
        is Stage.CLUSTER_DEFINITIONS
    )
    assert stage_of(obj("example.com/v1", "Namespace", "x")) is Stage.REST  # not core
    assert stage_of(obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "x")) is Stage.REST
    assert stage_of(obj("cluster.x-k8s.io/v1beta1", "ClusterClass", "x")) is Stage.CLASSES
    assert stage_of(obj("scheduling.k8s.io/v1", "PriorityClass", "x")) is Stage.CLASSES
    assert stage_of(obj("example.com/v1", "Widget", "x"), {"Widget"}) is Stage.CUSTOM
    assert [s.waits for s in Stage] == [True, True, False, False]


def test_apply_order_is_flux_order_and_deterministic() -> None:
    expected = [
        "CustomResourceDefinition//widgets.example.com",
        "Namespace//apps",
        "ClusterRole//cr",
        "StorageClass//fast",  # ranked by Flux's kind order, not by name
        "IngressClass//nginx",
        "GatewayClass//gw",
        "ClusterRoleBinding//crb",
        "ServiceAccount/apps/sa",
        "ConfigMap/apps/a",
        "ConfigMap/apps/b",
        "ConfigMap/other/a",
        "Service/apps/web",
        "Deployment/apps/web",
        "CronJob/apps/cj",
        "Widget/apps/w",
        "ValidatingWebhookConfiguration//hook",
    ]
    assert names(apply_order(OBJECTS)) == expected
    shuffled = OBJECTS[:]
    random.Random(7).shuffle(shuffled)
    assert names(apply_order(shuffled)) == expected


def test_staged_groups() -> None:
    stages = staged(OBJECTS, custom_kinds={"Widget"})
    assert [(s, len(objs)) for s, objs in stages] == [
        (Stage.CLUSTER_DEFINITIONS, 3),
        (Stage.CLASSES, 3),
        (Stage.CUSTOM, 1),
        (Stage.REST, 9),
    ]
    assert staged([]) == []
