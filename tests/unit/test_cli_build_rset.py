"""`weir build rset`: a ResourceSet rendered offline from files, like `flux-operator build
rset`, as multi-document YAML or a JSON List, with one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from weir.cli.main import app
from weir.errors import ConfigError, UsageError

RSET = """\
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: app1
  namespace: apps
spec:
  inputsFrom:
    - selector:
        matchLabels:
          some: label
  resources:
    - apiVersion: source.toolkit.fluxcd.io/v1
      kind: OCIRepository
      metadata:
        name: app1-<< inputs.tenant >>
        namespace: apps
      spec:
        interval: 10m
        url: oci://my.registry/org/charts/app1
        ref:
          semver: << inputs.app.version | quote >>
"""
PROVIDERS = """\
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSetInputProvider
metadata:
  name: app1-tenant1
  namespace: apps
  labels: {some: label}
spec:
  type: Static
  defaultValues:
    tenant: tenant1
    app: {version: 6.7.x}
---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSetInputProvider
metadata:
  name: app1-tenant2
  namespace: apps
  labels: {some: label}
spec:
  type: Static
  defaultValues:
    tenant: tenant2
    app: {version: 6.6.x}
"""
EXPECTED = """\
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  labels:
    resourceset.fluxcd.controlplane.io/name: app1
    resourceset.fluxcd.controlplane.io/namespace: apps
  name: app1-tenant1
  namespace: apps
spec:
  interval: 10m
  ref:
    semver: 6.7.x
  url: oci://my.registry/org/charts/app1
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  labels:
    resourceset.fluxcd.controlplane.io/name: app1
    resourceset.fluxcd.controlplane.io/namespace: apps
  name: app1-tenant2
  namespace: apps
spec:
  interval: 10m
  ref:
    semver: 6.6.x
  url: oci://my.registry/org/charts/app1
"""


def files(tmp_path: Path) -> tuple[str, str, str]:
    rset = tmp_path / "rset.yaml"
    rset.write_text(RSET)
    rsip = tmp_path / "rsip.yaml"
    rsip.write_text(PROVIDERS)
    inputs = tmp_path / "inputs.yaml"
    inputs.write_text(
        "- tenant: tenant1\n  app: {version: 6.7.x}\n- tenant: tenant2\n  app: {version: 6.6.x}\n"
    )
    return str(rset), str(rsip), str(inputs)


def test_build_with_providers_and_with_an_inputs_file(tmp_path: Path) -> None:
    rset, rsip, inputs = files(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["build", "rset", "-f", rset, "--inputs-from-provider", rsip])
    assert result.exit_code == 0, result.output
    assert result.stdout == EXPECTED
    result = runner.invoke(app, ["build", "resourceset", "-f", rset, "--inputs-from", inputs])
    assert result.exit_code == 0, result.output
    assert result.stdout == EXPECTED


def test_json_output_and_stdin(tmp_path: Path) -> None:
    _, rsip, _ = files(tmp_path)
    result = CliRunner().invoke(
        app, ["build", "rset", "-f", "-", "--inputs-from-provider", rsip, "-o", "json"], input=RSET
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed["kind"] == "List"
    assert [o["metadata"]["name"] for o in listed["items"]] == ["app1-tenant1", "app1-tenant2"]
    assert listed["items"] == list(yaml.safe_load_all(EXPECTED))


def test_errors(tmp_path: Path) -> None:
    rset, _, _ = files(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["build", "rset"])
    assert isinstance(result.exception, UsageError)
    assert "--filename is required" in str(result.exception)
    result = runner.invoke(app, ["build", "rset", "-f", str(tmp_path / "none.yaml")])
    assert isinstance(result.exception, UsageError)
    assert "no such file" in str(result.exception)
    result = runner.invoke(app, ["build", "rset", "-f", rset])
    assert isinstance(result.exception, UsageError)
    assert "please provide the inputs with --inputs-from" in str(result.exception)
    broken = tmp_path / "broken.yaml"
    broken.write_text(RSET.replace("<< inputs.tenant >>", "<< inputs.tenant"))
    result = runner.invoke(
        app, ["build", "rset", "-f", str(broken), "-i", str(tmp_path / "inputs.yaml")]
    )
    assert isinstance(result.exception, ConfigError)
    assert result.exception.exit_code == 1
    assert "failed to parse template: template: resourceset:" in str(result.exception)
