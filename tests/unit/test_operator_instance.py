"""FluxInstance -> desired installation -> rendered objects -> unit settings (no cluster)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from weir.api.source import Bucket
from weir.helm.settings import HelmSettings
from weir.kustomize.settings import KustomizeSettings
from weir.operator.instance import distribution as dist
from weir.operator.instance.desired import (
    ARTIFACT_FAILED,
    BUILD_FAILED,
    RECONCILIATION_FAILED,
    Desired,
    InstanceError,
    Options,
    desired_state,
)
from weir.operator.instance.patches import apply_patches
from weir.operator.instance.plans import SettingsError, local_plans, run_settings
from weir.operator.instance.render import render, settings_name, sync_objects
from weir.operator.instance.syncref import git_ref, is_semver_range, oci_ref
from weir.runtime.factories import ControllerRegistry
from weir.runtime.settings import RunSettings
from weir.source.settings import SourceSettings, StorageSettings

Obj = dict[str, Any]

GUIDE = yaml.safe_load(
    """
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata: {name: flux, namespace: flux-system}
spec:
  distribution:
    version: "2.x"
    registry: "ghcr.io/fluxcd"
    artifact: "oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests"
  components: [source-controller, kustomize-controller, helm-controller, notification-controller]
  cluster: {type: kubernetes, size: medium, multitenant: false, networkPolicy: true}
  sync:
    kind: GitRepository
    url: "https://github.com/YOUR_ORG/etherwurst-fleet.git"
    ref: "refs/heads/main"
    path: "clusters/etherwurst"
    pullSecret: "flux-system"
