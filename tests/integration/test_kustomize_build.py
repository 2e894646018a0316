"""The build pipeline with the real kustomize (the pinned CLI, weir.kustomize.engine) on temporary
artifacts."""

from __future__ import annotations

import hashlib
import os
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

from weir.kustomize import metadata as md
from weir.kustomize.build import Engine, Manifest, build
from weir.kustomize.errors import ArtifactPathError, BuildError
from weir.kustomize.generate import BuildSpec
from weir.kustomize.sandbox import Limits
from weir.kustomize.substitute import substitute_all

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
      - name: sidecar
        image: ghcr.io/example/sidecar:1.0
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build_workspaces() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("weir-kustomize-*"))


def by_kind(manifests: list[Manifest]) -> dict[str, dict[str, Any]]:
    return {m.object["kind"]: m.object for m in manifests}


async def test_generated_kustomization_walks_the_tree(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "apps/b-service.yaml": SERVICE,
            "apps/a/deploy.yml": DEPLOYMENT,
            "apps/README.md": "not yaml, ignored",
            "apps/empty.yaml": "# only a comment\n",
            "apps/nested/kustomization.yaml": "resources: [cm.yaml]\nnamePrefix: nested-\n",
            "apps/nested/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
            "apps/nested/ignored.yaml": "not: listed by the nested kustomization\n",
        },
    )
    before = tree_digest(root)
    manifests = await build(root, BuildSpec(path="./apps"))
    assert sorted(m.display for m in manifests) == [
        "ConfigMap/nested-c",
        "Deployment/web",
        "Service/web",
    ]
    assert tree_digest(root) == before  # the artifact is never modified
    assert not (root / "apps" / "kustomization.yaml").exists()


async def test_spec_settings_are_merged_into_the_users_kustomization(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "app/kustomization.yaml": """\
                resources: [deploy.yaml, service.yaml]
                images:
                - name: nginx
                  newName: registry.example.com/nginx
            """,
            "app/deploy.yaml": DEPLOYMENT,
            "app/service.yaml": SERVICE,
            "components/monitoring/kustomization.yaml": """\
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                resources: [cm.yaml]
            """,
            "components/monitoring/cm.yaml": (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: monitoring}\n"
            ),
        },
    )
    spec = BuildSpec(
        path="app",
        target_namespace="prod",
        name_prefix="p-",
        name_suffix="-s",
        patches=(
            {
                "patch": "- op: replace\n  path: /spec/replicas\n  value: 3\n",
                "target": {"kind": "Deployment", "labelSelector": "app=web"},
            },
            {
                "patch": "apiVersion: v1\nkind: Service\nmetadata: {name: not-used}\n"
                "spec: {type: NodePort}\n",
                "target": {"kind": "Service", "name": "web"},
            },
        ),
        images=(
            {"name": "nginx", "newTag": "1.27"},  # replaces the user's nginx entry as a whole
            {"name": "ghcr.io/example/sidecar", "digest": "sha256:" + "a" * 64},
        ),
        components=("../components/monitoring", "../components/missing"),
        ignore_missing_components=True,
    )
    manifests = await build(root, spec)
    objects = by_kind(manifests)
    deploy = objects["Deployment"]
    assert deploy["metadata"] == {"name": "p-web-s", "namespace": "prod", "labels": {"app": "web"}}
    assert deploy["spec"]["replicas"] == 3
    images = [c["image"] for c in deploy["spec"]["template"]["spec"]["containers"]]
    assert images == ["nginx:1.27", "ghcr.io/example/sidecar@sha256:" + "a" * 64]
    assert objects["Service"]["spec"]["type"] == "NodePort"
    assert objects["ConfigMap"]["metadata"] == {"name": "p-monitoring-s", "namespace": "prod"}

    with pytest.raises(BuildError, match=r"kustomize build failed: .*missing"):
        await build(root, BuildSpec(path="app", components=("../components/missing",)))


async def test_common_metadata_and_substitution_after_build(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "cm.yaml": """\
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: settings
                  labels: {team: "${TEAM}"}
                data:
                  region: ${REGION:=eu-west-1}
            """,
            "deploy.yaml": DEPLOYMENT.replace("replicas: 1", "replicas: ${REPLICAS}"),
        },
    )
    manifests = await build(root, BuildSpec())
    objects = substitute_all(manifests, {"TEAM": "core", "REPLICAS": "2"})
    objects = md.prepare(
        objects, name="apps", namespace="flux-system", labels={"env": "${NOT_SUBSTITUTED}"}
    )
    cm, deploy = sorted(objects, key=lambda o: str(o["kind"]))
    assert cm["data"] == {"region": "eu-west-1"}
    assert deploy["spec"]["replicas"] == 2  # re-typed by YAML after substitution
    assert cm["metadata"]["labels"] == {
        "team": "core",
        "env": "${NOT_SUBSTITUTED}",
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    }


