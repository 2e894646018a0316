"""The generated CRDs on a real kube-apiserver: they are accepted (structural schemas, CEL rules,
defaults), the first user's manifests are accepted as written, invalid objects are refused with
a message naming the field, and ``kubectl get`` shows Flux's printer columns."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio import client
from pydantic import ValidationError

from tests.support.waiting import eventually
from tests.unit.test_api_roundtrip import OBJECTS
from weir.api import KINDS, lookup, parse_object, with_defaults
from weir.api.crds import generate
from weir.types import Obj

FIELD_MANAGER = "weir-test-crds"
KUBECTL = Path(sys.executable).parent / "kubectl"


# ------------------------------------------------------------------------------------ fixtures
async def _with_content_type(
    call: Callable[..., Awaitable[Any]], *args: Any, content_type: str, **kwargs: Any
) -> Any:
    """Call a kubernetes_asyncio patch method with a given Content-Type (the client supports
    ``_content_type``; its type stubs do not list it)."""
    return await call(*args, _content_type=content_type, **kwargs)


@pytest.fixture(scope="session")
async def flux_crds(kube: client.ApiClient) -> list[Obj]:
    """Apply the generated CRDs once (server-side apply, forced, so other test files may
    apply them too) and wait until every one is Established."""
    ext = client.ApiextensionsV1Api(kube)
    crds = generate()
    for crd in crds:
        await _with_content_type(
            ext.patch_custom_resource_definition,
            crd["metadata"]["name"],
            crd,
            field_manager=FIELD_MANAGER,
            force=True,
            content_type="application/apply-patch+yaml",
        )
    for crd in crds:
        await _wait_established(ext, crd["metadata"]["name"])
    return crds


async def _wait_established(ext: client.ApiextensionsV1Api, name: str) -> None:
    async def established() -> bool:
        crd = await ext.read_custom_resource_definition(name)
        conds = {c.type: c.status for c in (crd.status.conditions or [])}
        return conds.get("Established") == "True" and conds.get("NamesAccepted") == "True"

    await eventually(established, f"CRD {name} Established", 10)


async def _create(kube: client.ApiClient, namespace: str, obj: Obj) -> Obj:
    """Create a custom object; retries briefly while a just-established CRD is being served."""
    info = lookup(obj["kind"])
    api = client.CustomObjectsApi(kube)
    for attempt in range(50):
        try:
            created: Obj = await api.create_namespaced_custom_object(
                info.group, info.version, namespace, info.plural, obj
            )
            return created
        except client.ApiException as e:
            if e.status != 404 or attempt == 49:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


async def _get(kube: client.ApiClient, namespace: str, kind: str, name: str) -> Obj:
    info = lookup(kind)
    got: Obj = await client.CustomObjectsApi(kube).get_namespaced_custom_object(
        info.group, info.version, namespace, info.plural, name
    )
    return got


async def _refused(kube: client.ApiClient, namespace: str, obj: Obj) -> str:
    """Create ``obj``, expect 422 Invalid, return the API server's message."""
    with pytest.raises(client.ApiException) as exc:
        await _create(kube, namespace, obj)
    assert exc.value.status == 422, exc.value.body
    message: str = json.loads(exc.value.body or b"{}")["message"]
    return message


async def _kubectl(kubeconfig: str, cache_dir: Path, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        str(KUBECTL),
        "--kubeconfig",
        kubeconfig,
        "--cache-dir",
        str(cache_dir),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


def _header(table: str) -> list[str]:
    return re.split(r"\s{2,}", table.splitlines()[0].strip())


# ------------------------------------------------------------------------------------ manifests
def helm_repository(name: str = "erigon") -> Obj:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmRepository",
        "metadata": {"name": name},
        "spec": {"interval": "1h", "url": "https://charts.example.org/ethereum"},
    }


def erigon_release(repository: str = "erigon") -> Obj:
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "erigon"},
        "spec": {
            "interval": "10m",
            "chart": {
                "spec": {
                    "chart": "erigon",
                    "version": ">=0.1.0",
                    "sourceRef": {"kind": "HelmRepository", "name": repository},
                }
            },
            "values": {
                "persistence": {"enabled": True, "size": "3Ti", "storageClass": "managed-premium"},
                "extraArgs": [
                    "--chain=mainnet",
                    "--prune.mode=archive",
                    "--http.api=eth,net,web3,trace,debug,txpool,erigon,ots",
                    "--http.vhosts=*",
                ],
                "resources": {"requests": {"cpu": 4, "memory": "32Gi"}},
            },
        },
    }


