"""`weir build ks` as a user runs it, on a fleet checkout written by the test: offline (no
cluster at all) with --kustomization-file/--dry-run, recursively, from the cluster's
Kustomization and variables, and one-line errors for bad input."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml
from kubernetes_asyncio.client import ApiClient

from tests.support.cli import Result, weir
from weir.kube import apply

OFFLINE = ("--kubeconfig", "/nonexistent/kubeconfig")

BASE = {
    "apps/base/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [configmap.yaml, extra.yaml, deployment.yaml, secret.yaml]
""",
    "apps/base/configmap.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data:
  color: ${color:=blue}
  cluster: ${cluster_name}
""",
    "apps/base/extra.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata: {name: extra}
data: {a: "1"}
""",
    "apps/base/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.25
          ports: [{containerPort: 80}]
""",
    "apps/base/secret.yaml": """\
apiVersion: v1
kind: Secret
metadata: {name: web-creds}
stringData: {password: hunter2}
""",
    "apps/production/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../base]
""",
    "README.md": "docs are not part of the build\n",
}

KUSTOMIZATION = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: {namespace}
spec:
  interval: 10m
  path: ./apps/production
  prune: true
  targetNamespace: {target}
  sourceRef: {{kind: GitRepository, name: flux-system}}
  commonMetadata:
    labels: {{team: web}}
  images:
    - name: nginx
      newTag: "1.27"
  patches:
    - target: {{kind: Deployment, name: web}}
      patch: |
        - op: replace
          path: /spec/replicas
          value: {replicas}
  postBuild:
    substitute: {{cluster_name: production}}
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
"""


def write_fleet(
    root: Path, namespace: str = "flux-system", target: str = "prod", replicas: int = 3
) -> Path:
    """A fleet repository: apps/base + apps/production, and the Flux Kustomization `apps`
    in clusters/production/apps.yaml (patches, images, commonMetadata, substitution)."""
    files = {
        **BASE,
        "clusters/production/apps.yaml": KUSTOMIZATION.format(
            namespace=namespace, target=target, replicas=replicas
        ),
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / ".git").mkdir(exist_ok=True)  # the checkout's root
    return root


def docs(result: Result) -> dict[str, dict[str, Any]]:
    """The printed objects by ``Kind/name``."""
    assert result.code == 0, result
    found = [d for d in yaml.safe_load_all(result.stdout) if d]
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in found}


def one_error_line(result: Result) -> str:
    assert "Traceback" not in result.stderr, result
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, result
    return errors[0]


async def test_build_offline_like_the_controller(tmp_path: Path) -> None:
    repo = write_fleet(tmp_path / "fleet")
    ks_file = str(repo / "clusters/production/apps.yaml")
    args = ("build", "ks", "apps", "--path", str(repo / "apps/production"))
    dry, as_json, strict, masked = await asyncio.gather(
        weir(*args, "--kustomization-file", ks_file, "--dry-run", *OFFLINE),
        weir(*args, "--kustomization-file", ks_file, "--dry-run", "-o", "json", *OFFLINE),
        weir(*args, "--kustomization-file", ks_file, "--dry-run", "--strict-substitute", *OFFLINE),
        weir(*args, "--kustomization-file", ks_file, "--dry-run", "--mask-secrets", *OFFLINE),
    )
    objs = docs(dry)
    assert dry.stdout.startswith("apiVersion: v1\n")  # as flux build: keys sorted
    assert dry.stdout.endswith("---\n")  # each document followed by ---
    assert list(objs) == [  # kustomize's order, as Flux prints it: the resources' order
        "ConfigMap/web-config",
        "ConfigMap/extra",
        "Deployment/web",
        "Secret/web-creds",
    ]
    deploy = objs["Deployment/web"]
    assert deploy["metadata"]["namespace"] == "prod"  # targetNamespace
    assert deploy["spec"]["replicas"] == 3  # the spec's patch
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.27"  # images
    assert container["ports"] == [{"containerPort": 80}]  # printed as built (not normalized)
    assert deploy["metadata"]["labels"] == {
        "team": "web",
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    }
    assert objs["ConfigMap/web-config"]["data"] == {"color": "blue", "cluster": "production"}
    secret = objs["Secret/web-creds"]
    assert secret["stringData"] == {"password": "hunter2"}  # flux build prints plaintext
    assert "--dry-run skips substituteFrom (ConfigMap/cluster-vars)" in dry.stderr
    hidden = docs(masked)["Secret/web-creds"]
    assert hidden["stringData"] == {"password": "******"}  # --mask-secrets: every value
    assert "hunter2" not in masked.stdout

    assert as_json.code == 0, as_json
    listed = as_json.json()
    assert listed["kind"] == "List"
    kinds = [o["kind"] for o in listed["items"]]
    assert kinds == ["ConfigMap", "ConfigMap", "Deployment", "Secret"]

    assert strict.code == 0, strict  # every variable used without a default is set inline


async def test_build_is_offline_unless_variables_come_from_the_cluster(tmp_path: Path) -> None:
    repo = write_fleet(tmp_path / "fleet")
    plain = tmp_path / "plain.yaml"
    text = (repo / "clusters/production/apps.yaml").read_text()
    plain.write_text(text.split("    substituteFrom:")[0])
    unset = tmp_path / "unset.yaml"
    unset.write_text(text.replace("substitute: {cluster_name: production}", "substitute: {x: y}"))
    args = ("build", "ks", "apps", "--path", str(repo / "apps/production"))
    no_vars, needs_cluster, lenient, strict, empty_spec = await asyncio.gather(
        weir(*args, "--kustomization-file", str(plain), *OFFLINE),
        weir(*args, "--kustomization-file", str(repo / "clusters/production/apps.yaml"), *OFFLINE),
        weir(*args, "--kustomization-file", str(unset), "--dry-run", *OFFLINE),
        weir(
            *args, "--kustomization-file", str(unset), "--dry-run", "--strict-substitute", *OFFLINE
        ),
        weir(*args, "-n", "apps", "--dry-run", *OFFLINE),
    )
    assert docs(no_vars)["Deployment/web"]["spec"]["replicas"] == 3

    assert needs_cluster.code == 1, needs_cluster
    assert "kubeconfig /nonexistent/kubeconfig does not exist" in one_error_line(needs_cluster)
    assert "reads substituteFrom (ConfigMap/cluster-vars) from the cluster" in needs_cluster.stderr

    # unset: empty, which YAML reads as null (as with Flux)
    assert docs(lenient)["ConfigMap/web-config"]["data"] == {"color": "blue", "cluster": None}
    assert strict.code == 1, strict
    line = one_error_line(strict)
    assert (
        "Kustomization flux-system/apps: post build failed for 'ConfigMap/prod/web-config'" in line
    )
    assert 'variable not set (strict mode): "cluster_name"' in line

    objs = docs(empty_spec)  # no file: kustomize and owner labels only
    assert objs["Deployment/web"]["spec"]["replicas"] == 1
    assert "namespace" not in objs["Deployment/web"]["metadata"]
    assert objs["Deployment/web"]["metadata"]["labels"] == {
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "apps",
    }
    assert objs["ConfigMap/web-config"]["data"]["color"] == "${color:=blue}"
    assert "no --kustomization-file" in empty_spec.stderr


async def test_build_recursive(tmp_path: Path) -> None:
    repo = write_fleet(tmp_path / "fleet")
    other = tmp_path / "other"
    (other / "team").mkdir(parents=True)
    (other / "team" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: team-config}\ndata: {a: b}\n"
    )
    (repo / "clusters/production/team.yaml").write_text(
        KUSTOMIZATION.replace("name: apps", "name: team")
        .replace("./apps/production", "./team")
        .replace("name: flux-system}", "name: team-repo}")
        .format(namespace="flux-system", target="team", replicas=1)
    )
    args = ("build", "ks", "flux-system", "-n", "flux-system", "--dry-run", *OFFLINE)
    path = ("--path", str(repo / "clusters/production"))
    alone, mapped = await asyncio.gather(
        weir(*args, *path, "--recursive"),
        weir(
            *args,
            *path,
            "--recursive",
            "--local-sources",
            f"GitRepository/flux-system/team-repo={other}",
        ),
    )
    assert list(docs(alone)) == [
        "Kustomization/apps",
        "Kustomization/team",
        "ConfigMap/web-config",
        "ConfigMap/extra",
        "Deployment/web",
        "Secret/web-creds",
    ]
    assert docs(alone)["Deployment/web"]["metadata"]["labels"]["team"] == "web"
    assert (
        "skipping Kustomization flux-system/team: no local checkout of its source "
        "GitRepository/flux-system/team-repo; pass --local-sources" in alone.stderr
    )
    team = docs(mapped)["ConfigMap/team-config"]
    assert team["metadata"]["namespace"] == "team"
    assert team["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] == "team"


async def test_build_bad_input(tmp_path: Path) -> None:
    repo = write_fleet(tmp_path / "fleet")
    (repo / "broken").mkdir()
    (repo / "broken/cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [\n")
    (repo / "missing").mkdir()
    (repo / "missing/kustomization.yaml").write_text("resources: [nothere.yaml]\n")
    ks_file = str(repo / "clusters/production/apps.yaml")
    base = ("build", "ks", "apps", "--dry-run", *OFFLINE)
    (
        unknown,
        helm,
        no_dir,
        no_path,
        bad_yaml,
        kustomize,
        bad_source,
        wrong_name,
    ) = await asyncio.gather(
        weir("build", "widgets", "apps", "--path", str(repo), *OFFLINE),
        weir("build", "hr", "apps", "--path", str(repo / "apps/production"), *OFFLINE),
        weir(*base, "--path", str(repo / "nope")),
        weir(*base),
        weir(*base, "--path", str(repo / "broken")),
        weir(*base, "--path", str(repo / "missing")),
        weir(*base, "--path", str(repo), "--recursive", "--local-sources", "GitRepository/x"),
        weir(*base, "--path", str(repo), "--kustomization-file", ks_file, "-n", "other"),
    )
    assert unknown.code == 2
    assert "unknown kind 'widgets'" in one_error_line(unknown)
    assert helm.code == 1  # weir build hr renders HelmReleases; this build has none
    assert "the build of --path has no HelmRelease 'apps'" in one_error_line(helm)
    assert no_dir.code == 2
    assert "--path" in one_error_line(no_dir)
    assert "nope: not found" in one_error_line(no_dir)
    assert no_path.code == 2
    assert "--path" in one_error_line(no_path)

    assert bad_yaml.code == 1
    line = one_error_line(bad_yaml)
    assert "failed to decode Kubernetes YAML from broken/cm.yaml" in line
    assert "line 5, column 1" in line

    assert kustomize.code == 1
    assert "kustomize build failed" in one_error_line(kustomize)
    assert "nothere.yaml" in one_error_line(kustomize)

    assert bad_source.code == 2
    assert "expected Kind/namespace/name=path" in one_error_line(bad_source)

    assert wrong_name.code == 1
    assert "has no Kustomization 'apps' in namespace other" in one_error_line(wrong_name)
    assert "flux-system/apps" in one_error_line(wrong_name)


async def test_build_from_the_cluster(
    kube: ApiClient, kubeconfig: str, namespace: str, flux_crds: None, tmp_path: Path
) -> None:
    repo = write_fleet(tmp_path / "fleet", namespace=namespace, target=namespace)
    ks = yaml.safe_load((repo / "clusters/production/apps.yaml").read_text())
    await apply.apply(kube, ks, "weir-test")
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cluster-vars", "namespace": namespace},
        "data": {"color": "green", "cluster_name": "overridden by the inline map"},
    }
    await apply.apply(kube, cm, "weir-test")
    path = ("--path", str(repo / "apps/production"))
    live, missing, file_and_cluster = await asyncio.gather(
        weir("build", "ks", "apps", "-n", namespace, *path, kubeconfig=kubeconfig),
        weir("build", "ks", "nope", "-n", namespace, *path, kubeconfig=kubeconfig),
        weir(
            "build",
            "kustomization",
            "apps",
            *path,
            "--kustomization-file",
            str(repo / "clusters/production/apps.yaml"),
            kubeconfig=kubeconfig,
        ),
    )
    objs = docs(live)
    assert objs["ConfigMap/web-config"]["data"] == {"color": "green", "cluster": "production"}
    assert objs["Deployment/web"]["metadata"]["namespace"] == namespace
    assert docs(file_and_cluster) == objs

    assert missing.code == 1
    line = one_error_line(missing)
    assert f"Kustomization {namespace}/nope not found" in line
    assert "--kustomization-file" in line
