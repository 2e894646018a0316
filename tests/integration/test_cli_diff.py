"""`weir diff ks` against the real API server: Flux's exit codes (0 no differences, 1
differences, 2 errors), created/configured/deleted objects with the fields that change, Secret
values masked, and errors that name the object."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml
from kubernetes_asyncio.client import ApiClient

from tests.integration.test_cli_build import KUSTOMIZATION, one_error_line, write_fleet
from tests.support.cli import weir
from weir.actions.build import Builder, BuildOptions
from weir.api import KINDS
from weir.kube import apply as kapi
from weir.kube import inventory
from weir.kube.resources import CONFIG_MAPS
from weir.ssa.apply import apply_all

KS = KINDS["Kustomization"].resource


async def fleet_in_cluster(kube: ApiClient, namespace: str, root: Path) -> Path:
    """The fleet, its Kustomization `apps` and the `cluster-vars` ConfigMap in ``namespace``."""
    repo = write_fleet(root, namespace=namespace, target=namespace)
    await kapi.apply(
        kube, yaml.safe_load((repo / "clusters/production/apps.yaml").read_text()), "t"
    )
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cluster-vars", "namespace": namespace},
        "data": {"color": "green"},
    }
    await kapi.apply(kube, cm, "weir-test")
    return repo


async def reconcile_once(kube: ApiClient, repo: Path, namespace: str) -> None:
    """What the controller does with the fleet: build, apply, record the inventory."""

    async def api() -> ApiClient:
        return kube

    async with Builder(BuildOptions(path=repo / "apps/production"), api) as builder:
        built = await builder.build("apps", namespace, namespace)
    changes = await apply_all(kube, built.objects)
    status = {"inventory": inventory.to_wire(changes.entries())}
    await kapi.patch_status(kube, KS, namespace, "apps", status, "weir-test")


async def test_diff_exit_codes_and_changes(
    kube: ApiClient, kubeconfig: str, namespace: str, flux_crds: None, tmp_path: Path
) -> None:
    ns = namespace
    repo = await fleet_in_cluster(kube, ns, tmp_path / "fleet")
    args = ("diff", "ks", "apps", "-n", ns, "--path", str(repo / "apps/production"))

    before = await weir(*args, kubeconfig=kubeconfig)
    assert before.code == 1, before
    assert before.stdout.splitlines() == [  # in build order, as flux diff lists them
        f"► ConfigMap/{ns}/web-config created",
        f"► ConfigMap/{ns}/extra created",
        f"► Deployment/{ns}/web created",
        f"► Secret/{ns}/web-creds created",
    ]
    assert "✗ changes: 4 created" in before.stderr

    await reconcile_once(kube, repo, ns)
    same = await weir(*args, kubeconfig=kubeconfig)
    assert same.code == 0, same
    assert same.stdout == ""
    assert "✔ no changes" in same.stderr

    # The repository changes: a new replica count in the Kustomization, a new password, one
    # ConfigMap removed and one added; someone labelled an object with kubectl meanwhile.
    changed_ks = tmp_path / "apps.yaml"
    changed_ks.write_text(KUSTOMIZATION.format(namespace=ns, target=ns, replicas=4))
    (repo / "apps/base/secret.yaml").write_text(
        (repo / "apps/base/secret.yaml").read_text().replace("hunter2", "hunter3")
    )
    (repo / "apps/base/new.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new}\ndata: {b: '2'}\n"
    )
    (repo / "apps/base/kustomization.yaml").write_text(
        "resources: [configmap.yaml, new.yaml, deployment.yaml, secret.yaml]\n"
    )
    label = {"metadata": {"labels": {"owner": "someone"}}}
    await kapi.patch(kube, CONFIG_MAPS, ns, "web-config", label, field_manager="kubectl-label")

    file = ("--kustomization-file", str(changed_ks))
    text, data, flux = await asyncio.gather(
        weir(*args, *file, kubeconfig=kubeconfig),
        weir(*args, *file, "-o", "json", kubeconfig=kubeconfig),
        weir(*args, *file, "-o", "flux", "--progress-bar=false", kubeconfig=kubeconfig),
    )
    assert text.code == 1, text
    assert text.stdout.splitlines() == [
        f"► ConfigMap/{ns}/web-config configured (takes over the fields managed by kubectl-label)",
        "  metadata.labels.owner",
        "    - someone",
        f"► ConfigMap/{ns}/new created",
        f"► Deployment/{ns}/web configured",
        "  spec.replicas",
        "    - 3",
        "    + 4",
        f"► Secret/{ns}/web-creds configured",
        "  data.password",
        "    - *** (before)",
        "    + *** (after)",
        f"► ConfigMap/{ns}/extra deleted",
    ]
    assert flux.code == 1, flux  # flux diff's text, for scripts that read it
    assert flux.stdout == (
        f"► ConfigMap/{ns}/web-config drifted\n"
        "\n"
        "metadata.labels\n"
        "  - one map entry removed:\n"
        "    owner: someone\n"
        "\n"
        f"► ConfigMap/{ns}/new created\n"
        f"► Deployment/{ns}/web drifted\n"
        "\n"
        "spec.replicas\n"
        "  ± value change\n"
        "    - 3\n"
        "    + 4\n"
        "\n"
        f"► Secret/{ns}/web-creds drifted\n"
        "\n"
        "data.password\n"
        "  ± value change\n"
        "    - *** (before)\n"
        "    + *** (after)\n"
        "\n"
        f"► ConfigMap/{ns}/extra deleted\n"
    )
    assert "✗ identified at least one change, exiting with non-zero exit code" in flux.stderr
    assert "hunter" not in text.stdout
    assert "✗ changes: 1 created, 3 configured, 1 deleted" in text.stderr

    assert data.code == 1, data
    result = data.json()
    assert result["differs"] is True
    objects = {o["name"]: o for o in result["kustomizations"][0]["objects"]}
    assert objects["web"]["changes"] == [{"path": "spec.replicas", "before": 3, "after": 4}]
    assert objects["extra"]["action"] == "deleted"
    assert objects["new"]["action"] == "created"


async def test_diff_new_kinds_and_namespaces(
    kube: ApiClient, kubeconfig: str, namespace: str, flux_crds: None, tmp_path: Path
) -> None:
    ns, group = namespace, f"{namespace}.weir.dev"
    platform = tmp_path / "platform"
    platform.mkdir()
    (platform / "crd.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {"name": f"gadgets.{group}"},
                "spec": {
                    "group": group,
                    "names": {"kind": "Gadget", "plural": "gadgets", "singular": "gadget"},
                    "scope": "Namespaced",
                    "versions": [
                        {
                            "name": "v1",
                            "served": True,
                            "storage": True,
                            "schema": {
                                "openAPIV3Schema": {
                                    "type": "object",
                                    "x-kubernetes-preserve-unknown-fields": True,
                                }
                            },
                        }
                    ],
                },
            }
        )
    )
    (platform / "objects.yaml").write_text(
        f"apiVersion: {group}/v1\nkind: Gadget\nmetadata: {{name: g, namespace: {ns}}}\n---\n"
        f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}-new}}\n---\n"
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: {ns}-new}}\n"
    )
    ks = tmp_path / "platform.yaml"
    ks.write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata: {{name: platform, namespace: {ns}}}\n"
        "spec: {interval: 10m, prune: true, sourceRef: {kind: GitRepository, name: repo}}\n"
    )
    result = await weir(
        "diff",
        "ks",
        "platform",
        "--path",
        str(platform),
        "--kustomization-file",
        str(ks),
        kubeconfig=kubeconfig,
    )
    assert result.code == 1, result
    assert result.stdout.splitlines() == [
        f"► CustomResourceDefinition/gadgets.{group} created",
        f"► Gadget/{ns}/g created (its CRD is created by this build)",
        f"► Namespace/{ns}-new created",
        f"► ConfigMap/{ns}-new/c created (namespace {ns}-new is new)",
    ]


async def test_diff_errors(
    kube: ApiClient, kubeconfig: str, namespace: str, flux_crds: None, tmp_path: Path
) -> None:
    ns = namespace
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "objects.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: broken}\n"
        "spec: {replicas: many, selector: {matchLabels: {a: b}}}\n---\n"
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\n"
    )
    ks = tmp_path / "bad.yaml"
    ks.write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata: {{name: bad, namespace: {ns}}}\n"
        f"spec: {{interval: 10m, prune: true, targetNamespace: {ns}, "
        "sourceRef: {kind: GitRepository, name: repo}}\n"
    )
    config = yaml.safe_load(await asyncio.to_thread(Path(kubeconfig).read_text))
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    unreachable = tmp_path / "unreachable.yaml"
    unreachable.write_text(yaml.safe_dump(config))

    path = ("--path", str(bad))
    refused, down, missing, usage = await asyncio.gather(
        weir("diff", "ks", "bad", *path, "--kustomization-file", str(ks), kubeconfig=kubeconfig),
        weir(
            "diff", "ks", "bad", *path, "--kustomization-file", str(ks), kubeconfig=str(unreachable)
        ),
        weir("diff", "ks", "nope", "-n", ns, *path, kubeconfig=kubeconfig),
        weir("diff", "widgets", "bad", *path, kubeconfig=kubeconfig),
    )
    assert refused.code == 2, refused
    assert refused.stdout.splitlines() == [f"► ConfigMap/{ns}/fine created"]
    assert f"✗ Deployment/{ns}/broken dry-run failed (" in refused.stderr
    assert "failed to create typed patch object" in refused.stderr
    assert f"✗ Widget/{ns}/w: " in refused.stderr
    assert "install its CRD first" in refused.stderr
    assert "2 object(s) could not be compared" in one_error_line(refused)

    assert down.code == 2, down
    assert "cannot reach the API server https://127.0.0.1:1" in one_error_line(down)

    assert missing.code == 2, missing
    assert f"Kustomization {ns}/nope not found" in one_error_line(missing)

    assert usage.code == 2
    assert "unknown kind 'widgets'" in one_error_line(usage)