def git_repository() -> Obj:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "fleet"},
        "spec": {
            "interval": "1m",
            "url": "https://git.example.org/etherwurst/fleet.git",
            "ref": {"branch": "main"},
        },
    }


def kustomization() -> Obj:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps"},
        "spec": {
            "interval": "10m",
            "path": "./clusters/production/apps",
            "prune": True,
            "wait": True,
            "timeout": "5m",
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            "dependsOn": [{"name": "infrastructure"}],
            "postBuild": {"substitute": {"CLUSTER": "production"}},
        },
    }


# ------------------------------------------------------------------------------------ tests
async def test_every_kind_is_served_with_flux_names(
    kube: client.ApiClient, flux_crds: list[Obj]
) -> None:
    ext = client.ApiextensionsV1Api(kube)
    assert {c["spec"]["names"]["kind"] for c in flux_crds} == set(KINDS)
    for info in KINDS.values():
        crd = await ext.read_custom_resource_definition(info.crd_name)
        accepted = crd.status.accepted_names
        assert accepted.kind == info.kind
        assert accepted.plural == info.plural
        assert tuple(accepted.short_names or ()) == info.short_names
        assert tuple(accepted.categories or ()) == info.categories
        assert crd.metadata.annotations["kustomize.toolkit.fluxcd.io/substitute"] == "disabled"


def _server_view(obj: Obj) -> Obj:
    """What the API server should store for ``obj``: the model with CRD defaults applied."""
    return with_defaults(parse_object(obj)).model_dump(exclude_none=True)


async def test_erigon_helm_release_is_accepted_as_written(
    kube: client.ApiClient, flux_crds: list[Obj], namespace: str
) -> None:
    await _create(kube, namespace, helm_repository())
    await _create(kube, namespace, erigon_release())

    repo = await _get(kube, namespace, "HelmRepository", "erigon")
    hr = await _get(kube, namespace, "HelmRelease", "erigon")
    # values are kept verbatim (x-kubernetes-preserve-unknown-fields), nothing pruned
    assert hr["spec"]["values"] == erigon_release()["spec"]["values"]
    assert hr["spec"]["chart"]["spec"]["version"] == ">=0.1.0"
    # the server applied exactly the defaults the models declare
    for stored, written in ((repo, helm_repository()), (hr, erigon_release())):
        expected = _server_view(written)
        assert stored["spec"] == expected["spec"]
        assert stored["status"] == expected["status"] == {"observedGeneration": -1}
        parse_object(stored)  # and what the server returns parses back
    assert hr["spec"]["chart"]["spec"]["reconcileStrategy"] == "ChartVersion"
    assert repo["spec"]["provider"] == "generic"


async def test_git_repository_and_kustomization_are_accepted_as_written(
    kube: client.ApiClient, flux_crds: list[Obj], namespace: str
) -> None:
    for obj in (git_repository(), kustomization()):
        await _create(kube, namespace, obj)
        stored = await _get(kube, namespace, obj["kind"], obj["metadata"]["name"])
        assert stored["spec"] == _server_view(obj)["spec"]
        model = parse_object(stored)
        assert model.model_dump(exclude_none=True)["spec"] == stored["spec"]
    gitrepo = await _get(kube, namespace, "GitRepository", "fleet")
    assert gitrepo["spec"]["timeout"] == "60s"


def _without(obj: Obj, *path: str) -> Obj:
    target = obj
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return obj


def _with(obj: Obj, value: Any, *path: str) -> Obj:
    target = obj
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    return obj


def _notification(kind: str, spec: Obj) -> Obj:
    info = KINDS[kind]
    return {"apiVersion": info.api_version, "kind": kind, "metadata": {"name": "bad"}, "spec": spec}


