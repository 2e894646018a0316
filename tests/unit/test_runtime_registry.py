"""``--controllers`` selection, endpoint addresses and ``weir run`` flag validation."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from typer.testing import CliRunner

from weir.cli.main import app
from weir.errors import UsageError
from weir.runtime.controller import Controller
from weir.runtime.endpoints import Address, parse_address
from weir.runtime.factories import ControllerContext, ControllerRegistry
from weir.runtime.settings import LeaderElectionSettings


def _factory(ctx: ControllerContext) -> Sequence[Controller]:
    return []


@pytest.fixture
def registry() -> ControllerRegistry:
    r = ControllerRegistry()
    r.register("source", _factory, "sources")
    r.register("kustomize", _factory, "kustomizations")
    r.register("helm", "weir.no_such_feature.controller:controllers", "helm releases")
    r.register("image", _factory, "image automation", default=False)
    return r


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ("*", ["helm", "kustomize", "source"]),
        ("", []),
        ("source,kustomize", ["kustomize", "source"]),
        ("*,-helm", ["kustomize", "source"]),
        ("*,image", ["helm", "image", "kustomize", "source"]),
        (" source , ,helm ", ["helm", "source"]),
        ("-helm", []),
    ],
)
def test_select(registry: ControllerRegistry, spec: str, names: list[str]) -> None:
    assert [r.name for r in registry.select(spec)] == names


def test_unknown_names_are_a_usage_error(registry: ControllerRegistry) -> None:
    with pytest.raises(UsageError, match=r"unknown controller 'nope'.*helm, image, kustomize"):
        registry.select("source,nope")
    with pytest.raises(UsageError, match="unknown controller 'nope'"):
        registry.select("*,-nope")
    with pytest.raises(UsageError, match="none yet"):
        ControllerRegistry().select("x")


def test_register_rejects_bad_and_duplicate_names(registry: ControllerRegistry) -> None:
    for bad in ("", "*", "-x", "a,b"):
        with pytest.raises(ValueError, match="invalid controller name"):
            registry.register(bad, _factory)
    with pytest.raises(ValueError, match="twice"):
        registry.register("source", _factory)


def test_factories_given_as_strings_load_lazily(registry: ControllerRegistry) -> None:
    entry = registry.entries()["helm"]
    with pytest.raises(ModuleNotFoundError):
        entry.load()
    assert registry.entries()["source"].load() is _factory


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:8080", Address("127.0.0.1", 8080)),
        (":9440", Address("0.0.0.0", 9440)),
        ("[::1]:8080", Address("::1", 8080)),
        ("0", None),
        ("", None),
    ],
)
def test_parse_address(text: str, address: Address | None) -> None:
    assert parse_address(text, "--metrics-addr") == address


@pytest.mark.parametrize("text", ["8080", "host:", "host:port", "h:70000"])
def test_parse_address_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="--metrics-addr"):
        parse_address(text, "--metrics-addr")


def test_address_str() -> None:
    assert str(Address("::1", 80)) == "[::1]:80"
    assert str(Address("127.0.0.1", 80)) == "127.0.0.1:80"


def test_leader_election_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    assert LeaderElectionSettings(namespace="flux-system").resolved_namespace() == "flux-system"
    monkeypatch.setenv("POD_NAMESPACE", "weir-system")
    assert LeaderElectionSettings().resolved_namespace() == "weir-system"
    monkeypatch.delenv("POD_NAMESPACE")
    with pytest.raises(UsageError, match="--leader-election-namespace"):
        LeaderElectionSettings().resolved_namespace()
    identity = LeaderElectionSettings().resolved_identity()
    assert "_" in identity
    assert identity != LeaderElectionSettings().resolved_identity()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--controllers=nope"], "unknown controller 'nope'"),
        (["--log-encoding=xml"], "--log-encoding=xml"),
        (["--log-level=loud"], "--log-level=loud"),
        (["--min-retry-delay=fast"], "--min-retry-delay"),
        (["--max-retry-delay=1s", "--min-retry-delay=2s"], "at most --max-retry-delay"),
        (
            ["--enable-leader-election", "--leader-election-renew-deadline=1m"],
            "lease duration > renew deadline",
        ),
        (["--receiver-addr=nine-two-nine-two"], "--receiver-addr=nine-two-nine-two"),
        (["--receiverAddr=localhost"], "--receiver-addr=localhost"),
        (["--events-addr=:port"], "--events-addr=:port"),
        (["--rate-limit-interval=often"], "--rate-limit-interval"),
    ],
)
def test_run_rejects_bad_flags(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["run", *args])
    assert result.exit_code != 0
    assert isinstance(result.exception, UsageError)
    assert message in str(result.exception)


def test_run_help_lists_flux_flag_names() -> None:
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for flag in (
        "--concurrent",
        "--metrics-addr",
        "--health-addr",
        "--enable-leader-election",
        "--leader-election-lease-duration",
        "--leader-election-renew-deadline",
        "--leader-election-retry-period",
        "--kubeconfig",
        "--context",
        "--log-level",
        "--log-encoding",
        "--controllers",
        "--receiver-addr",
        "--receiverAddr",
        "--events-addr",
        "--rate-limit-interval",
    ):
        assert flag in result.output
