"""Validation of the models: required fields, enums, patterns, lengths, CEL rules, defaults."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from weir.api import (
    KINDS,
    GitRepository,
    HelmRelease,
    Kustomization,
    parse_object,
    with_defaults,
)
from weir.api.base import ApiModel
from weir.api.meta import Artifact, Condition, KubeConfigReference, ValuesReference
from weir.api.source import BucketSpec, GitRepositorySpec
from weir.types import Obj


def gitrepo(**spec: Any) -> Obj:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "fleet", "namespace": "flux-system"},
        "spec": {"interval": "1m", "url": "https://git.example.org/fleet.git", **spec},
    }


def ks(**spec: Any) -> Obj:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            **spec,
        },
    }


def hr(**spec: Any) -> Obj:
    base: Obj = {
        "interval": "10m",
        "chart": {
            "spec": {"chart": "erigon", "sourceRef": {"kind": "HelmRepository", "name": "eth"}}
        },
    }
    base.update(spec)
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "erigon", "namespace": "ethereum"},
        "spec": {k: v for k, v in base.items() if v is not None},
    }


def refused(obj: Obj) -> str:
    with pytest.raises(ValidationError) as exc:
        parse_object(obj)
    return str(exc.value)


# ------------------------------------------------------------------------------ required fields
@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({**gitrepo(), "spec": {"interval": "1m"}}, "spec.url"),
        ({**gitrepo(), "spec": {"url": "https://x"}}, "spec.interval"),
        ({k: v for k, v in gitrepo().items() if k != "spec"}, "spec"),
        (ks(prune=None), "spec.prune"),
        ({**ks(), "spec": {"interval": "1m", "prune": True}}, "spec.sourceRef"),
        (hr(interval=None), "spec.interval"),
        (hr(chart={"spec": {"chart": "erigon"}}), "spec.chart.spec.sourceRef"),
    ],
)
def test_required_fields(obj: Obj, field: str) -> None:
    obj = copy.deepcopy(obj)
    if obj["kind"] == "Kustomization" and obj["spec"].get("prune") is None:
        obj["spec"].pop("prune", None)
    message = refused(obj)
    assert field in message
    assert "Field required" in message


def test_condition_requires_every_field() -> None:
    with pytest.raises(ValidationError) as exc:
        Condition.model_validate({"type": "Ready", "status": "True"})
    missing = {".".join(map(str, e["loc"])) for e in exc.value.errors()}
    assert missing == {"lastTransitionTime", "reason", "message"}


# ------------------------------------------------------------------------------ enums
@pytest.mark.parametrize(
    ("obj", "field"),
    [
        (gitrepo(provider="foo"), "spec.provider"),
        (gitrepo(verify={"mode": "all", "secretRef": {"name": "k"}}), "spec.verify.mode"),
        (ks(sourceRef={"kind": "HelmRepository", "name": "x"}), "spec.sourceRef.kind"),
        (ks(deletionPolicy="Keep"), "spec.deletionPolicy"),
        (ks(decryption={"provider": "vault"}), "spec.decryption.provider"),
        (hr(install={"crds": "Always"}), "spec.install.crds"),
        (hr(upgrade={"remediation": {"strategy": "retry"}}), "spec.upgrade.remediation.strategy"),
        (hr(driftDetection={"mode": "on"}), "spec.driftDetection.mode"),
        (hr(upgrade={"serverSideApply": "true"}), "spec.upgrade.serverSideApply"),
        (hr(postRenderStrategy="hooks"), "spec.postRenderStrategy"),
    ],
)
def test_enum_values(obj: Obj, field: str) -> None:
    message = refused(obj)
    assert field in message
    assert "Input should be" in message


def test_enum_values_accepted() -> None:
    for provider in ("generic", "aws", "azure", "github"):
        parse_object(gitrepo(provider=provider))
    for mode in ("head", "HEAD", "Tag", "TagAndHEAD"):
        parse_object(gitrepo(verify={"mode": mode, "secretRef": {"name": "keys"}}))
    for kind in ("OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"):
        parse_object(ks(sourceRef={"kind": kind, "name": "x"}))


# ------------------------------------------------------------------------------ patterns
GOOD_DURATIONS = ["1m", "10m0s", "1h30m", "1.5h", "500ms", "90s", "2h0m0s"]
BAD_DURATIONS = ["1 hour", "5", "1d", "", "-1m", "1H", "m", "1m ", "1.m"]


@pytest.mark.parametrize("value", GOOD_DURATIONS)
def test_durations_accepted(value: str) -> None:
    parse_object(ks(interval=value, retryInterval=value, timeout=value))


@pytest.mark.parametrize("value", BAD_DURATIONS)
def test_durations_refused(value: str) -> None:
    message = refused(ks(interval=value))
    assert "spec.interval" in message
    assert "should match pattern" in message


def test_source_timeouts_have_no_hours() -> None:
    parse_object(gitrepo(timeout="90s"))
    assert "spec.timeout" in refused(gitrepo(timeout="1h"))


@pytest.mark.parametrize(
    ("kind", "url", "ok"),
    [
        ("GitRepository", "https://github.com/org/repo", True),
        ("GitRepository", "ssh://git@github.com/org/repo", True),
        ("GitRepository", "git@github.com:org/repo.git", False),
        ("OCIRepository", "oci://ghcr.io/org/manifests", True),
        ("OCIRepository", "https://ghcr.io/org/manifests", False),
        ("HelmRepository", "https://charts.example.org", True),
        ("HelmRepository", "oci://ghcr.io/org/charts", True),
        ("HelmRepository", "ftp://charts.example.org", False),
    ],
)
def test_url_patterns(kind: str, url: str, ok: bool) -> None:
    info = KINDS[kind]
    obj = {
        "apiVersion": info.api_version,
        "kind": kind,
        "metadata": {"name": "x"},
        "spec": {"interval": "1m", "url": url},
    }
    if ok:
        parse_object(obj)
    else:
        assert "spec.url" in refused(obj)


def test_values_reference_patterns() -> None:
    ok = ValuesReference.model_validate(
        {"kind": "Secret", "name": "v", "valuesKey": "values-prod.yaml", "targetPath": "a.b[0]"}
    )
    assert ok.target_path == "a.b[0]"
    for bad in ({"valuesKey": "a b"}, {"targetPath": "a b"}, {"name": ""}, {"kind": "Pod"}):
        with pytest.raises(ValidationError):
            ValuesReference.model_validate({"kind": "Secret", "name": "v", **bad})


def test_lengths() -> None:
    parse_object(hr(releaseName="x" * 53, targetNamespace="n" * 63))
    assert "spec.releaseName" in refused(hr(releaseName="x" * 54))
    assert "spec.targetNamespace" in refused(hr(targetNamespace=""))
    assert "spec.targetNamespace" in refused(ks(targetNamespace="n" * 64))
    assert "spec.chart.spec.chart" in refused(
        hr(chart={"spec": {"chart": "", "sourceRef": {"kind": "HelmRepository", "name": "e"}}})
    )


def test_condition_and_artifact_patterns() -> None:
    cond = {
        "type": "Ready",
        "status": "True",
        "reason": "Succeeded",
        "message": "",
        "lastTransitionTime": "2026-11-25T10:00:00Z",
    }
    Condition.model_validate(cond)
    for bad in (
        {"status": "true"},
        {"reason": "not a reason"},
        {"reason": ""},
        {"type": "-bad"},
        {"lastTransitionTime": "yesterday"},
        {"observedGeneration": -1},
    ):
        with pytest.raises(ValidationError):
            Condition.model_validate({**cond, **bad})
    art = {
        "digest": "sha256:abc123",
        "lastUpdateTime": "2026-11-25T10:00:00Z",
        "path": "p",
        "revision": "r",
        "url": "http://x/p",
    }
    Artifact.model_validate(art)
    with pytest.raises(ValidationError):
        Artifact.model_validate({**art, "digest": "abc123"})


# ------------------------------------------------------------------------------ unknown fields
def test_unknown_spec_fields_are_refused() -> None:
    message = refused(gitrepo(intervall="1m"))
    assert "spec.intervall" in message
    assert "Extra inputs are not permitted" in message


def test_metadata_keeps_fields_it_does_not_model() -> None:
    obj = gitrepo()
    obj["metadata"]["selfLink"] = "/apis/x"
    assert parse_object(obj).model_dump(exclude_none=True) == obj


# ------------------------------------------------------------------------------ CEL rules
def test_helmrelease_needs_exactly_one_of_chart_and_chart_ref() -> None:
    assert "either chart or chartRef must be set" in refused(hr(chart=None))
    both = hr(chartRef={"kind": "OCIRepository", "name": "erigon"})
    assert "either chart or chartRef must be set" in refused(both)
    parse_object(hr(chart=None, chartRef={"kind": "OCIRepository", "name": "erigon"}))


def test_action_strategy_retry_interval_needs_retry_on_failure() -> None:
    parse_object(hr(install={"strategy": {"name": "RetryOnFailure", "retryInterval": "1m"}}))
    bad = hr(upgrade={"strategy": {"name": "RemediateOnFailure", "retryInterval": "1m"}})
    assert ".retryInterval cannot be set" in refused(bad)


def test_gitrepository_service_account_needs_cloud_provider() -> None:
    GitRepositorySpec.model_validate(
        {"url": "https://x", "interval": "1m", "provider": "azure", "serviceAccountName": "sa"}
    )
    for provider in (None, "generic", "github"):
        spec = {"url": "https://x", "interval": "1m", "serviceAccountName": "sa"}
        if provider:
            spec["provider"] = provider
        with pytest.raises(ValidationError, match="serviceAccountName can only be set"):
            GitRepositorySpec.model_validate(spec)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"provider": "gcp", "sts": {"provider": "aws", "endpoint": "https://s"}}, "STS config"),
        ({"provider": "aws", "sts": {"provider": "ldap", "endpoint": "https://s"}}, "'aws' is the"),
        ({"sts": {"provider": "aws", "endpoint": "https://s"}}, "'ldap' is the only"),
        (
            {
                "provider": "aws",
                "sts": {"provider": "aws", "endpoint": "https://s", "secretRef": {"name": "s"}},
            },
            "spec.sts.secretRef is not required",
        ),
        (
            {
                "provider": "aws",
                "sts": {"provider": "aws", "endpoint": "https://s", "certSecretRef": {"name": "c"}},
            },
            "spec.sts.certSecretRef is not required",
        ),
        ({"serviceAccountName": "sa"}, "ServiceAccountName is not supported"),
        (
            {"provider": "aws", "serviceAccountName": "sa", "secretRef": {"name": "s"}},
            "cannot set both",
        ),
    ],
)
def test_bucket_rules(spec: Obj, message: str) -> None:
    base = {"bucketName": "b", "endpoint": "s3.example.org", "interval": "5m"}
    with pytest.raises(ValidationError, match=re.escape(message)):
        BucketSpec.model_validate({**base, **spec})


def test_bucket_rules_accept_valid_combinations() -> None:
    base = {"bucketName": "b", "endpoint": "s3.example.org", "interval": "5m"}
    for spec in (
        {},
        {"sts": {"provider": "ldap", "endpoint": "https://s", "secretRef": {"name": "s"}}},
        {"provider": "aws", "sts": {"provider": "aws", "endpoint": "https://s"}},
        {"provider": "gcp", "serviceAccountName": "sa"},
        {"provider": "azure", "secretRef": {"name": "s"}},
    ):
        BucketSpec.model_validate({**base, **spec})


def test_helmchart_verify_needs_helm_repository() -> None:
    obj: Obj = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "HelmChart",
        "metadata": {"name": "c"},
        "spec": {
            "chart": "./charts/app",
            "interval": "5m",
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            "verify": {"provider": "cosign"},
        },
    }
    assert "spec.verify is only supported" in refused(obj)
    obj["spec"]["sourceRef"]["kind"] = "HelmRepository"
    parse_object(obj)


def test_kubeconfig_needs_exactly_one_reference() -> None:
    KubeConfigReference.model_validate({"secretRef": {"name": "kc"}})
    KubeConfigReference.model_validate({"configMapRef": {"name": "cluster"}})
    for bad in ({}, {"secretRef": {"name": "kc"}, "configMapRef": {"name": "cluster"}}):
        with pytest.raises(ValidationError, match="exactly one of secretRef or configMapRef"):
            KubeConfigReference.model_validate(bad)


def _notification(kind: str, spec: Obj) -> Obj:
    return {
        "apiVersion": KINDS[kind].api_version,
        "kind": kind,
        "metadata": {"name": "n"},
        "spec": spec,
    }


def test_provider_commit_status_expr_only_for_git_providers() -> None:
    parse_object(_notification("Provider", {"type": "gitlab", "commitStatusExpr": "'x'"}))
    bad = _notification("Provider", {"type": "slack", "commitStatusExpr": "'x'"})
    assert "spec.commitStatusExpr is only supported" in refused(bad)
    assert "spec.type" in refused(_notification("Provider", {"type": "carrier-pigeon"}))


def test_receiver_rules() -> None:
    resources = [{"kind": "GitRepository", "name": "fleet"}]
    oidc = [
        {
            "issuerURL": "https://token.actions.githubusercontent.com",
            "validations": [
                {"expression": "claims.repository_owner == 'etherwurst'", "message": "m"}
            ],
        }
    ]
    parse_object(
        _notification(
            "Receiver", {"type": "github", "resources": resources, "secretRef": {"name": "t"}}
        )
    )
    parse_object(
        _notification(
            "Receiver", {"type": "generic-oidc", "resources": resources, "oidcProviders": oidc}
        )
    )
    assert "secretRef is required" in refused(
        _notification("Receiver", {"type": "github", "resources": resources})
    )
    assert "must define at least one oidcProvider" in refused(
        _notification("Receiver", {"type": "generic-oidc", "resources": resources})
    )
    wrong = {
        "type": "github",
        "resources": resources,
        "secretRef": {"name": "t"},
        "oidcProviders": oidc,
    }
    assert "oidcProviders can only be set" in refused(_notification("Receiver", wrong))
    no_validation = [{"issuerURL": "https://issuer", "validations": []}]
    empty = {"type": "generic-oidc", "resources": resources, "oidcProviders": no_validation}
    assert "validations" in refused(_notification("Receiver", empty))


def test_alert_event_source_kinds() -> None:
    spec = {
        "providerRef": {"name": "slack"},
        "eventSources": [{"kind": "ResourceSet", "name": "*"}],
    }
    parse_object(_notification("Alert", spec))
    spec["eventSources"] = [{"kind": "Deployment", "name": "*"}]
    assert "spec.eventSources.0.kind" in refused(_notification("Alert", spec))


# ------------------------------------------------------------------------------ defaults
def test_defaults_are_not_added_when_parsing() -> None:
    model = parse_object(gitrepo())
    assert isinstance(model, GitRepository)
    assert model.spec.timeout is None
    assert model.status is None


def test_with_defaults_applies_the_server_defaults() -> None:
    original = GitRepository.model_validate(gitrepo(verify={"secretRef": {"name": "keys"}}))
    filled = with_defaults(original)
    assert isinstance(filled, GitRepository)
    assert filled.spec.timeout == "60s"
    assert filled.spec.verify is not None
    assert filled.spec.verify.mode == "HEAD"
    assert filled.spec.provider is None  # GitRepository's provider has no CRD default
    assert filled.status is not None
    assert filled.status.observed_generation == -1
    # the original is untouched and applying twice changes nothing
    assert original.spec.timeout is None
    assert with_defaults(filled) == filled


def test_with_defaults_only_fills_present_objects() -> None:
    bare = with_defaults(parse_object(gitrepo()))
    assert isinstance(bare, GitRepository)
    assert bare.spec.verify is None


def test_helmrelease_defaults() -> None:
    filled = with_defaults(parse_object(hr(uninstall={})))
    assert isinstance(filled, HelmRelease)
    chart = filled.spec.chart
    assert chart is not None
    assert chart.spec.version == "*"
    assert chart.spec.reconcile_strategy == "ChartVersion"
    assert filled.spec.uninstall is not None
    assert filled.spec.uninstall.deletion_propagation == "background"
    assert filled.spec.install is None


def test_kustomization_defaults() -> None:
    obj = ks(postBuild={"substituteFrom": [{"kind": "ConfigMap", "name": "vars"}]})
    filled = with_defaults(parse_object(obj))
    assert isinstance(filled, Kustomization)
    assert filled.spec.force is False
    assert filled.spec.post_build is not None
    assert filled.spec.post_build.substitute_from is not None
    assert filled.spec.post_build.substitute_from[0].optional is False
    dumped = filled.model_dump(exclude_none=True)
    assert dumped["spec"]["force"] is False
    assert dumped["status"] == {"observedGeneration": -1}


@pytest.mark.parametrize(
    ("kind", "spec", "path", "value"),
    [
        ("OCIRepository", {"url": "oci://r/x", "interval": "1m"}, ("provider",), "generic"),
        ("OCIRepository", {"url": "oci://r/x", "interval": "1m"}, ("timeout",), "60s"),
        ("HelmRepository", {"url": "https://c"}, ("provider",), "generic"),
        (
            "HelmChart",
            {"chart": "c", "interval": "1m", "sourceRef": {"kind": "HelmRepository", "name": "r"}},
            ("version",),
            "*",
        ),
        (
            "Bucket",
            {"bucketName": "b", "endpoint": "e", "interval": "1m"},
            ("provider",),
            "generic",
        ),
        ("Bucket", {"bucketName": "b", "endpoint": "e", "interval": "1m"}, ("timeout",), "60s"),
        (
            "Alert",
            {"providerRef": {"name": "p"}, "eventSources": [{"kind": "Bucket", "name": "*"}]},
            ("eventSeverity",),
            "info",
        ),
        (
            "Receiver",
            {"type": "generic", "resources": [], "secretRef": {"name": "t"}},
            ("interval",),
            "10m",
        ),
    ],
)
def test_kind_defaults(kind: str, spec: Obj, path: tuple[str, ...], value: Any) -> None:
    filled = with_defaults(parse_object(_notification(kind, spec))).model_dump(exclude_none=True)
    found: Any = filled["spec"]
    for key in path:
        found = found[key]
    assert found == value


# ------------------------------------------------------------------------------ wire names
def _models() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for field in model.model_fields.values():
            for sub in _nested_models(field.annotation):
                visit(sub)

    for info in KINDS.values():
        visit(info.model)
    return seen


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_nested_models(arg))
    return found


def test_wire_names_are_camel_case() -> None:
    models = _models()
    assert len(models) > 50
    for model in models:
        assert issubclass(model, ApiModel)
        for name, field in model.model_fields.items():
            alias = field.alias or name
            assert re.fullmatch(r"[a-z][A-Za-z0-9]*", alias), f"{model.__name__}.{name}: {alias}"
            assert alias.lower() == name.replace("_", "").lower(), f"{model.__name__}.{name}"