INVALID: list[tuple[str, Callable[[], Obj], tuple[str, ...]]] = [
    (
        "missing url",
        lambda: _without(helm_repository("bad"), "spec", "url"),
        ("spec.url", "Required value"),
    ),
    (
        "missing prune",
        lambda: _without(kustomization(), "spec", "prune"),
        ("spec.prune", "Required value"),
    ),
    (
        "bad provider enum",
        lambda: _with(git_repository(), "foo", "spec", "provider"),
        ("spec.provider", 'Unsupported value: "foo"', '"github"'),
    ),
    (
        "bad duration",
        lambda: _with(kustomization(), "1 hour", "spec", "interval"),
        ("spec.interval", "should match"),
    ),
    (
        "hours in a source timeout",
        lambda: _with(git_repository(), "1h", "spec", "timeout"),
        ("spec.timeout", "should match"),
    ),
    (
        "bad url scheme",
        lambda: _with(git_repository(), "git@example.org:fleet.git", "spec", "url"),
        ("spec.url", "should match"),
    ),
    (
        "chart and chartRef",
        lambda: _with(erigon_release(), {"kind": "OCIRepository", "name": "x"}, "spec", "chartRef"),
        ("spec", "either chart or chartRef must be set"),
    ),
    (
        "neither chart nor chartRef",
        lambda: _without(erigon_release(), "spec", "chart"),
        ("spec", "either chart or chartRef must be set"),
    ),
    (
        "releaseName too long",
        lambda: _with(erigon_release(), "x" * 54, "spec", "releaseName"),
        ("spec.releaseName", "53"),
    ),
    (
        "serviceAccountName with generic git provider",
        lambda: _with(git_repository(), "flux", "spec", "serviceAccountName"),
        ("serviceAccountName can only be set when provider is 'azure' or 'aws'",),
    ),
    (
        "bad receiver type",
        lambda: _notification(
            "Receiver", {"type": "svn", "resources": [], "secretRef": {"name": "t"}}
        ),
        ("spec.type", 'Unsupported value: "svn"'),
    ),
    (
        "receiver without secretRef",
        lambda: _notification("Receiver", {"type": "github", "resources": []}),
        ("secretRef is required when type is not generic-oidc",),
    ),
    (
        "commitStatusExpr on slack",
        lambda: _notification("Provider", {"type": "slack", "commitStatusExpr": "'x'"}),
        ("spec.commitStatusExpr is only supported",),
    ),
    (
        "serviceAccountName on a generic bucket",
        lambda: _notification(
            "Bucket",
            {"bucketName": "b", "endpoint": "e", "interval": "1m", "serviceAccountName": "s"},
        ),
        ("ServiceAccountName is not supported for the 'generic' Bucket provider",),
    ),
    (
        "ldap STS on an aws bucket",
        lambda: _notification(
            "Bucket",
            {
                "provider": "aws",
                "bucketName": "b",
                "endpoint": "e",
                "interval": "1m",
                "sts": {"provider": "ldap", "endpoint": "https://sts"},
            },
        ),
        ("'aws' is the only supported STS provider",),
    ),
    (
        "verify on a chart from git",
        lambda: _notification(
            "HelmChart",
            {
                "chart": "./charts/app",
                "interval": "1m",
                "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                "verify": {"provider": "cosign"},
            },
        ),
        ("spec.verify is only supported when spec.sourceRef.kind is 'HelmRepository'",),
    ),
    (
        "kubeConfig with both references",
        lambda: _with(
            kustomization(),
            {"secretRef": {"name": "kc"}, "configMapRef": {"name": "cluster"}},
            "spec",
            "kubeConfig",
        ),
        ("spec.kubeConfig", "exactly one of secretRef or configMapRef must be set"),
    ),
    (
        "retryInterval with RemediateOnFailure",
        lambda: _with(
            erigon_release(),
            {"strategy": {"name": "RemediateOnFailure", "retryInterval": "1m"}},
            "spec",
            "upgrade",
        ),
        ("spec.upgrade.strategy", ".retryInterval cannot be set"),
    ),
    (
        "bad alert event source kind",
        lambda: _notification(
            "Alert",
            {"providerRef": {"name": "p"}, "eventSources": [{"kind": "Deployment", "name": "x"}]},
        ),
        ("spec.eventSources[0].kind", 'Unsupported value: "Deployment"'),
    ),
    (
        "bad values key",
        lambda: _with(
            erigon_release(),
            [{"kind": "ConfigMap", "name": "v", "valuesKey": "a b"}],
            "spec",
            "valuesFrom",
        ),
        ("spec.valuesFrom[0].valuesKey", "should match"),
    ),
]