async def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    root = write(tmp_path, {"apps/ok.yaml": SERVICE, "apps/bad.yaml": "kind: [unclosed\n"})
    with pytest.raises(BuildError) as err:
        await build(root, BuildSpec(path="apps"))
    text = str(err.value)
    assert text.startswith("failed to decode Kubernetes YAML from apps/bad.yaml: ")
    assert "line 2" in text  # PyYAML's position of the error
    assert str(tmp_path) not in text


async def test_non_kubernetes_yaml_fails_generation(tmp_path: Path) -> None:
    root = write(tmp_path, {"svc.yaml": SERVICE, "values.yaml": "replicaCount: 2\n"})
    with pytest.raises(
        BuildError, match=r"failed to decode Kubernetes YAML from values\.yaml: missing Resource"
    ):
        await build(root, BuildSpec())


async def test_kustomize_errors_keep_kustomizes_text(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "kustomization.yaml": "resources: [svc.yaml, bad.yaml]\n",
            "svc.yaml": SERVICE,
            "bad.yaml": "a: [\n",
        },
    )
    with pytest.raises(BuildError) as err:
        await build(root, BuildSpec())
    text = str(err.value)
    assert text.startswith("kustomize build failed: accumulating resources")
    assert "MalformedYAMLError" in text
    assert "bad.yaml" in text
    assert str(tmp_path) not in text


async def test_paths_and_symlinks_must_stay_inside(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"secret.yaml": SERVICE})
    root = write(tmp_path / "repo", {"app/svc.yaml": SERVICE})
    with pytest.raises(ArtifactPathError, match=r"spec.path '../outside' points outside"):
        await build(root, BuildSpec(path="../outside"))
    with pytest.raises(ArtifactPathError, match=r"kustomization path not found: '\./nope'"):
        await build(root, BuildSpec(path="./nope"))

    (root / "app" / "link.yaml").symlink_to(outside / "secret.yaml")
    with pytest.raises(ArtifactPathError, match=r"symlink 'app/link.yaml' points outside"):
        await build(root, BuildSpec(path="app"))
    (root / "app" / "link.yaml").unlink()

    # A symlink inside the artifact is fine, even an absolute one.
    (root / "shared").mkdir()
    (root / "shared" / "svc2.yaml").write_text(SERVICE.replace("name: web", "name: web2"))
    (root / "app" / "svc2.yaml").symlink_to(root / "shared" / "svc2.yaml")
    manifests = await build(root, BuildSpec(path="app"))
    assert sorted(m.display for m in manifests) == ["Service/web", "Service/web2"]

    leak = f"configMapGenerator:\n- name: leak\n  files: [{outside}/secret.yaml]\n"
    (root / "app" / "kustomization.yaml").write_text("resources: [svc.yaml]\n" + leak)
    with pytest.raises(BuildError, match=r"configMapGenerator.files .* points outside"):
        await build(root, BuildSpec(path="app"))
    (root / "app" / "kustomization.yaml").write_text("resources: [../../outside/secret.yaml]\n")
    with pytest.raises(BuildError, match=r"app/kustomization.yaml: resources .* points outside"):
        await build(root, BuildSpec(path="app"))
    (root / "app" / "kustomization.yaml").write_text(
        "resources: [https://github.com/example/repo//deploy?ref=v1]\n"
    )
    with pytest.raises(BuildError, match="remote bases are disabled"):
        await build(root, BuildSpec(path="app"), allow_remote=False)


async def test_build_timeout_kills_kustomize(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path / "repo", {"svc.yaml": SERVICE})
    # a private temporary directory: other processes on the machine make workspaces too
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    pid_file = tmp_path / "pid"
    slow = tmp_path / "slow-kustomize"
    slow.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 30\n")
    slow.chmod(0o755)
    workspaces = build_workspaces()
    with pytest.raises(BuildError, match=r"ran longer than 0.5s"):
        # a shell script cannot run in the sandbox (it may only execute kustomize itself)
        await build(
            root, BuildSpec(), timeout=0.5, engine=Engine(str(slow)), limits=Limits(sandbox="off")
        )
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
    assert build_workspaces() == workspaces
