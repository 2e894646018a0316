"""Per-object post-build substitution: opt-out, strategies, re-typing, errors, variables."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from weir import yamlio
from weir.kustomize.build import Manifest, parse_output
from weir.kustomize.errors import SubstitutionError
from weir.kustomize.substitute import (
    substitute_all,
    substitute_manifest,
    substitution_disabled,
    validate_names,
)
from weir.kustomize.variables import merge_variables, variables_from_object

OUTPUT = """\
apiVersion: v1
data:
  port: ${PORT}
  quoted: '${PORT}'
  region: ${REGION:=eu}
  text: |
    line one ${NAME}
    $${LITERAL}
kind: ConfigMap
metadata:
  name: ${NAME}-settings
  namespace: apps
---
apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
  name: raw
spec:
  replicas: ${REPLICAS}
"""


def manifest(obj: dict[str, Any]) -> Manifest:
    return Manifest(yamlio.dump(obj), obj)


def test_substitution_per_object() -> None:
    settings, raw = substitute_all(parse_output(OUTPUT), {"PORT": "8080", "NAME": "web"})
    assert settings["metadata"]["name"] == "web-settings"
    assert settings["data"] == {
        "port": 8080,  # re-typed by YAML, as in Flux
        "quoted": "8080",
        "region": "eu",
        "text": "line one web\n${LITERAL}\n",
    }
    assert raw["spec"]["replicas"] == "${REPLICAS}"  # opted out, undefined var not an error


def test_opt_out_is_exact_and_case_sensitive() -> None:
    def obj(where: str, value: str) -> dict[str, Any]:
        return {"metadata": {where: {"kustomize.toolkit.fluxcd.io/substitute": value}}}

    assert substitution_disabled(obj("labels", "disabled"))
    assert substitution_disabled(obj("annotations", "disabled"))
    assert not substitution_disabled(obj("annotations", "Disabled"))
    assert not substitution_disabled({"metadata": {}})


def test_strategies() -> None:
    m = manifest({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "${A:=x}"}})
    assert substitute_manifest(m, {}) is m.object  # WithVariables: no variable, no substitution
    assert substitute_all([m], {})[0]["data"] == {"a": "${A:=x}"}
    assert substitute_all([m], {}, strategy="Always")[0]["data"] == {"a": "x"}
    assert substitute_all([m], {"B": "1"})[0]["data"] == {"a": "x"}


def test_strict_error_names_object_and_variable() -> None:
    m = manifest(
        {
            "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "ns"},
            "data": {"a": "${UNDEFINED}"},
        }
    )
    with pytest.raises(SubstitutionError) as err:
        substitute_all([m], {"OTHER": "1"})
    text = str(err.value)
    assert text.startswith("post build failed for 'ConfigMap/ns/c': variable substitution failed")
    assert 'variable not set (strict mode): "UNDEFINED"' in text
    assert "${UNDEFINED:=value}" in text  # says what to do
    assert substitute_all([m], {"OTHER": "1"}, strict=False)[0]["data"] == {"a": None}


def test_syntax_and_yaml_errors() -> None:
    m = manifest({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "${A"}})
    with pytest.raises(SubstitutionError, match=r"'ConfigMap/c'.*missing closing brace"):
        substitute_all([m], {"A": "1"})
    m = manifest({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "${A}"}})
    with pytest.raises(SubstitutionError, match="does not parse"):
        substitute_all([m], {"A": "[unclosed"})


@pytest.mark.parametrize("name", ["1ABC", "A-B", "A.B", "", "é"])
def test_invalid_variable_names(name: str) -> None:
    with pytest.raises(SubstitutionError, match=f"'{name}' var name is invalid"):
        validate_names({name: "x"})
    validate_names({"_ok": "", "A1_b": ""})


def test_variables_from_configmaps_and_secrets() -> None:
    cm = {"kind": "ConfigMap", "data": {"A": "1\n", "B": "x\ny"}}
    secret = {
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"A": base64.b64encode(b"2").decode(), "C": base64.b64encode(b"c\n").decode()},
    }
    assert variables_from_object(cm) == {"A": "1", "B": "xy"}
    assert variables_from_object(secret) == {"A": "2", "C": "c"}
    merged = merge_variables([variables_from_object(cm), variables_from_object(secret)], {"C": "3"})
    assert merged == {"A": "2", "B": "xy", "C": "3"}
    with pytest.raises(SubstitutionError, match=r"'Secret/s'.*not base64"):
        variables_from_object({"kind": "Secret", "metadata": {"name": "s"}, "data": {"A": "%%"}})
