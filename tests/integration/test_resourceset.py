"""The ResourceSet and ResourceSetInputProvider reconcilers against a real API server
(``weir run --controllers=resourcesets`` in-process, watching the test's namespace)."""

from __future__ import annotations

import base64
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client

from tests.support.operator import condition
from tests.support.waiting import eventually, wait_for, wait_gone
from weir.api.kinds import lookup
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.resources import CONFIG_MAPS, SECRETS
from weir.runtime.manager import Manager
from weir.testing.controllers import running_resourcesets

Obj = dict[str, Any]
RSETS = lookup("ResourceSet").resource
RSIPS = lookup("ResourceSetInputProvider").resource
MANAGER = "test"


@pytest.fixture
async def operator(
    kubeconfig: str, flux_crds: None, namespace: str, tmp_path: Path
) -> AsyncIterator[Manager]:
    async with running_resourcesets(kubeconfig, tmp_path, watch_namespace=namespace) as m:
        yield m


def rset(namespace: str, name: str, spec: Obj, annotations: dict[str, str] | None = None) -> Obj:
    meta: Obj = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "fluxcd.controlplane.io/v1",
        "kind": "ResourceSet",
        "metadata": meta,
        "spec": spec,
    }


def configmap_template(namespace: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "app-<< inputs.env >>", "namespace": namespace},
        "data": {"replicas": "<< inputs.replicas | quote >>", "id": "<< inputs.id | quote >>"},
    }


def ready_at(obj: Obj, generation: int | None = None) -> bool:
    cond = condition(obj)
    want = generation or (obj.get("metadata") or {}).get("generation")
    return cond.get("status") == "True" and cond.get("observedGeneration") == want


def failed(reason: str) -> Any:
    def check(obj: Obj) -> bool:
        cond = condition(obj)
        gen = (obj.get("metadata") or {}).get("generation")
        return (
            cond.get("status") == "False"
            and cond.get("reason") == reason
            and cond.get("observedGeneration") == gen
        )

    return check


async def apply(kube: client.ApiClient, obj: Obj) -> Obj:
    return await kapi.apply(kube, obj, MANAGER, force=True)


async def configmap(kube: client.ApiClient, namespace: str, name: str) -> Obj | None:
    try:
        return await kapi.get(kube, CONFIG_MAPS, namespace, name)
    except NotFoundError:
        return None


async def test_inputs_render_apply_prune_and_bad_input(
    kube: client.ApiClient, namespace: str, operator: Manager
) -> None:
    spec: Obj = {
        "inputs": [{"env": "staging", "replicas": 1}, {"env": "production", "replicas": 3}],
        "commonMetadata": {"labels": {"app.kubernetes.io/part-of": "demo"}},
        "resources": [configmap_template(namespace)],
    }
    await apply(kube, rset(namespace, "app", spec))
    done = await wait_for(kube, RSETS, namespace, "app", ready_at, "the ResourceSet Ready")
    assert condition(done)["reason"] == "ReconciliationSucceeded"
    assert condition(done)["message"].startswith("Reconciliation finished in ")
    ids = sorted(e["id"] for e in done["status"]["inventory"]["entries"])
    assert ids == [f"{namespace}_app-production__ConfigMap", f"{namespace}_app-staging__ConfigMap"]
    assert done["status"]["lastAppliedRevision"].startswith("sha256:")
    first = done["status"]["history"][0]
    assert first["lastReconciledStatus"] == "ReconciliationSucceeded"
    assert first["metadata"] == {"inputs": "2", "resources": "2"}
    production = await configmap(kube, namespace, "app-production")
    assert production is not None
    assert production["data"]["replicas"] == "3"
    labels = production["metadata"]["labels"]
    assert labels["app.kubernetes.io/part-of"] == "demo"
    assert labels["resourceset.fluxcd.controlplane.io/name"] == "app"
    fields = {m["manager"] for m in production["metadata"]["managedFields"]}
    assert "flux-operator" in fields

    # one input less: its object is garbage-collected
    spec["inputs"] = [{"env": "production", "replicas": 2}]
    await apply(kube, rset(namespace, "app", spec))
    await wait_for(kube, RSETS, namespace, "app", lambda o: ready_at(o, 2), "generation 2")
    assert await configmap(kube, namespace, "app-staging") is None
    production = await configmap(kube, namespace, "app-production")
    assert production is not None
    assert production["data"]["replicas"] == "2"

    # bad input: a template that does not parse, then a missing key: nothing touched
    for broken, fragment in (
        ("<< inputs.env ", "failed to parse template"),
        ("<< inputs.nothere >>", "nothere"),
    ):
        bad = configmap_template(namespace)
        bad["data"]["broken"] = broken
        spec["resources"] = [bad]
        applied = await apply(kube, rset(namespace, "app", spec))
        gen = applied["metadata"]["generation"]
        stalled = await wait_for(
            kube, RSETS, namespace, "app", failed("BuildFailed"), f"BuildFailed at {gen}"
        )
        assert fragment in condition(stalled)["message"]
        stalled_cond = condition(stalled, "Stalled")
        assert stalled_cond.get("status") == "True"
        assert stalled["status"]["history"][0]["lastReconciledStatus"] == "BuildFailed"
        left = await configmap(kube, namespace, "app-production")
        assert left is not None
        assert left["data"]["replicas"] == "2"
        assert "broken" not in left["data"]

    # deleting the ResourceSet deletes what it generated
    await kapi.delete(kube, RSETS, namespace, "app")
    await wait_gone(kube, RSETS, namespace, "app")
    assert await configmap(kube, namespace, "app-production") is None


