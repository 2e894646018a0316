"""`weir build ks` / `weir diff ks` judged by `flux build` / `flux diff` (Flux 2.7): golden
files written from Flux's documented behaviour (tests/golden/flux-build/), byte for byte.

- Secrets as flux build prints them (only SOPS values masked, where they are; no `sops:`;
  a masked .dockerconfigjson is valid JSON that the API server accepts; a secretGenerator
  Secret from a SOPS file masked; plaintext Secrets as they are);
- kustomize's order (the resources' order), keys sorted, each document followed by `---`;
- every flag of flux build ks / flux diff ks, the flux CLI's inherited ones, Go's `--flag=true`;
- a --kustomization-file without spec.interval or spec.prune; every problem of an invalid one;
- `../base` without a `.git` above --path (the working directory is the root, as Flux reads
  files relative to it), and an error naming --local-sources when that does not hold;
- `weir diff -o flux`: flux diff's text; a SOPS Secret differs only when its keys do.

Regenerate the golden files with WEIR_UPDATE_GOLDEN=1 (then read the diff: they are the
specification)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
from pathlib import Path

import yaml
from kubernetes_asyncio.client import ApiClient

from tests.support.cli import Result, weir
from weir.kube import apply as kapi
from weir.kube.resources import SECRETS

GOLDEN = Path(__file__).parent.parent / "golden" / "flux-build"
OFFLINE = ("--kubeconfig", "/nonexistent/kubeconfig")
APPS = ("build", "ks", "apps", "--path", "apps/production")
APPS_FILE = ("--kustomization-file", "clusters/production/apps.yaml")


def fleet(tmp_path: Path, *, git: bool = True) -> Path:
    root = tmp_path / "fleet"
    shutil.copytree(GOLDEN / "fleet", root)
    if git:
        (root / ".git").mkdir()
    return root


def golden(result: Result, name: str) -> None:
    assert result.code == 0, result
    expected = GOLDEN / name
    if os.environ.get("WEIR_UPDATE_GOLDEN"):
        expected.write_text(result.stdout)
    assert result.stdout == expected.read_text(), result


async def test_build_prints_what_flux_build_prints(tmp_path: Path) -> None:
    root = fleet(tmp_path)
    apps, recursive = await asyncio.gather(
        weir(*APPS, *APPS_FILE, "--dry-run", *OFFLINE, cwd=root),
        weir(
            "build",
            "ks",
            "flux-system",
            "--path",
            "clusters/production",
            "--recursive",
            "--dry-run",
            *OFFLINE,
            cwd=root,
        ),
    )
    golden(apps, "apps.yaml")
    golden(recursive, "recursive.yaml")
    docs = [d for d in yaml.safe_load_all(apps.stdout) if d]
    assert [d["kind"] for d in docs] == [  # the resources' order, generated Secrets last
        "Deployment",
        "HorizontalPodAutoscaler",
        "Service",
        "ConfigMap",
        "Secret",
        "Secret",
        "Secret",
        "Secret",
    ]
    assert "sops" not in apps.stdout.replace("**SOPS**", "")
    by_name = {d["metadata"]["name"]: d for d in docs}
    docker = by_name["docker-secret"]["data"][".dockerconfigjson"]
    assert json.loads(base64.b64decode(docker)) == {"mask": "**SOPS**"}
    assert by_name["basic-auth"]["stringData"] == {"password": "**SOPS**", "username": "**SOPS**"}
    assert by_name["db-user-pass"]["data"] == {
        "password": "MWYyZDFlMmU2N2Rm",
        "username": "YWRtaW4=",
    }


async def test_every_flux_flag_is_accepted(tmp_path: Path) -> None:
    root = fleet(tmp_path)
    flux_flags = (
        "--in-memory-build=true",
        "--strict-substitute=false",
        "--ignore-paths",
        "docs/**,*.md",
        "--timeout",
        "2m30s",
        "--verbose",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--kube-api-qps",
        "50",
        "--kube-api-burst",
        "300",
        "--disable-compression",
        "--request-timeout",
        "0",
        "--insecure-skip-tls-verify=false",
        "--dry-run=true",
    )
    result = await weir(*APPS, *APPS_FILE, *flux_flags, *OFFLINE, cwd=root)
    golden(result, "apps.yaml")
    diff_help = await weir("diff", "ks", "--help")
    for flag in (
        "--progress-bar",
        "--ignore-paths",
        "--local-sources",
        "--recursive",
        "--strict-substitute",
        "--in-memory-build",
        "--ignore-not-found",
        "--kustomization-file",
    ):
        assert flag in diff_help.stdout, flag


async def test_kustomization_file_is_as_lenient_as_flux(tmp_path: Path) -> None:
    root = fleet(tmp_path)
    invalid = tmp_path / "invalid.yaml"
    invalid.write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        "metadata: {name: apps, namespace: flux-system}\n"
        "spec:\n  interval: ten minutes\n  prune: maybe\n  path: ./apps/production\n"
        "  sourceRef: {kind: GitRepository, name: flux-system}\n"
    )
    missing = tmp_path / "missing.yaml"
    bad, absent = await asyncio.gather(
        weir(*APPS, "--kustomization-file", str(invalid), "--dry-run", *OFFLINE, cwd=root),
        weir(*APPS, "--kustomization-file", str(missing), "--dry-run", *OFFLINE, cwd=root),
    )
    assert bad.code == 1, bad
    errors = [ln for ln in bad.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, bad
    assert "(2 problems)" in errors[0]
    assert "spec.interval" in errors[0]
    assert "spec.prune" in errors[0]
    assert absent.code == 2, absent
    assert f"invalid kustomization file '{missing}'" in absent.stderr


async def test_base_outside_path_without_git(tmp_path: Path) -> None:
    root = fleet(tmp_path, git=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = ("--path", str(root / "apps/production"))
    here, lost, mapped = await asyncio.gather(
        weir(*APPS, *APPS_FILE, "--dry-run", *OFFLINE, cwd=root),
        weir(
            "build",
            "ks",
            "apps",
            *path,
            "--kustomization-file",
            str(root / "clusters/production/apps.yaml"),
            "--dry-run",
            *OFFLINE,
            cwd=elsewhere,
        ),
        weir(
            "build",
            "ks",
            "apps",
            *path,
            "--kustomization-file",
            str(root / "clusters/production/apps.yaml"),
            "--local-sources",
            f"GitRepository/flux-system/flux-system={root}",
            "--dry-run",
            *OFFLINE,
            cwd=elsewhere,
        ),
    )
    golden(here, "apps.yaml")  # the working directory is the root, as for flux build
    assert lost.code == 1, lost
    error = next(ln for ln in lost.stderr.splitlines() if ln.startswith("error: "))
    assert "points outside the source artifact" in error
    assert "pass --local-sources GitRepository/flux-system/flux-system=" in error
    golden(mapped, "apps.yaml")


async def test_masked_secrets_are_accepted_by_the_api_server(
    kube: ApiClient, namespace: str, tmp_path: Path
) -> None:
    """`weir build | kubectl apply --dry-run=server` works: the masked Secrets are valid."""
    root = fleet(tmp_path)
    result = await weir(*APPS, *APPS_FILE, "--dry-run", *OFFLINE, cwd=root)
    assert result.code == 0, result
    for doc in yaml.safe_load_all(result.stdout):
        if doc and doc["kind"] == "Secret":
            doc["metadata"]["namespace"] = namespace
            applied = await kapi.apply(kube, doc, "weir-test", dry_run=True)
            assert applied["metadata"]["name"] == doc["metadata"]["name"]


async def test_diff_flux_text_and_sops_secrets(
    kube: ApiClient, kubeconfig: str, namespace: str, flux_crds: None, tmp_path: Path
) -> None:
    root = fleet(tmp_path)
    ks = tmp_path / "apps.yaml"
    ks.write_text(
        (root / "clusters/production/apps.yaml")
        .read_text()
        .replace("namespace: flux-system", f"namespace: {namespace}")
        .replace("  path:", f"  targetNamespace: {namespace}\n  path:")
    )
    args = ("diff", "ks", "apps", "--path", "apps/production", "--kustomization-file", str(ks))
    # the live basic-auth Secret holds the decrypted values, the same keys as the SOPS file
    live = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "basic-auth", "namespace": namespace},
        "type": "kubernetes.io/basic-auth",
        "stringData": {"username": "admin", "password": "hunter2"},
    }
    await kapi.apply(kube, live, "kustomize-controller", force=True)
    same_keys = await weir(*args, "-o", "json", kubeconfig=kubeconfig, cwd=root)
    assert same_keys.code == 1, same_keys  # everything else is new
    objects = {o["name"]: o for o in same_keys.json()["kustomizations"][0]["objects"]}
    assert objects["basic-auth"]["action"] == "unchanged"  # SOPS values are not compared

    await kapi.delete(kube, SECRETS, namespace, "basic-auth")  # now with another key
    del live["stringData"]
    live["data"] = {"username": "YWRtaW4=", "old-key": "eA=="}
    await kapi.apply(kube, live, "kustomize-controller", force=True)
    text = await weir(*args, "-o", "flux", kubeconfig=kubeconfig, cwd=root)
    assert text.code == 1, text
    lines = text.stdout.splitlines()
    assert lines[0] == f"► Deployment/{namespace}/podinfo created"
    drifted = lines.index(f"► Secret/{namespace}/basic-auth drifted")
    block = lines[drifted + 1 : drifted + 8]
    assert block == [
        "",
        "data",
        "  - one map entry removed:",
        '    old-key: "*****"',
        "  + one map entry added:",
        '    password: "*****"',
        "",
    ]
    assert "hunter2" not in text.stdout
    assert "✗ identified at least one change, exiting with non-zero exit code" in text.stderr


async def test_connection_flags_of_the_flux_cli(
    kube: ApiClient, kubeconfig: str, namespace: str, flux_crds: None, tmp_path: Path
) -> None:
    """--server, --as (and the other kubectl connection flags) mean what they mean for flux."""
    root = fleet(tmp_path)
    ks = tmp_path / "apps.yaml"
    ks.write_text(
        (root / "clusters/production/apps.yaml")
        .read_text()
        .replace("namespace: flux-system", f"namespace: {namespace}")
        .replace("  path:", f"  targetNamespace: {namespace}\n  path:")
    )
    args = ("diff", "ks", "apps", "--path", "apps/production", "--kustomization-file", str(ks))
    moved, anonymous = await asyncio.gather(
        weir(*args, "--server", "https://127.0.0.1:1", kubeconfig=kubeconfig, cwd=root),
        weir(*args, "--as", "someone-without-rights", kubeconfig=kubeconfig, cwd=root),
    )
    assert moved.code == 2, moved
    assert "cannot reach the API server https://127.0.0.1:1" in moved.stderr
    assert anonymous.code == 2, anonymous
    assert "forbidden" in anonymous.stderr.lower()
    assert "someone-without-rights" in anonymous.stderr
