"""`weir run` flags that name Secrets (``--sops-age-secret``) and ``--feature-gates``."""

from __future__ import annotations

import pytest

from weir.cli.run import _secret_ref, parse_feature_gates
from weir.errors import UsageError


def test_namespace_and_name() -> None:
    assert _secret_ref("--sops-age-secret", "flux-system/sops-age") == ("flux-system", "sops-age")
    assert _secret_ref("--sops-age-secret", None) is None
    assert _secret_ref("--sops-age-secret", "") is None


def test_a_bare_name_lives_in_the_runtime_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POD_NAMESPACE", "pod-ns")
    monkeypatch.setenv("RUNTIME_NAMESPACE", "weir-system")
    assert _secret_ref("--sops-age-secret", "keys") == ("weir-system", "keys")
    monkeypatch.delenv("RUNTIME_NAMESPACE")
    assert _secret_ref("--sops-age-secret", "keys") == ("pod-ns", "keys")


@pytest.mark.parametrize("value", ["a/b/c", "/keys", "ns/"])
def test_malformed(value: str) -> None:
    with pytest.raises(UsageError, match=f"--sops-age-secret={value}: use <name> or"):
        _secret_ref("--sops-age-secret", value)


def test_no_namespace_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNTIME_NAMESPACE", raising=False)
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    with pytest.raises(UsageError, match="pass <namespace>/keys"):
        _secret_ref("--sops-age-secret", "keys")


def test_feature_gates() -> None:
    assert parse_feature_gates(None) == {}
    assert parse_feature_gates("ExternalArtifact=false, OOMWatch=TRUE") == {
        "ExternalArtifact": False,
        "OOMWatch": True,
    }


@pytest.mark.parametrize("value", ["ExternalArtifact", "ExternalArtifact=yes", "=true"])
def test_malformed_feature_gates(value: str) -> None:
    with pytest.raises(UsageError, match=r"--feature-gates: .* is not Name=true or Name=false"):
        parse_feature_gates(value)
