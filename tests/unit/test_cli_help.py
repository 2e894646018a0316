"""``-h`` works like ``--help`` on every command, as in kubectl and the flux CLI."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from weir.cli.main import app


@pytest.mark.parametrize(
    "argv", [["-h"], ["get", "-h"], ["reconcile", "-h"], ["cluster", "up", "-h"]]
)
def test_short_help_flag(argv: list[str]) -> None:
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert "Usage: weir" in result.output