async def test_permutations_over_the_cap_are_refused(
    kube: client.ApiClient, namespace: str, operator: Manager
) -> None:
    provider = {
        "apiVersion": "fluxcd.controlplane.io/v1",
        "kind": "ResourceSetInputProvider",
        "metadata": {"name": "numbers", "namespace": namespace},
        "spec": {"type": "Static", "defaultValues": {"x": "y"}},
    }
    await apply(kube, provider)
    # the providers' sets and the in-line ones multiply: 1 x 10001 > 10000
    spec: Obj = {
        "inputStrategy": {"name": "Permute"},
        "inputs": [{"n": i} for i in range(10_001)],
        "inputsFrom": [{"name": "numbers"}],
        "resources": [configmap_template(namespace)],
    }
    await apply(kube, rset(namespace, "perm", spec))
    stalled = await wait_for(kube, RSETS, namespace, "perm", failed("BuildFailed"), "the cap")
    assert "maximum allowed permutations" in condition(stalled)["message"]


async def test_providers_dependencies_copy_from_and_service_accounts(
    kube: client.ApiClient, namespace: str, operator: Manager
) -> None:
    static = {
        "apiVersion": "fluxcd.controlplane.io/v1",
        "kind": "ResourceSetInputProvider",
        "metadata": {"name": "team-a", "namespace": namespace, "labels": {"tenants": "yes"}},
        "spec": {"type": "Static", "defaultValues": {"env": "team-a", "replicas": 2}},
    }
    await apply(kube, static)
    provider = await wait_for(kube, RSIPS, namespace, "team-a", ready_at, "the Static provider")
    exported = provider["status"]["exportedInputs"]
    assert len(exported) == 1
    assert exported[0]["env"] == "team-a"
    uid = provider["metadata"]["uid"]
    assert exported[0]["id"] == str(zlib.adler32(uid.encode()))
    assert provider["status"]["lastExportedRevision"].startswith("sha256:")

    await apply(
        kube,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "shared", "namespace": namespace},
            "stringData": {"token": "s3cr3t"},
        },
    )
    copied = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "copy-<< inputs.env >>",
            "namespace": namespace,
            "annotations": {"fluxcd.controlplane.io/copyFrom": f"{namespace}/shared"},
        },
    }
    spec: Obj = {
        "inputsFrom": [{"selector": {"matchLabels": {"tenants": "yes"}}}],
        "dependsOn": [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "name": "gate",
                "ready": True,
                "readyExpr": "data.open == 'yes'",
            },
        ],
        "resources": [configmap_template(namespace), copied],
    }
    await apply(kube, rset(namespace, "tenants", spec))
    waiting = await wait_for(
        kube, RSETS, namespace, "tenants", failed("DependencyNotReady"), "DependencyNotReady"
    )
    assert "gate not found" in condition(waiting)["message"]
    gate: Obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "gate", "namespace": namespace},
        "data": {"open": "no"},
    }
    await apply(kube, gate)

    async def says_expression() -> bool:
        obj = await kapi.get(kube, RSETS, namespace, "tenants")
        return "expression 'data.open == 'yes''" in condition(obj).get("message", "")

    await eventually(says_expression, "the readyExpr to be reported", 30)
    gate["data"]["open"] = "yes"
    await apply(kube, gate)
    await wait_for(kube, RSETS, namespace, "tenants", ready_at, "the gate to open")
    cm = await configmap(kube, namespace, "app-team-a")
    assert cm is not None
    assert cm["data"]["replicas"] == "2"
    secret = await kapi.get(kube, SECRETS, namespace, "copy-team-a")
    assert base64.b64decode(secret["data"]["token"]) == b"s3cr3t"

    # an invalid readyExpr is terminal
    spec["dependsOn"][0]["readyExpr"] = "data.open =="
    await apply(kube, rset(namespace, "tenants", spec))
    await wait_for(
        kube, RSETS, namespace, "tenants", failed("InvalidCELExpression"), "InvalidCELExpression"
    )

    # impersonating a service account without rights: the apply is refused, nothing deleted
    spec["dependsOn"] = []
    spec["serviceAccountName"] = "nobody"
    await apply(kube, rset(namespace, "tenants", spec))
    refused = await wait_for(
        kube, RSETS, namespace, "tenants", failed("ReconciliationFailed"), "the SA refused"
    )
    assert "system:serviceaccount:" + namespace + ":nobody" in condition(refused)["message"]
    assert await configmap(kube, namespace, "app-team-a") is not None
