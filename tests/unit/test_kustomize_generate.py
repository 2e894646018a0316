"""kustomization.yaml generation and the merge of the Kustomization spec (files only, no
kustomize)."""

from __future__ import annotations

from pathlib import Path

import pytest

from weir import yamlio
from weir.api.kustomize import KustomizationSpec
from weir.kustomize.errors import BuildError
from weir.kustomize.generate import (
    BuildSpec,
    check_manifest_file,
    generate_kustomization,
    merge_spec,
    write_kustomization,
)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"


def files(root: Path, entries: dict[str, str]) -> Path:
    for name, text in entries.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_generation_walks_like_flux(tmp_path: Path) -> None:
    files(
        tmp_path,
        {
            "b.yaml": CM,
            "a/x.yml": CM,
            "a/z.json": "{}",
            "c/kustomization.yaml": "resources: []\n",
            "c/deep/ignored.yaml": "not: an object\n",
            "d/Kustomization": "resources: []\n",
            ".hidden/h.yaml": CM,
            "list.yaml": "apiVersion: v1\nkind: List\nitems: []\n",
            "multi.yaml": CM + "---\n" + CM.replace("name: c", "name: d") + "---\n",
        },
    )
    (tmp_path / "linked").symlink_to(tmp_path / "a")
    doc = generate_kustomization(tmp_path, tmp_path)
    assert doc == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [
            "./.hidden/h.yaml",
            "./a/x.yml",
            "./b.yaml",
            "./c",
            "./d",
            "./list.yaml",
            "./multi.yaml",
        ],
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("replicaCount: 2\n", "missing Resource metadata"),
        ("apiVersion: v2\nname: chart\n", "missing kind"),
        ("kind: ConfigMap\nmetadata: {name: c}\n", "missing apiVersion"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "missing metadata.name"),
        ("- a\n- b\n", "not a Kubernetes object"),
        ("a: [\n", "while parsing"),
    ],
)
def test_manifest_files_must_hold_objects(tmp_path: Path, text: str, problem: str) -> None:
    path = files(tmp_path, {"f.yaml": text}) / "f.yaml"
    with pytest.raises(
        BuildError, match=f"^failed to decode Kubernetes YAML from apps/f.yaml: .*{problem}"
    ):
        check_manifest_file(path, "apps/f.yaml")


def test_merge_spec() -> None:
    user = {
        "resources": ["a.yaml"],
        "namespace": "old",
        "patches": [{"path": "p.yaml"}],
        "images": [{"name": "nginx", "newName": "mirror/nginx"}, {"name": "redis", "newTag": "6"}],
        "components": ["../c1"],
        "commonLabels": {"kept": "yes"},
    }
    spec = BuildSpec(
        target_namespace="new",
        name_prefix="p-",
        name_suffix="-s",
        patches=({"patch": "x", "target": {"kind": "Deployment"}},),
        images=({"name": "nginx", "newTag": "1.27"}, {"name": "busybox", "digest": "sha256:a"}),
        components=("../c2",),
        build_metadata=("originAnnotations",),
    )
    merged = merge_spec(user, spec, Path("/nonexistent"))
    assert merged == {
        "resources": ["a.yaml"],
        "namespace": "new",
        "namePrefix": "p-",
        "nameSuffix": "-s",
        "patches": [{"path": "p.yaml"}, {"patch": "x", "target": {"kind": "Deployment"}}],
        "images": [
            {"name": "nginx", "newTag": "1.27"},  # replaced as a whole (newName dropped)
            {"name": "redis", "newTag": "6"},
            {"name": "busybox", "digest": "sha256:a"},
        ],
        "components": ["../c1", "../c2"],
        "commonLabels": {"kept": "yes"},
        "buildMetadata": ["originAnnotations"],
        "sortOptions": {"order": "fifo"},  # Flux's order: the resources' own
    }
    assert user["namespace"] == "old"  # the input is not modified
    legacy = {"resources": ["a.yaml"], "sortOptions": {"order": "legacy"}}
    assert merge_spec(legacy, BuildSpec(), Path("/nonexistent")) == legacy  # the user's choice


def test_merge_spec_drops_missing_components_when_asked(tmp_path: Path) -> None:
    (tmp_path / "present").mkdir()
    spec = BuildSpec(components=("present", "absent"), ignore_missing_components=True)
    fifo = {"sortOptions": {"order": "fifo"}}
    assert merge_spec({}, spec, tmp_path) == {"components": ["present"], **fifo}
    assert merge_spec({}, BuildSpec(), tmp_path) == {"resources": [], **fifo}


def test_build_spec_from_a_kustomization_spec() -> None:
    spec = KustomizationSpec.model_validate(
        {
            "interval": "5m",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "repo"},
            "path": "./apps",
            "targetNamespace": "prod",
            "patches": [{"patch": "p", "target": {"kind": "Deployment", "labelSelector": "a=b"}}],
            "images": [{"name": "nginx", "newTag": "1"}],
            "components": ["../c"],
            "ignoreMissingComponents": True,
        }
    )
    assert BuildSpec.from_spec(spec) == BuildSpec(
        path="./apps",
        target_namespace="prod",
        patches=({"patch": "p", "target": {"kind": "Deployment", "labelSelector": "a=b"}},),
        images=({"name": "nginx", "newTag": "1"},),
        components=("../c",),
        ignore_missing_components=True,
    )


def test_write_kustomization_keeps_the_users_file_name(tmp_path: Path) -> None:
    files(tmp_path, {"kustomization.yml": "resources: [a.yaml]\n", "a.yaml": CM})
    written = write_kustomization(tmp_path, tmp_path, BuildSpec(name_prefix="x-"))
    assert written.name == "kustomization.yml"
    assert yamlio.load(written.read_text()) == {
        "resources": ["a.yaml"],
        "namePrefix": "x-",
        "sortOptions": {"order": "fifo"},
    }
    assert not (tmp_path / "kustomization.yaml").exists()

    other = files(tmp_path / "gen", {"a.yaml": CM})
    written = write_kustomization(other, tmp_path, BuildSpec())
    assert written == other / "kustomization.yaml"

    bad = files(tmp_path / "bad", {"kustomization.yaml": "- a list\n"})
    with pytest.raises(BuildError, match=r"bad/kustomization\.yaml is not a kustomization"):
        write_kustomization(bad, tmp_path, BuildSpec())


def test_write_kustomization_does_not_write_through_symlinks(tmp_path: Path) -> None:
    shared = files(tmp_path, {"shared/kustomization.yaml": "resources: []\n"}) / "shared"
    app = tmp_path / "app"
    app.mkdir()
    (app / "kustomization.yaml").symlink_to(shared / "kustomization.yaml")
    write_kustomization(app, tmp_path, BuildSpec(name_prefix="x-"))
    assert (shared / "kustomization.yaml").read_text() == "resources: []\n"
    assert not (app / "kustomization.yaml").is_symlink()
