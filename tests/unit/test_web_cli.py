"""``weir ui``'s flags (the command is registered in weir/cli/main.py as ``ui``)."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from weir.cli.ui import command
from weir.errors import UsageError

app = typer.Typer()
app.command()(command)


def test_refuses_a_disabled_address_and_a_bad_base_path() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--addr", "0"])
    assert isinstance(result.exception, UsageError)
    assert "--addr" in str(result.exception)
    result = runner.invoke(app, ["--base-path", "/a/../b"])
    assert isinstance(result.exception, UsageError)
    assert "--web-base-path" in str(result.exception)


def test_help_names_the_flags() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for flag in ("--addr", "--base-path", "--kubeconfig", "--namespace"):
        assert flag in result.output
