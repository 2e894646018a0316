"""With kube-controller-manager, kube-scheduler and kwok, a Deployment becomes Available."""

from __future__ import annotations

import asyncio

from kubernetes_asyncio import client

from weir.devcluster import DevCluster


async def test_deployment_with_two_replicas_becomes_available(
    kwok_cluster: DevCluster, kube: client.ApiClient, namespace: str
) -> None:
    apps = client.AppsV1Api(kube)
    labels = {"app": "erigon"}
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="erigon"),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    containers=[client.V1Container(name="erigon", image="erigontech/erigon:v3")]
                ),
            ),
        ),
    )
    await apps.create_namespaced_deployment(namespace, dep)
    status = None
    for _ in range(600):
        d = await apps.read_namespaced_deployment("erigon", namespace)
        status = d.status
        conds = {c.type: c.status for c in (status.conditions or [])}
        if status.available_replicas == 2 and conds.get("Available") == "True":
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"Deployment never became Available: {status}")
    pods = await client.CoreV1Api(kube).list_namespaced_pod(namespace, label_selector="app=erigon")
    assert len(pods.items) == 2
    for pod in pods.items:
        assert pod.spec.node_name in kwok_cluster.state().nodes  # type: ignore[union-attr]
        assert pod.status.phase == "Running"
