"""`weir build ks` building blocks without kustomize or a cluster: the Kustomization file, the
--local-sources flag, the staged checkout, Secret masking and one-line errors."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from weir.actions.build import (
    KustomizationFileError,
    checkout_root,
    mask_secrets,
    one_line,
    parse_local_sources,
    parse_spec,
    read_kustomization_file,
    stage_checkout,
    to_yaml,
    yaml_problem,
)
from weir.actions.masking import BUILD, SOPS_MASK
from weir.errors import ConfigError, UsageError

SECRET_MASK = BUILD.mask

KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: {namespace}
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef: {{kind: GitRepository, name: flux-system}}
"""


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


# ------------------------------------------------------------------ the Kustomization file
def test_file_with_several_documents_picks_the_named_one(tmp_path: Path) -> None:
    file = tmp_path / "ks.yaml"
    kustomize_own = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
    file.write_text(
        "---\n".join(
            [
                KS.format(name="infra", namespace="flux-system"),
                kustomize_own,
                KS.format(name="apps", namespace="flux-system"),
                KS.format(name="apps", namespace="staging"),
            ]
        )
    )
    obj = read_kustomization_file(file, "apps", "staging")
    assert obj["metadata"] == {"name": "apps", "namespace": "staging"}
    assert parse_spec(obj, "x").path == "./apps"
    assert read_kustomization_file(file, "infra", None)["metadata"]["name"] == "infra"
    # as flux build: the first document of that name (in the namespace asked for)
    assert read_kustomization_file(file, "apps", None)["metadata"]["namespace"] == "flux-system"
    assert read_kustomization_file(file, "apps", "flux-system")["metadata"]["name"] == "apps"
    with pytest.raises(KustomizationFileError) as e:
        read_kustomization_file(file, "web", None)
    assert "has no Kustomization 'web'" in str(e.value)
    assert "flux-system/infra, flux-system/apps, staging/apps" in str(e.value)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--kustomization-file .*missing.yaml not found"):
        read_kustomization_file(tmp_path / "missing.yaml", "apps", None)
    bad = write(tmp_path, {"bad.yaml": "a: b\n  c: d: e\n"}) / "bad.yaml"
    with pytest.raises(KustomizationFileError) as e:
        read_kustomization_file(bad, "apps", None)
    assert str(e.value) == (
        f"invalid YAML in {bad}: line 2, column 4: mapping values are not allowed in this context"
    )
    plain = write(tmp_path, {"k.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\n"}) / "k.yaml"
    with pytest.raises(KustomizationFileError, match=r"defines no kustomize\.toolkit\.fluxcd\.io"):
        read_kustomization_file(plain, "apps", None)


def test_a_namespace_less_document_takes_the_namespace_asked_for(tmp_path: Path) -> None:
    text = KS.format(name="apps", namespace="").replace("  namespace: \n", "")
    file = write(tmp_path, {"ks.yaml": text}) / "ks.yaml"
    obj = read_kustomization_file(file, "apps", "prod")
    assert "namespace" not in obj["metadata"]  # the builder fills it in


def test_invalid_spec_names_the_field() -> None:
    obj = yaml.safe_load(KS.format(name="apps", namespace="ns"))
    obj["spec"]["interval"] = "ten minutes"
    with pytest.raises(
        ConfigError, match=r"invalid Kustomization ns/apps \(1 problem\): spec.interval: "
    ):
        parse_spec(obj, "Kustomization ns/apps")