@pytest.mark.parametrize(
    ("make", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
async def test_invalid_objects_are_refused_naming_the_field(
    kube: client.ApiClient,
    flux_crds: list[Obj],
    namespace: str,
    make: Callable[[], Obj],
    expected: tuple[str, ...],
) -> None:
    obj = make()
    message = await _refused(kube, namespace, obj)
    for part in expected:
        assert part in message, message
    # the models refuse the same object
    with pytest.raises(ValidationError):
        parse_object(obj)


async def test_status_subresource_and_printer_columns(
    kube: client.ApiClient,
    flux_crds: list[Obj],
    namespace: str,
    kubeconfig: str,
    tmp_path: Path,
) -> None:
    await _create(kube, namespace, helm_repository())
    await _create(kube, namespace, erigon_release())
    await _create(kube, namespace, git_repository())
    await _create(kube, namespace, kustomization())

    # a Flux-shaped status is accepted through the status subresource
    info = lookup("HelmRepository")
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "Succeeded",
        "message": "stored artifact: revision 'sha256:0a1b2c'",
        "observedGeneration": 1,
        "lastTransitionTime": "2026-11-25T21:30:00Z",
    }
    status = {
        "observedGeneration": 1,
        "conditions": [ready],
        "artifact": {
            "digest": "sha256:0a1b2c",
            "lastUpdateTime": "2026-11-25T21:30:00Z",
            "path": f"helmrepository/{namespace}/erigon/index-0a1b2c.yaml",
            "revision": "sha256:0a1b2c",
            "size": 1024,
            "url": f"http://source-controller.flux-system.svc.cluster.local./helmrepository/{namespace}/erigon/index-0a1b2c.yaml",
        },
    }
    await _with_content_type(
        client.CustomObjectsApi(kube).patch_namespaced_custom_object_status,
        info.group,
        info.version,
        namespace,
        info.plural,
        "erigon",
        {"status": status},
        content_type="application/merge-patch+json",
    )
    repo = parse_object(await _get(kube, namespace, "HelmRepository", "erigon"))
    assert repo.is_ready()

    kc = (kubeconfig, tmp_path / "kubectl-cache")
    table = await _kubectl(*kc, "get", "helmrepo", "-n", namespace)
    assert _header(table) == ["NAME", "URL", "AGE", "READY", "STATUS"]
    row = table.splitlines()[1]
    assert "https://charts.example.org/ethereum" in row
    assert "True" in row
    assert "stored artifact: revision 'sha256:0a1b2c'" in row

    for short, columns in (
        ("hr", ["NAME", "AGE", "READY", "STATUS"]),
        ("ks", ["NAME", "AGE", "READY", "STATUS"]),
        ("gitrepo", ["NAME", "URL", "AGE", "READY", "STATUS"]),
    ):
        table = await _kubectl(*kc, "get", short, "-n", namespace)
        assert _header(table) == columns, table

    listed = await _kubectl(*kc, "get", "fluxcd", "-n", namespace, "-o", "name")
    assert sorted(listed.split()) == sorted(
        [
            "helmrelease.helm.toolkit.fluxcd.io/erigon",
            "helmrepository.source.toolkit.fluxcd.io/erigon",
            "gitrepository.source.toolkit.fluxcd.io/fleet",
            "kustomization.kustomize.toolkit.fluxcd.io/apps",
        ]
    )


@pytest.mark.parametrize("kind", sorted(OBJECTS))
async def test_complete_flux_objects_are_stored_verbatim(
    kube: client.ApiClient, flux_crds: list[Obj], namespace: str, kind: str
) -> None:
    """Objects as Flux's controllers write them, status included, pass the schemas and come
    back unpruned; what the server returns (managedFields and all) round-trips the models."""
    sample = copy.deepcopy(OBJECTS[kind])
    status = sample.pop("status", None)
    meta = sample["metadata"]
    sample["metadata"] = {k: meta[k] for k in ("name", "labels", "annotations")}
    await _create(kube, namespace, sample)
    info = lookup(kind)
    if status is not None:
        await _with_content_type(
            client.CustomObjectsApi(kube).patch_namespaced_custom_object_status,
            info.group,
            info.version,
            namespace,
            info.plural,
            sample["metadata"]["name"],
            {"status": status},
            content_type="application/merge-patch+json",
        )
    stored = await _get(kube, namespace, kind, sample["metadata"]["name"])
    assert stored["spec"] == _server_view(sample)["spec"]
    assert stored.get("status") == status
    assert parse_object(stored).model_dump(exclude_none=True) == stored
