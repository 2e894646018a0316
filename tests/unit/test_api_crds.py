"""The generated CRDs: structural schemas, Flux's names/columns/annotation, the committed copy,
and the ``weir crds`` command."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from weir.api import KINDS
from weir.api.base import ApiModel
from weir.api.crds import REGENERATE, generate, main, render
from weir.api.schema import SchemaError, structural_schema
from weir.cli.main import app
from weir.types import Obj

COMMITTED = Path(__file__).resolve().parents[2] / "charts" / "weir" / "crds" / "crds.yaml"


def _by_kind() -> dict[str, Obj]:
    return {c["spec"]["names"]["kind"]: c for c in generate()}


CRDS = _by_kind()


def _nodes(schema: Obj, path: str = "") -> list[tuple[str, Obj]]:
    found = [(path, schema)]
    for name, sub in schema.get("properties", {}).items():
        found += _nodes(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        found += _nodes(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        found += _nodes(schema["additionalProperties"], f"{path}{{}}")
    return found


def test_committed_crds_are_up_to_date() -> None:
    committed = COMMITTED.read_text() if COMMITTED.exists() else ""
    assert committed == render(), (
        f"{COMMITTED.relative_to(COMMITTED.parents[3])} is out of date with the models in "
        f"weir/api; regenerate it with:\n    {REGENERATE}"
    )


def test_one_crd_per_kind_with_flux_names() -> None:
    crds = _by_kind()
    assert set(crds) == set(KINDS)
    for kind, crd in crds.items():
        info = KINDS[kind]
        assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
        assert crd["metadata"]["name"] == f"{info.plural}.{info.group}"
        assert crd["metadata"]["annotations"] == {
            "kustomize.toolkit.fluxcd.io/substitute": "disabled"
        }
        spec = crd["spec"]
        assert spec["group"] == info.group
        assert spec["scope"] == "Namespaced"
        names = spec["names"]
        assert names["kind"] == kind
        assert names["listKind"] == f"{kind}List"
        assert names.get("shortNames", []) == list(info.short_names)
        if info.group == "fluxcd.controlplane.io":  # the Flux Operator's CRDs have none
            assert "categories" not in names
        else:
            assert names["categories"][:2] == ["all", "fluxcd"]
        [version] = spec["versions"]
        assert version["name"] == info.version
        assert version["served"] is True
        assert version["storage"] is True


def test_short_names_as_flux_has_them() -> None:
    short = {k: c["spec"]["names"].get("shortNames") for k, c in _by_kind().items()}
    assert short == {
        "GitRepository": ["gitrepo"],
        "OCIRepository": ["ocirepo"],
        "HelmRepository": ["helmrepo"],
        "HelmChart": ["hc"],
        "Bucket": None,
        "ExternalArtifact": ["ea"],
        "ArtifactGenerator": ["ag"],
        "Kustomization": ["ks"],
        "HelmRelease": ["hr"],
        "Provider": None,
        "Alert": None,
        "Receiver": None,
        "ResourceSet": ["rset"],
        "ResourceSetInputProvider": ["rsip"],
        "FluxInstance": None,
        "FluxReport": None,
    }


def test_printer_columns() -> None:
    crds = _by_kind()

    def columns(kind: str) -> list[tuple[str, str, str]]:
        version = crds[kind]["spec"]["versions"][0]
        return [(c["name"], c["type"], c["jsonPath"]) for c in version["additionalPrinterColumns"]]

    ready = ("Ready", "string", '.status.conditions[?(@.type=="Ready")].status')
    status = ("Status", "string", '.status.conditions[?(@.type=="Ready")].message')
    age = ("Age", "date", ".metadata.creationTimestamp")
    url = ("URL", "string", ".spec.url")
    assert columns("Kustomization") == [age, ready, status]
    assert columns("HelmRelease") == [age, ready, status]
    assert columns("GitRepository") == [url, age, ready, status]
    assert columns("OCIRepository") == [url, ready, status, age]
    assert columns("Bucket")[0] == ("Endpoint", "string", ".spec.endpoint")
    # weir gives Provider and Alert a status (ADR 0008), so they show Ready like the others
    assert columns("Provider") == [age, ready, status]
    assert columns("Alert") == [age, ready, status]
    assert columns("ExternalArtifact") == [
        age,
        ready,
        status,
        ("Source", "string", ".spec.sourceRef.name"),
    ]
    assert columns("ArtifactGenerator") == [age, ready, status]


def test_status_subresource_and_default() -> None:
    # every kind has one, Provider and Alert included (weir's addition, ADR 0008)
    for kind, crd in _by_kind().items():
        version = crd["spec"]["versions"][0]
        props = version["schema"]["openAPIV3Schema"]["properties"]
        assert version["subresources"] == {"status": {}}
        # ExternalArtifact has no observedGeneration (its producer writes it), as in Flux
        if kind != "ExternalArtifact":
            assert props["status"]["default"] == {"observedGeneration": -1}
        assert props["status"]["properties"]["conditions"]["items"]["required"] == [
            "type",
            "status",
            "lastTransitionTime",
            "reason",
            "message",
        ]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_schemas_are_structural(kind: str) -> None:
    schema = CRDS[kind]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert schema["type"] == "object"
    assert schema["properties"]["metadata"] == {"type": "object"}
    assert schema["properties"]["apiVersion"]["type"] == "string"
    # an ExternalArtifact's spec is optional, as in Flux
    assert schema.get("required") == (None if kind == "ExternalArtifact" else ["spec"])
    text = json.dumps(schema)
    for banned in ('"$ref"', '"anyOf"', '"oneOf"', '"allOf"', '"title"', '"const"', '"$defs"'):
        assert banned not in text, banned
    for path, node in _nodes(schema):
        assert (
            "type" in node
            or node.get("x-kubernetes-preserve-unknown-fields")
            or node.get("x-kubernetes-int-or-string")
        ), path
        assert not ("properties" in node and "additionalProperties" in node), path
        assert node.get("default", 0) is not None, path
        if "default" in node and "enum" in node:
            assert node["default"] in node["enum"], path
        if "default" in node and "pattern" in node:
            assert re.search(node["pattern"], node["default"]), path


def test_free_form_values_and_required_fields() -> None:
    crds = _by_kind()
    hr = crds["HelmRelease"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    spec = hr["properties"]["spec"]
    values = spec["properties"]["values"]
    assert values["x-kubernetes-preserve-unknown-fields"] is True
    assert "type" not in values
    assert spec["required"] == ["interval"]
    rule = "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))"
    assert spec["x-kubernetes-validations"] == [
        {"rule": rule, "message": "either chart or chartRef must be set"}
    ]
    ks = crds["Kustomization"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    ks_spec = ks["properties"]["spec"]
    assert sorted(ks_spec["required"]) == ["interval", "prune", "sourceRef"]
    assert ks_spec["properties"]["interval"]["pattern"] == r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
    assert ks_spec["properties"]["sourceRef"]["properties"]["kind"]["enum"] == [
        "OCIRepository",
        "GitRepository",
        "Bucket",
        "ExternalArtifact",
    ]
    git = crds["GitRepository"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    git_spec = git["properties"]["spec"]["properties"]
    assert git_spec["timeout"] == {
        "default": "60s",
        "description": "Timeout of Git operations.",
        "pattern": r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$",
        "type": "string",
    }
    status = git["properties"]["status"]["properties"]
    assert status["observedGeneration"] == {
        "description": status["observedGeneration"]["description"],
        "format": "int64",
        "type": "integer",
    }
    assert status["artifact"]["properties"]["lastUpdateTime"]["format"] == "date-time"
    receiver = crds["Receiver"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    oidc = receiver["properties"]["spec"]["properties"]["oidcProviders"]
    assert oidc["x-kubernetes-list-type"] == "map"
    assert oidc["x-kubernetes-list-map-keys"] == ["issuerURL"]
    assert oidc["items"]["properties"]["validations"]["minItems"] == 1


def test_cel_rules_are_emitted_where_the_models_declare_them() -> None:
    def rules_in(schema: Obj) -> set[str]:
        return {
            rule["rule"]
            for _, node in _nodes(schema)
            for rule in node.get("x-kubernetes-validations", [])
        }

    crds = _by_kind()
    for info in KINDS.values():
        declared: set[str] = set()
        pending: list[type[BaseModel]] = [info.model]
        seen: set[type[BaseModel]] = set()
        while pending:
            model = pending.pop()
            if model in seen:
                continue
            seen.add(model)
            if issubclass(model, ApiModel):
                declared |= {r.rule for r in model.cel_rules}
            for field in model.model_fields.values():
                pending.extend(_nested(field.annotation))
                extra = field.json_schema_extra  # transition rules (self == oldSelf)
                rules = extra.get("x-kubernetes-validations") if isinstance(extra, dict) else None
                if isinstance(rules, list):
                    declared |= {str(r["rule"]) for r in rules if isinstance(r, dict)}
        crd = crds[info.kind]
        assert rules_in(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]) == declared


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) or () for m in _nested(arg)]


def test_descriptions_are_single_line() -> None:
    for crd in generate():
        schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        for path, node in _nodes(schema):
            if "description" in node:
                assert "\n" not in node["description"], path
                assert "``" not in node["description"], path


def test_unsupported_unions_are_refused() -> None:
    class Bad(BaseModel):
        value: int | list[str]

    with pytest.raises(SchemaError, match="unions other than"):
        structural_schema(Bad)


def test_int_or_string() -> None:
    class Port(BaseModel):
        port: int | str

    assert structural_schema(Port)["properties"]["port"] == {"x-kubernetes-int-or-string": True}


def test_render_formats() -> None:
    text = render()
    assert text.startswith("# ")
    assert REGENERATE in text
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert docs == generate()
    listed = json.loads(render("json"))
    assert listed["kind"] == "List"
    assert listed["items"] == generate()


def test_module_entry_point(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert capsys.readouterr().out == render()
    assert main(["json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "List"
    assert main(["toml"]) == 2


def test_weir_crds_command() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["crds"])
    assert result.exit_code == 0, result.output
    assert result.stdout == render()
    result = runner.invoke(app, ["crds", "-o", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"] == generate()
    result = runner.invoke(app, ["crds", "-o", "table"])
    assert result.exit_code != 0