"""
)


def _registry(*names: str) -> ControllerRegistry:
    registry = ControllerRegistry()
    for name in names or ("source", "kustomize", "helm", "notification"):
        registry.register(name, lambda ctx: [])
    return registry


def _desired(doc: Obj | None = None, mode: str = "cluster", **spec: Any) -> Desired:
    obj = copy.deepcopy(doc or GUIDE)
    obj["spec"].update(spec)
    options = Options(namespace="flux-system", mode="cluster" if mode == "cluster" else "local")
    return desired_state(obj, options, _registry())


def _by_name(objects: list[Obj], kind: str, name: str) -> Obj:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def test_the_guides_manifest_is_accepted_with_its_four_components() -> None:
    desired = _desired()
    assert desired.components == [
        "source-controller",
        "kustomize-controller",
        "helm-controller",
        "notification-controller",
    ]
    assert desired.release.flux_tag == "v" + dist.FLUX_VERSION
    settings = {u.name: u.settings for u in desired.units}
    assert settings["kustomize-controller"] == {
        "controllers": "kustomize",
        "concurrent": "10",
        "requeue-dependency": "5s",
    }
    assert settings["source-controller"] == {"controllers": "source", "concurrent": "5"}
    assert settings["notification-controller"] == {"controllers": "notification"}
    fields = {n.field for n in desired.not_applicable}
    assert fields == {
        "spec.distribution.artifact",
        "spec.distribution.registry",
        "spec.migrateResources",
    }


def test_rendered_objects_of_the_guide() -> None:
    objects = render(_desired())
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for name in ("source-controller", "kustomize-controller", "helm-controller"):
        assert ("Deployment", name) in kinds
        assert ("ServiceAccount", name) in kinds
        assert ("ConfigMap", settings_name(name)) in kinds
    assert ("Service", "source-controller") in kinds
    assert ("Service", "webhook-receiver") in kinds
    assert {n for k, n in kinds if k == "NetworkPolicy"} == {
        "allow-egress",
        "allow-scraping",
        "allow-webhooks",
    }
    assert ("ClusterRoleBinding", "cluster-reconciler-flux-system") in kinds
    crds = [o for o in objects if o["kind"] == "CustomResourceDefinition"]
    assert {c["metadata"]["name"] for c in crds} >= {
        "gitrepositories.source.toolkit.fluxcd.io",
        "kustomizations.kustomize.toolkit.fluxcd.io",
        "helmreleases.helm.toolkit.fluxcd.io",
    }
    assert all(
        c["metadata"]["annotations"]["fluxcd.controlplane.io/prune"] == "disabled" for c in crds
    )
    git = _by_name(objects, "GitRepository", "flux-system")
    assert git["spec"] == {
        "interval": "1m",
        "url": "https://github.com/YOUR_ORG/etherwurst-fleet.git",
        "ref": {"name": "refs/heads/main"},
        "secretRef": {"name": "flux-system"},
    }
    ks = _by_name(objects, "Kustomization", "flux-system")
    assert ks["spec"] == {
        "interval": "1m",
        "path": "clusters/etherwurst",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
    }
    dep = _by_name(objects, "Deployment", "kustomize-controller")
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == f"{dist.IMAGE_REPOSITORY}:{dist.default_catalog()[0].weir}"
    assert "--plan-configmap=flux-system/kustomize-controller-settings" in container["args"]
    assert container["resources"]["limits"] == {"cpu": "2000m", "memory": "1Gi"}
    assert container["securityContext"]["runAsNonRoot"] is True
    for obj in objects:
        labels = obj["metadata"]["labels"]
        assert labels["fluxcd.controlplane.io/name"] == "flux"
        assert labels["fluxcd.controlplane.io/namespace"] == "flux-system"


@pytest.mark.parametrize(
    ("size", "kustomize", "source", "requeue", "memory"),
    [
        ("small", "5", None, "10s", "512Mi"),
        ("medium", "10", "5", "5s", "1Gi"),
        ("large", "20", "10", "5s", "3Gi"),
        (None, None, None, None, "1Gi"),
    ],
)
def test_size_profiles(
    size: str | None, kustomize: str | None, source: str | None, requeue: str | None, memory: str
) -> None:
    cluster = {"size": size} if size else {}
    units = {u.name: u for u in _desired(cluster=cluster).units}
    assert units["kustomize-controller"].settings.get("concurrent") == kustomize
    assert units["helm-controller"].settings.get("concurrent") == kustomize
    assert units["kustomize-controller"].settings.get("requeue-dependency") == requeue
    assert units["source-controller"].settings.get("concurrent") == source
    assert units["kustomize-controller"].resources.memory_limit == memory


def test_multitenant_sets_the_lockdown_flags() -> None:
    cluster = {"multitenant": True, "tenantDefaultServiceAccount": "tenant"}
    units = {u.name: u.settings for u in _desired(cluster=cluster).units}
    for name in ("kustomize-controller", "helm-controller"):
        assert units[name]["no-cross-namespace-refs"] == "true"
        assert units[name]["default-service-account"] == "tenant"
    assert units["notification-controller"]["no-cross-namespace-refs"] == "true"
    assert "default-service-account" not in units["source-controller"]


def test_sharding_splits_the_shardable_controllers() -> None:
    desired = _desired(sharding={"shards": ["shard1", "shard2"]})
    names = [u.name for u in desired.units]
    assert names == [
        "source-controller",
        "source-controller-shard1",
        "source-controller-shard2",
        "kustomize-controller",
        "kustomize-controller-shard1",
        "kustomize-controller-shard2",
        "helm-controller",
        "helm-controller-shard1",
        "helm-controller-shard2",
        "notification-controller",
    ]
    units = {u.name: u.settings for u in desired.units}
    assert units["kustomize-controller"]["watch-label-selector"] == "!sharding.fluxcd.io/key"
    assert units["kustomize-controller-shard2"]["watch-label-selector"] == (
        "sharding.fluxcd.io/key in (shard2)"
    )
    assert "watch-label-selector" not in units["notification-controller"]
    objects = render(desired)
    shard_svc = _by_name(objects, "Service", "source-controller-shard1")
    assert shard_svc["spec"]["selector"] == {"app": "source-controller-shard1"}
    dep = _by_name(objects, "Deployment", "source-controller-shard1")
    args = dep["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--storage-adv-addr=source-controller-shard1.flux-system.svc.cluster.local." in args


def test_local_plans_run_every_unit_in_process() -> None:
    desired = _desired(mode="local", sharding={"key": "team", "shards": ["a"]})
    base = RunSettings(
        watch_namespace="ns1",
        watch_label_selector="run=1",
        features=(
            SourceSettings(storage=StorageSettings(path="/tmp/store", addr="127.0.0.1:9090")),
            KustomizeSettings(),
            HelmSettings(),
        ),
    )
    plans = {p.name: p.run for p in local_plans(render(desired), base)}
    assert plans["kustomize-controller"].concurrent == 10
    assert plans["kustomize-controller"].feature(KustomizeSettings).requeue_dependency == 5.0
    assert plans["helm-controller"].feature(HelmSettings).requeue_dependency == 5.0
    assert plans["kustomize-controller"].watch_label_selector == "run=1,!team"
    assert plans["kustomize-controller-a"].watch_label_selector == "run=1,team in (a)"
    assert plans["source-controller"].feature(SourceSettings).storage.addr == "127.0.0.1:9090"
    assert plans["source-controller-a"].feature(SourceSettings).storage == StorageSettings(
        path="/tmp/store/source-controller-a",
        addr="127.0.0.1:0",
    )
    assert all(p.watch_namespace == "ns1" for p in plans.values())


def test_unit_settings_are_validated() -> None:
    base = RunSettings(features=(KustomizeSettings(), HelmSettings()))
    with pytest.raises(SettingsError, match="concurrent must be a positive integer"):
        run_settings({"controllers": "kustomize", "concurrent": "zero"}, base)
    with pytest.raises(SettingsError, match="unknown setting"):
        run_settings({"controllers": "kustomize", "workers": "3"}, base)
    with pytest.raises(SettingsError, match="cannot run in a unit"):
        run_settings({"controllers": "operator"}, base)
    with pytest.raises(SettingsError, match="expected true or false"):
        run_settings({"controllers": "helm", "no-cross-namespace-refs": "maybe"}, base)


def test_platform_defaults() -> None:
    openshift = render(_desired(cluster={"type": "openshift"}))
    ctx = _by_name(openshift, "Deployment", "helm-controller")["spec"]["template"]["spec"]
    security = ctx["containers"][0]["securityContext"]
    assert "runAsNonRoot" not in security
    assert "seccompProfile" not in security
    aks = render(_desired(cluster={"type": "azure"}))
    pod = _by_name(aks, "Deployment", "helm-controller")["spec"]["template"]
    assert pod["metadata"]["labels"]["azure.workload.identity/use"] == "true"


def test_network_policy_off_and_common_metadata() -> None:
    objects = render(
        _desired(
            cluster={"networkPolicy": False},
            commonMetadata={"labels": {"team": "sre"}, "annotations": {"owner": "me"}},
        )
    )
    assert not [o for o in objects if o["kind"] == "NetworkPolicy"]
    assert all(o["metadata"]["labels"]["team"] == "sre" for o in objects)
    assert all(o["metadata"]["annotations"]["owner"] == "me" for o in objects)


def test_storage_claims_for_the_source_controller() -> None:
    objects = render(
        _desired(
            storage={"class": "standard", "size": "10Gi"},
            sharding={"shards": ["s1"], "storage": "persistent"},
        )
    )
    claims = {o["metadata"]["name"]: o for o in objects if o["kind"] == "PersistentVolumeClaim"}
    assert set(claims) == {"source-controller", "source-controller-s1"}
    assert claims["source-controller"]["spec"]["storageClassName"] == "standard"
    volumes = _by_name(objects, "Deployment", "source-controller")["spec"]["template"]["spec"]
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "source-controller"}} in (
        volumes["volumes"]
    )


def test_registry_mirror_and_pull_secret() -> None:
    desired = _desired(
        distribution={
            "version": "2.x",
            "registry": "mirror.example.com/gitops",
            "imagePullSecret": "pull",
        }
    )
    assert desired.image.startswith("mirror.example.com/gitops/weir:")
    dep = _by_name(render(desired), "Deployment", "source-controller")
    assert dep["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "pull"}]
    assert "spec.distribution.registry" not in {n.field for n in desired.not_applicable}


# ----------------------------------------------------------------------------- bad input
def test_an_unknown_component_says_what_this_weir_runs() -> None:
    with pytest.raises(InstanceError) as err:
        _desired(components=["source-controller", "image-reflector-controller"])
    assert err.value.reason == BUILD_FAILED
    assert "image-reflector-controller is not part of this weir release" in err.value.message
    assert "remove it" in err.value.message
    assert "source-controller, kustomize-controller, helm-controller" in err.value.message


def test_a_version_no_release_implements() -> None:
    with pytest.raises(InstanceError) as err:
        _desired(distribution={"version": "3.x", "registry": "ghcr.io/fluxcd"})
    assert err.value.reason == ARTIFACT_FAILED
    assert "no weir release implements a Flux version in '3.x'" in err.value.message
    assert "e.g. '2.x'" in err.value.message
    with pytest.raises(InstanceError, match="is not a semver range"):
        _desired(distribution={"version": "latest!", "registry": "ghcr.io/fluxcd"})


def test_the_catalog_picks_the_newest_matching_release() -> None:
    catalog = [dist.Release("2.8.3", "0.0.9"), dist.Release("2.9.0", "0.1.0", "sha256:abc")]
    assert dist.resolve("2.x", catalog).weir == "0.1.0"
    assert dist.resolve("2.8.x", catalog).weir == "0.0.9"
    assert dist.resolve("2.9.0", catalog).digest == "sha256:abc"
    assert dist.image("ghcr.io/fluxcd", catalog[1]) == f"{dist.IMAGE_REPOSITORY}:0.1.0@sha256:abc"


def test_one_instance_per_cluster() -> None:
    other = copy.deepcopy(GUIDE)
    other["metadata"]["namespace"] = "elsewhere"
    with pytest.raises(InstanceError) as err:
        desired_state(other, Options(namespace="flux-system"), _registry())
    assert err.value.reason == RECONCILIATION_FAILED
    assert "only one FluxInstance per cluster" in err.value.message
    assert "flux-system/flux" in err.value.message


def test_an_invalid_size_names_the_field() -> None:
    with pytest.raises(InstanceError) as err:
        _desired(cluster={"size": "huge"})
    assert err.value.reason == BUILD_FAILED
    assert "spec.cluster.size" in err.value.message
    assert "'small', 'medium' or 'large'" in err.value.message


def test_a_bucket_sync() -> None:
    sync = {**GUIDE["spec"]["sync"], "kind": "Bucket", "url": "http://minio:9000", "ref": "fleet"}
    source, kustomization = sync_objects(_desired(sync=sync))
    assert (source["kind"], source["spec"]["endpoint"], source["spec"]["bucketName"]) == (
        "Bucket",
        "minio:9000",
        "fleet",
    )
    assert source["spec"]["insecure"] is True
    assert kustomization["spec"]["sourceRef"]["kind"] == "Bucket"
    Bucket.model_validate(source)  # a valid Bucket for weir's Bucket controller


def test_a_component_missing_from_the_build() -> None:
    obj = copy.deepcopy(GUIDE)
    with pytest.raises(InstanceError, match="notification-controller is not part"):
        desired_state(obj, Options(), _registry("source", "kustomize", "helm"))


# ----------------------------------------------------------------------------- patches
async def test_patches_apply_to_the_rendered_objects() -> None:
    desired = _desired(
        kustomize={
            "patches": [
                {
                    "target": {"kind": "ConfigMap", "name": "kustomize-controller-settings"},
                    "patch": "- op: replace\n  path: /data/concurrent\n  value: '7'\n",
                },
                {
                    "target": {"kind": "Deployment", "name": "(kustomize|helm)-controller"},
                    "patch": "- op: add\n  path: /spec/template/spec/nodeSelector\n"
                    "  value: {kubernetes.io/os: linux}\n",
                },
            ]
        }
    )
    assert desired.spec.kustomize is not None
    objects = await apply_patches(render(desired), desired.spec.kustomize.patches or [])
    settings = _by_name(objects, "ConfigMap", "kustomize-controller-settings")
    assert settings["data"]["concurrent"] == "7"
    for name in ("kustomize-controller", "helm-controller"):
        pod = _by_name(objects, "Deployment", name)["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"kubernetes.io/os": "linux"}
    source = _by_name(objects, "Deployment", "source-controller")["spec"]["template"]["spec"]
    assert "nodeSelector" not in source


async def test_a_patch_that_does_not_apply_says_so() -> None:
    desired = _desired(
        kustomize={
            "patches": [
                {
                    "target": {"kind": "Deployment", "name": "helm-controller"},
                    "patch": "- op: replace\n  path: /spec/template/spec/nothing/here\n"
                    "  value: 1\n",
                }
            ]
        }
    )
    assert desired.spec.kustomize is not None
    with pytest.raises(InstanceError) as err:
        await apply_patches(render(desired), desired.spec.kustomize.patches or [])
    assert err.value.reason == BUILD_FAILED
    assert err.value.message.startswith("spec.kustomize.patches do not apply:")
    assert "fix the patch or its target" in err.value.message


# ----------------------------------------------------------------------------- sync refs
def test_sync_refs() -> None:
    assert git_ref("refs/heads/main") == {"name": "refs/heads/main"}
    assert git_ref("refs/tags/v1.2.0") == {"name": "refs/tags/v1.2.0"}
    assert git_ref(">=1.0.0 <2.0.0") == {"semver": ">=1.0.0 <2.0.0"}
    assert git_ref("1.x") == {"semver": "1.x"}
    assert git_ref("main") == {"branch": "main"}
    assert git_ref("next") == {"branch": "next"}
    assert oci_ref("latest") == {"tag": "latest"}
    assert oci_ref("v1.2.0") == {"tag": "v1.2.0"}
    assert oci_ref("~1.2") == {"semver": "~1.2"}
    assert oci_ref("sha256:abcd") == {"digest": "sha256:abcd"}
    assert not is_semver_range("feature/x")


def test_oci_sync_with_provider_and_interval() -> None:
    sync = {
        "kind": "OCIRepository",
        "url": "oci://ghcr.io/org/fleet",
        "ref": "latest",
        "path": "clusters/prod",
        "provider": "azure",
        "interval": "5m",
        "name": "fleet",
    }
    objects = render(_desired(sync=sync))
    oci = _by_name(objects, "OCIRepository", "fleet")
    assert oci["spec"] == {
        "interval": "5m",
        "url": "oci://ghcr.io/org/fleet",
        "ref": {"tag": "latest"},
        "provider": "azure",
    }
    ks = _by_name(objects, "Kustomization", "fleet")
    assert ks["spec"]["sourceRef"] == {"kind": "OCIRepository", "name": "fleet"}