# ------------------------------------------------------------------ --local-sources
def test_local_sources(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    found = parse_local_sources(
        [f"GitRepository/flux-system/fleet={tmp_path}/a,OCIRepository/apps/charts={tmp_path}/b"]
    )
    assert found == {
        "GitRepository/flux-system/fleet": tmp_path / "a",
        "OCIRepository/apps/charts": tmp_path / "b",
    }
    for bad, message in [
        ("GitRepository/fleet=./", "expected Kind/namespace/name=path"),
        ("GitRepository/ns/fleet", "expected Kind/namespace/name=path"),
        ("HelmRepository/ns/x=./", "'HelmRepository' is not a Kustomization source kind"),
        (f"Bucket/ns/x={tmp_path}/nope", "directory .*nope not found"),
    ]:
        with pytest.raises(UsageError, match=message):
            parse_local_sources([bad])


# ------------------------------------------------------------------ the staged checkout
def test_checkout_root_is_the_git_top_level(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "apps" / "prod").mkdir(parents=True)
    (tmp_path / "loose").mkdir()
    assert checkout_root(tmp_path / "repo" / "apps" / "prod") == tmp_path / "repo"
    assert checkout_root(tmp_path / "loose") == tmp_path / "loose"


def test_staging_keeps_what_the_artifact_would_hold(tmp_path: Path) -> None:
    root = write(
        tmp_path / "repo",
        {
            ".git/HEAD": "ref: refs/heads/main\n",
            ".sourceignore": "drafts/\n*.md\n!keep.md\n",
            "apps/cm.yaml": "kind: ConfigMap\n",
            "apps/README.md": "docs\n",
            "apps/keep.md": "kept\n",
            "drafts/wip.yaml": "kind: ConfigMap\n",
            "ci/test.yaml": "x: 1\n",
        },
    )
    (root / "apps" / "base").symlink_to(root / "ci")  # absolute, inside the checkout
    (root / "apps" / "rel").symlink_to("../ci")
    dest = tmp_path / "staged"
    stage_checkout(root, dest, ignore="ci/test.yaml")
    found = sorted(str(p.relative_to(dest)) for p in dest.rglob("*"))
    assert found == [
        ".sourceignore",
        "apps",
        "apps/base",
        "apps/cm.yaml",
        "apps/keep.md",
        "apps/rel",
        "ci",
    ]
    assert (dest / "apps" / "base").readlink() == Path("../ci")  # now points into the copy
    assert (dest / "apps" / "rel").readlink() == Path("../ci")


# ------------------------------------------------------------------ output
def test_secret_values_are_masked_keys_kept() -> None:
    secret: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"password": b64("hunter2"), "token": b64("ENC[AES256_GCM,data:xyz,type:str]")},
        "stringData": {"raw": "plain"},
    }
    sops = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "enc"},
        "data": {"key": "ENC[AES256_GCM,data:abc,type:str]"},
        "sops": {"version": "3.9"},
    }
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"a": "b"},
    }
    masked = mask_secrets([secret, sops, config], BUILD)  # --mask-secrets
    assert masked[0]["data"] == {"password": b64(SECRET_MASK), "token": b64(SOPS_MASK)}
    assert masked[0]["stringData"] == {"raw": SECRET_MASK}
    assert masked[1]["data"] == {"key": b64(SOPS_MASK)}
    assert masked[2] == config
    assert secret["data"]["password"] == b64("hunter2")  # the input is not changed


def test_yaml_output_is_multi_document_and_quoted_as_kubernetes_reads() -> None:
    objs = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "a"},
            "data": {"t": "12:30"},
        },
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}, "data": {"n": "1e3"}},
    ]
    text = to_yaml(objs)
    assert text.startswith("apiVersion: v1\ndata:\n")  # as flux build: keys sorted
    assert text.endswith("---\n")
    assert text.count("---\n") == 2
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    assert [d["data"] for d in docs] == [{"t": "12:30"}, {"n": "1e3"}]


def test_errors_become_one_line() -> None:
    with pytest.raises(yaml.YAMLError) as raised:
        yaml.safe_load("a: [\n")
    assert yaml_problem(raised.value).startswith("line 2, column 1: ")
    flat = one_line(f"failed to decode Kubernetes YAML from x.yaml: {raised.value}")
    assert "\n" not in flat
    assert "^" not in flat
    assert "<unicode string>" not in flat
