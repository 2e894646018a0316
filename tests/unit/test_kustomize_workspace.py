"""spec.path resolution, symlink checks, the closure of a path, its workspace copy, and
kustomization confinement."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from weir.kustomize.confine import check_kustomizations, closure
from weir.kustomize.errors import ArtifactPathError, BuildError
from weir.kustomize.workspace import check_symlinks, materialize, resolve_path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "apps" / "base").mkdir(parents=True)
    (root / "apps" / "base" / "cm.yaml").write_text("x")
    (root / "file.yaml").write_text("x")
    (tmp_path / "outside").mkdir()
    return root


@pytest.mark.parametrize(
    "path", [None, "", "./", "/", "apps", "./apps/base", "/apps", "apps/../apps"]
)
def test_paths_inside(repo: Path, path: str | None) -> None:
    resolved = resolve_path(repo, path)
    assert resolved.is_dir()
    assert resolved.is_relative_to(repo.resolve())


def test_path_errors(repo: Path) -> None:
    with pytest.raises(ArtifactPathError, match=r"spec.path '\.\./outside' points outside"):
        resolve_path(repo, "../outside")
    with pytest.raises(ArtifactPathError, match="kustomization path not found: 'nope'"):
        resolve_path(repo, "nope")
    with pytest.raises(ArtifactPathError, match=r"'file\.yaml' is not a directory"):
        resolve_path(repo, "file.yaml")
    (repo / "escape").symlink_to(repo.parent / "outside")
    with pytest.raises(ArtifactPathError, match="'escape' points outside"):
        resolve_path(repo, "escape")


def test_symlinks(repo: Path) -> None:
    (repo / "apps" / "rel").symlink_to("base")
    (repo / "apps" / "abs").symlink_to(repo / "apps" / "base" / "cm.yaml")
    (repo / "apps" / "dangling").symlink_to("missing")
    check_symlinks(repo)
    (repo / "apps" / "base" / "out").symlink_to("../../../outside")
    with pytest.raises(ArtifactPathError, match="symlink 'apps/base/out' points outside"):
        check_symlinks(repo)
    os.unlink(repo / "apps" / "base" / "out")
    (repo / "etc").symlink_to("/etc/hostname")
    with pytest.raises(ArtifactPathError, match=r"symlink 'etc' points outside.*'/etc/hostname'"):
        check_symlinks(repo)


def test_workspace_holds_only_what_the_path_reaches(repo: Path, tmp_path: Path) -> None:
    (repo / "apps" / "kustomization.yaml").write_text("resources: [abs, rel/cm.yaml]\n")
    (repo / "apps" / "abs").symlink_to(repo / "apps" / "base" / "cm.yaml")
    (repo / "apps" / "rel").symlink_to("base")
    (repo / "other").mkdir()
    (repo / "other" / "kustomization.yaml").write_text("resources: [/etc/passwd]\n")
    found = closure(repo, resolve_path(repo, "apps"))
    assert found.files == {"apps/kustomization.yaml", "apps/base/cm.yaml"}
    assert found.links == {"apps/abs": "apps/base/cm.yaml", "apps/rel": "apps/base"}
    copy = materialize(found, tmp_path / "copy")
    assert os.readlink(copy / "apps" / "abs") == "base/cm.yaml"
    assert os.readlink(copy / "apps" / "rel") == "base"
    assert not (copy / "file.yaml").exists()
    assert not (copy / "other").exists()
    (copy / "apps" / "base" / "cm.yaml").write_text("changed")
    assert (repo / "apps" / "base" / "cm.yaml").read_text() == "x"


def test_inputs_digest_follows_the_closure(repo: Path) -> None:
    (repo / "apps" / "kustomization.yaml").write_text("resources: [base/cm.yaml]\n")
    first = closure(repo, resolve_path(repo, "apps")).digest
    (repo / "file.yaml").write_text("changed elsewhere")
    assert closure(repo, resolve_path(repo, "apps")).digest == first
    (repo / "apps" / "base" / "cm.yaml").write_text("changed")
    assert closure(repo, resolve_path(repo, "apps")).digest != first
    (repo / "apps" / "kustomization.yaml").write_text("resources: [https://example.com/x.yaml]\n")
    assert closure(repo, resolve_path(repo, "apps")).digest is None


def kustomization(repo: Path, text: str) -> None:
    (repo / "apps" / "kustomization.yaml").write_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "resources: [base, ../file.yaml, https://github.com/org/repo//x?ref=v1]\n",
        "patches: [{path: base/cm.yaml}, {patch: 'inline'}]\n",
        "configMapGenerator: [{name: c, files: [key=base/cm.yaml], envs: [base/cm.yaml]}]\n",
        "transformers: ['apiVersion: x\n kind: Inline\n']\n",
        "resources: [github.com/org/repo/deploy?ref=main]\n",
    ],
)
def test_confinement_accepts(repo: Path, text: str) -> None:
    kustomization(repo, text)
    check_kustomizations(repo)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("resources: [../../outside]\n", "resources"),
        ("resources: [/etc/hostname]\n", "resources"),
        ("components: [../../outside]\n", "components"),
        ("patches: [{path: /etc/passwd}]\n", "patches.path"),
        ("patchesJson6902: [{path: ../../x}]\n", "patchesJson6902.path"),
        (
            "configMapGenerator: [{name: c, files: [k=/var/run/secrets/token]}]\n",
            "configMapGenerator.files",
        ),
        ("secretGenerator: [{name: s, envs: [../../.env]}]\n", "secretGenerator.envs"),
        ("secretGenerator: [{name: s, env: /root/.env}]\n", "secretGenerator.env"),
        ("openapi: {path: /schema.json}\n", "openapi.path"),
        ("crds: [/crd.json]\n", "crds"),
    ],
)
def test_confinement_refuses(repo: Path, text: str, field: str) -> None:
    kustomization(repo, text)
    with pytest.raises(BuildError, match=f"^apps/kustomization.yaml: {field} .* points outside"):
        check_kustomizations(repo)


def test_remote_bases_can_be_disabled(repo: Path) -> None:
    kustomization(repo, "resources: [https://github.com/org/repo//x?ref=v1]\n")
    with pytest.raises(BuildError, match="remote base, and remote bases are disabled"):
        check_kustomizations(repo, allow_remote=False)
