"""``-h`` works like ``--help`` on every command, as in kubectl and the flux CLI."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from weir.cli.build import default_namespace as build_default
from weir.cli.main import app
from weir.cli.options import DEFAULT_NAMESPACE, NAMESPACE_ENV, KubeOptions, default_namespace


@pytest.mark.parametrize(
    "argv", [["-h"], ["get", "-h"], ["reconcile", "-h"], ["cluster", "up", "-h"]]
)
def test_short_help_flag(argv: list[str]) -> None:
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert "Usage: weir" in result.output


def _namespaced_commands() -> list[list[str]]:
    """Every command (and sub-command) with the shared ``-n/--namespace`` option."""
    found = []
    group = typer.main.get_group(app)
    stack: list[tuple[list[str], Any]] = [([], group)]
    while stack:
        path, command = stack.pop()
        if hasattr(command, "commands"):  # a group (typer's own click)
            stack.extend(([*path, name], sub) for name, sub in command.commands.items())
        elif any(p.name == "namespace" and p.help == NAMESPACE_HELP for p in command.params):
            found.append(path)
    return sorted(found)


NAMESPACE_HELP = f"Namespace (default: {DEFAULT_NAMESPACE}, or ${NAMESPACE_ENV}, as the flux CLI)."


def test_namespaced_commands_default_to_flux_system_and_say_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12.9: `weir get ks` right after `make up` found nothing (the context's namespace,
    else `default`); the flux CLI's `--namespace` defaults to flux-system."""
    commands = _namespaced_commands()
    names = {" ".join(c) for c in commands}
    assert {"get", "stats", "reconcile", "suspend", "resume", "tree", "trace", "events"} <= {
        c.split()[0] for c in names
    }
    monkeypatch.setenv("COLUMNS", "200")
    for argv in commands:
        result = CliRunner().invoke(app, [*argv, "--help"])
        assert "default: flux-system" in " ".join(result.output.split()), argv
    monkeypatch.delenv(NAMESPACE_ENV, raising=False)
    assert default_namespace() == "flux-system"
    monkeypatch.setenv(NAMESPACE_ENV, "gitops")
    assert default_namespace() == "gitops"
    monkeypatch.setenv(NAMESPACE_ENV, "Not A Namespace")
    assert default_namespace() == "flux-system"  # ignored, as the flux CLI does
    assert build_default(KubeOptions()) == "flux-system"
    assert build_default(KubeOptions(namespace="apps")) == "apps"
