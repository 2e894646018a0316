"""weir's Helm chart (charts/weir) checked with the real Helm CLI (``scripts/build-helm.sh``):
``helm lint``, the values schema, the guide's ``--set`` values, and that every flag the chart
gives ``weir run`` / ``weir mcp`` is one they accept. (Installing it: tests/e2e/test_install.py.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from weir.cli.main import app
from weir.testing.helmcli import helm
from weir.web.settings import WebSettings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "weir"
GUIDE_SETS = [
    "web.ingress.enabled=true",
    "web.ingress.className=nginx",
    "web.ingress.hosts[0].host=flux.example.test",
    "web.ingress.hosts[0].paths[0].path=/",
    "web.ingress.hosts[0].paths[0].pathType=Prefix",
]
Obj = dict[str, Any]


def _helm(*args: str, tmp: Path) -> tuple[int, str]:
    env = {**os.environ, "HELM_CACHE_HOME": str(tmp / "c"), "HELM_CONFIG_HOME": str(tmp / "f")}
    result = helm(*args, env=env)
    return result.returncode, result.stdout + result.stderr


def _sets(values: list[str]) -> list[str]:
    return [a for v in values for a in ("--set", v)]


def _template(tmp: Path, *sets: str) -> list[Obj]:
    code, out = _helm(
        "template", "flux-operator", str(CHART), "-n", "flux-system", *_sets(list(sets)), tmp=tmp
    )
    assert code == 0, out
    return [d for d in yaml.safe_load_all(out) if d]


@pytest.mark.parametrize("sets", [[], GUIDE_SETS, ["operator.mode=local", "mcp.enabled=true"]])
def test_helm_lint_passes(tmp_path: Path, sets: list[str]) -> None:
    code, out = _helm("lint", "--strict", str(CHART), *_sets(sets), tmp=tmp_path)
    assert code == 0, out
    assert "1 chart(s) linted, 0 chart(s) failed" in out


def test_the_default_values_satisfy_the_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load((CHART / "values.yaml").read_text()), schema)


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["web.ingres.enabled=true"], "additional properties 'ingres' not allowed"),
        (["operator.mode=everywhere"], "value must be one of 'cluster', 'local'"),
        (["web.ingress.hosts[0].paths[0].path=api"], "does not match pattern"),
        (["reporting.interval=often"], "does not match pattern"),
        (["logLevel=loud"], "value must be one of"),
        (["replicas=3"], "maximum"),
        (["operator.receiverPort=70000"], "maximum"),
        (["web.allowedHosts[0]=not a host"], "does not match pattern"),
    ],
)
def test_the_schema_refuses_bad_values_with_a_message(
    tmp_path: Path, sets: list[str], message: str
) -> None:
    code, out = _helm("template", "x", str(CHART), *_sets(sets), tmp=tmp_path)
    assert code != 0
    assert message in out, out


def test_the_guides_values_give_the_service_and_ingress_it_expects(tmp_path: Path) -> None:
    objects = _template(tmp_path, *GUIDE_SETS)
    by_kind = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    svc = by_kind[("Service", "flux-operator")]
    assert {"name": "http-web", "port": 9080, "targetPort": "http-web", "protocol": "TCP"} in svc[
        "spec"
    ]["ports"]
    ingress = by_kind[("Ingress", "flux-operator")]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["rules"][0]["host"] == "flux.example.test"
    assert ("ClusterRole", "flux-web-user") in by_kind
    assert ("ClusterRole", "flux-web-admin") in by_kind
    deployment = by_kind[("Deployment", "flux-operator")]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["runAsNonRoot"] is True
    assert "--web-addr=:9080" in container["args"]


def _operator(objects: list[Obj]) -> Obj:
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    container: Obj = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def _flag(args: list[str], flag: str) -> list[str]:
    return [a.partition("=")[2] for a in args if a.startswith(flag + "=")]


def test_the_ingress_hosts_and_allowed_hosts_are_the_hosts_the_web_ui_answers(
    tmp_path: Path,
) -> None:
    """The guide's ingress host reaches the UI: without --web-allowed-hosts the UI's
    DNS-rebinding protection answers 421 to ``Host: flux.example.test``."""
    objects = _template(tmp_path, *GUIDE_SETS, "web.allowedHosts[0]=*.internal.example")
    (hosts,) = _flag(_operator(objects)["args"], "--web-allowed-hosts")
    assert hosts == "*.internal.example,flux.example.test"
    settings = WebSettings(addr=":9080", allowed_hosts=(hosts,)).normalized()
    rule = settings.host_rule()
    assert rule.host_allowed("flux.example.test")
    assert rule.host_allowed("weir.internal.example:9080")
    assert not rule.host_allowed("attacker.example")
    # no ingress, no allowed hosts: the flag is left out (IP addresses and localhost only)
    assert _flag(_operator(_template(tmp_path))["args"], "--web-allowed-hosts") == []


def test_the_web_config_is_mounted_and_passed(tmp_path: Path) -> None:
    config = ["web.config.apiVersion=web.fluxcd.controlplane.io/v1", "web.config.kind=Config"]
    objects = _template(tmp_path, *config)
    secret = next(o for o in objects if o["kind"] == "Secret")
    assert secret["metadata"]["name"] == "flux-operator-web-config"
    assert "kind: Config" in secret["stringData"]["config.yaml"]
    container = _operator(objects)
    assert _flag(container["args"], "--web-config") == ["/etc/weir/web/config.yaml"]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "web-config")
    assert mount["mountPath"] == "/etc/weir/web"
    # an existing Secret instead: the same flag, no Secret of the chart's
    objects = _template(tmp_path, "web.configSecretName=sso")
    assert not [o for o in objects if o["kind"] == "Secret"]
    assert _flag(_operator(objects)["args"], "--web-config") == ["/etc/weir/web/config.yaml"]
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert {"name": "web-config", "secret": {"secretName": "sso"}} in volumes
    assert _flag(_operator(_template(tmp_path))["args"], "--web-config") == []


def test_local_mode_serves_the_webhook_receiver_on_the_service(tmp_path: Path) -> None:
    objects = _template(tmp_path, "operator.mode=local", "operator.receiverPort=9393")
    container = _operator(objects)
    assert _flag(container["args"], "--receiver-addr") == [":9393"]
    port = {"name": "http-webhook", "containerPort": 9393, "protocol": "TCP"}
    assert port in container["ports"]
    svc = next(
        o for o in objects if (o["kind"], o["metadata"]["name"]) == ("Service", "flux-operator")
    )
    webhook = {
        "name": "http-webhook",
        "port": 9393,
        "targetPort": "http-webhook",
        "protocol": "TCP",
    }
    assert webhook in svc["spec"]["ports"]
    # cluster mode: the notification-controller's own Deployment and Service have it
    objects = _template(tmp_path)
    assert _flag(_operator(objects)["args"], "--receiver-addr") == []
    svc = next(
        o for o in objects if (o["kind"], o["metadata"]["name"]) == ("Service", "flux-operator")
    )
    assert "http-webhook" not in {p["name"] for p in svc["spec"]["ports"]}


def test_service_monitor_and_resources(tmp_path: Path) -> None:
    objects = _template(tmp_path, "serviceMonitor.create=true", "resources.limits.memory=2Gi")
    monitors = [o for o in objects if o["kind"] == "ServiceMonitor"]
    assert monitors[0]["spec"]["endpoints"][0]["port"] == "http-metrics"
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    resources = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources["limits"]["memory"] == "2Gi"


def _accepts(command: str, args: list[str]) -> None:
    """Parse ``args`` with the weir subcommand's own parser (a UsageError if a flag is not
    one it takes)."""
    commands: dict[str, Any] = getattr(typer.main.get_command(app), "commands", {})
    commands[command].make_context(command, list(args), resilient_parsing=False)


@pytest.mark.parametrize(
    "sets",
    [
        [],
        ["operator.mode=local", "mcp.enabled=true", "multitenancy.enabled=true"],
        ["web.enabled=false", "extraArgs={--concurrent=8}", "logLevel=debug"],
        ["web.serverOnly=true"],
        GUIDE_SETS,
        [*GUIDE_SETS, "operator.mode=local", "web.allowedHosts[0]=*.example.com"],
        ["web.configSecretName=sso", "web.allowedHosts[0]=weir.example.com:443"],
    ],
)
def test_every_flag_the_chart_passes_is_one_weir_takes(tmp_path: Path, sets: list[str]) -> None:
    objects = _template(tmp_path, *sets)
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        command, *args = container["args"]
        _accepts(command, args)


def test_the_web_roles_are_the_ones_the_web_ui_documents(tmp_path: Path) -> None:
    objects = _template(tmp_path)
    chart_roles = {
        o["metadata"]["name"]: o["rules"]
        for o in objects
        if o["kind"] == "ClusterRole" and o["metadata"]["name"].startswith("flux-web-")
    }
    assert set(chart_roles) == {"flux-web-user", "flux-web-admin"}
    admin_verbs = {v for rule in chart_roles["flux-web-admin"] for v in rule["verbs"]}
    assert {"reconcile", "suspend", "resume", "restart"} <= admin_verbs
    user_verbs = {v for rule in chart_roles["flux-web-user"] for v in rule["verbs"]}
    assert user_verbs == {"get", "list", "watch"}
    documented = ROOT / "config" / "rbac" / "web-roles.yaml"  # the web UI's sign-in (docs/ui.md)
    if documented.is_file():
        docs = {
            d["metadata"]["name"]: d["rules"]
            for d in yaml.safe_load_all(documented.read_text())
            if d
        }
        for name, rules in chart_roles.items():
            assert rules == docs[name], name


def test_the_chart_crds_are_the_generated_ones() -> None:
    from weir.api.crds import render  # noqa: PLC0415

    assert (CHART / "crds" / "crds.yaml").read_text() == render("yaml")
