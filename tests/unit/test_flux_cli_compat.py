"""The pieces that make `weir build`/`weir diff` behave as the flux CLI: Go's boolean flag
syntax, the root of a build without `.git`, a lenient Kustomization spec, flux diff's text,
kubectl's connection flags, and the inputs of `weir build hr`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from weir.actions.build import choose_root, parse_spec
from weir.actions.diff import FieldChange
from weir.actions.fluxdiff import path_parts, report, report_changes
from weir.actions.helmrender import ValuesFile, _file_object, parse_values_from
from weir.cli.build_hr import root_kustomization
from weir.cli.fluxflags import normalize_bool_flags
from weir.errors import ConfigError, UsageError
from weir.kube.client import ClientOverrides, overridden_config


def test_go_boolean_flags() -> None:
    argv = ["build", "ks", "a", "--in-memory-build=true", "--progress-bar=false", "--path=x"]
    assert normalize_bool_flags(argv) == [
        "build",
        "ks",
        "a",
        "--in-memory-build",
        "--no-progress-bar",
        "--path=x",
    ]
    assert normalize_bool_flags(["--dry-run=maybe"]) == ["--dry-run=maybe"]  # click says no


def test_root_without_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "apps" / "prod").mkdir(parents=True)
    path = repo / "apps" / "prod"
    assert choose_root(path, None, cwd=repo).path == repo  # the working directory
    assert "working directory" in choose_root(path, None, cwd=repo).why
    assert choose_root(path, None, cwd=tmp_path / "elsewhere").path == path
    assert choose_root(path, repo, cwd=tmp_path).path == repo  # --local-sources
    (repo / ".git").mkdir()
    assert choose_root(path, None, cwd=tmp_path / "elsewhere").path == repo
    assert choose_root(path, None, cwd=Path.home()).path == repo
    (repo / ".git").rmdir()
    assert choose_root(path, None, cwd=Path("/")).path == path  # never / (or the home dir)


def test_lenient_spec_and_every_problem_at_once() -> None:
    spec = parse_spec({"spec": {"path": "./apps"}}, "Kustomization x/y")
    assert spec.path == "./apps"
    assert spec.prune is False
    with pytest.raises(ConfigError) as e:
        parse_spec({"spec": {"interval": "soon", "prune": "maybe"}}, "Kustomization x/y")
    assert "(2 problems)" in str(e.value)
    assert "spec.interval" in str(e.value)
    assert "spec.prune" in str(e.value)


# ----------------------------------------------------------------------------- flux diff's text
LIVE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "podinfo", "namespace": "default", "resourceVersion": "7"},
    "spec": {
        "ports": [{"name": "http", "port": 9899}, {"name": "grpc", "port": 9999}],
        "args": ["a", "b"],
    },
    "status": {"loadBalancer": {}},
}


def test_report_value_changes_by_list_entry_name_and_index() -> None:
    merged = {
        **LIVE,
        "spec": {
            "ports": [{"name": "http", "port": 9898}, {"name": "grpc", "port": 9999}],
            "args": ["a", "c"],
        },
    }
    assert report(LIVE, merged) == (
        "\n"
        "spec.args.1\n"
        "  ± value change\n"
        "    - b\n"
        "    + c\n"
        "\n"
        "spec.ports.http.port\n"
        "  ± value change\n"
        "    - 9899\n"
        "    + 9898\n"
        "\n"
    )


def test_report_map_and_list_entries() -> None:
    merged = {
        **LIVE,
        "metadata": {**LIVE["metadata"], "labels": {"app": "podinfo"}},
        "spec": {"ports": [{"name": "http", "port": 9899}], "args": ["a", "b"]},
    }
    assert report(LIVE, merged) == (
        "\n"
        "metadata\n"
        "  + one map entry added:\n"
        "    labels:\n"
        "      app: podinfo\n"
        "\n"
        "spec.ports\n"
        "  - one list entry removed:\n"
        "    - name: grpc\n"
        "      port: 9999\n"
        "\n"
    )
    assert report(LIVE, LIVE) == ""


def test_report_masks_secret_values() -> None:
    live = {"kind": "Secret", "data": {"a": "eA==", "old": "eQ=="}}
    merged = {"kind": "Secret", "data": {"a": "eg==", "new": "eQ=="}}
    text = report(live, merged, secret=True)
    assert 'old: "*****"' in text
    assert 'new: "*****"' in text
    assert "    - *** (before)\n    + *** (after)\n" in text
    assert "eA==" not in text
    assert "eg==" not in text


def test_report_of_weir_field_changes() -> None:
    assert path_parts('metadata.labels["app.kubernetes.io/name"]') == [
        "metadata",
        "labels",
        "app.kubernetes.io/name",
    ]
    text = report_changes(
        [
            FieldChange("metadata.labels.owner", "someone", None, True, False),
            FieldChange("spec.replicas", 3, 4),
        ]
    )
    assert "metadata.labels\n  - one map entry removed:\n    owner: someone\n" in text
    assert "spec.replicas\n  ± value change\n    - 3\n    + 4\n" in text


# ----------------------------------------------------------------------------- connection flags
def test_connection_flags_override_a_copy_of_the_kubeconfig(tmp_path: Path) -> None:
    config = {
        "apiVersion": "v1",
        "current-context": "dev",
        "contexts": [{"name": "dev", "context": {"cluster": "dev", "user": "me"}}],
        "clusters": [
            {"name": "dev", "cluster": {"server": "https://a:6443", "certificate-authority": "ca"}}
        ],
        "users": [{"name": "me", "user": {"client-certificate-data": "Y2VydA=="}}],
    }
    file = tmp_path / "kubeconfig"
    file.write_text(yaml.safe_dump(config))
    merged, context = overridden_config(
        str(file), None, ClientOverrides(server="https://b:6443", token="t0ken")
    )
    ctx = next(c["context"] for c in merged["contexts"] if c["name"] == context)
    cluster = next(c["cluster"] for c in merged["clusters"] if c["name"] == ctx["cluster"])
    user = next(u["user"] for u in merged["users"] if u["name"] == ctx["user"])
    assert cluster == {"server": "https://b:6443", "certificate-authority": str(tmp_path / "ca")}
    assert user == {"token": "t0ken"}
    dev = next(c["cluster"] for c in merged["clusters"] if c["name"] == "dev")
    assert dev["server"] == "https://a:6443"  # the original entry is kept
    assert ClientOverrides(impersonate="x").empty is False
    assert ClientOverrides(impersonate="x").changes_config is False


# ----------------------------------------------------------------------------- weir build hr
def test_values_from_files(tmp_path: Path) -> None:
    plain = tmp_path / "values.yaml"
    plain.write_text("replicas: 2\n")
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: v}\ndata: {values.yaml: 'a: 1'}\n"
    )
    found = parse_values_from([f"ConfigMap/v={manifest},Secret/apps/s={plain}"])
    assert found == [
        ValuesFile("ConfigMap", None, "v", manifest),
        ValuesFile("Secret", "apps", "s", plain),
    ]
    assert found[0].matches("ConfigMap", "any", "v")
    assert not found[1].matches("Secret", "other", "s")
    assert _file_object(found[0], ["values.yaml"])["data"] == {"values.yaml": "a: 1"}
    assert _file_object(found[1], ["extra.yaml"]) == {
        "kind": "Secret",
        "stringData": {"extra.yaml": "replicas: 2\n"},
    }
    for bad, message in [
        ("ConfigMap/v", "expected Kind/"),
        (f"Deployment/v={plain}", "cannot hold values"),
        ("Secret/s=/nonexistent/file", "not found"),
    ]:
        with pytest.raises(UsageError, match=message):
            parse_values_from([bad])


def test_root_kustomization_of_a_file(tmp_path: Path) -> None:
    ks = (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        "metadata: {{name: {name}, namespace: flux-system}}\nspec: {{path: {path}}}\n"
    )
    file = tmp_path / "ks.yaml"
    file.write_text(
        ks.format(name="infra", path="./infra") + "---\n" + ks.format(name="apps", path="./apps")
    )
    assert root_kustomization(None, tmp_path) == ("flux-system", None)
    assert root_kustomization(file, tmp_path / "apps") == ("apps", "flux-system")
    with pytest.raises(UsageError, match="several Kustomizations"):
        root_kustomization(file, tmp_path / "other")
