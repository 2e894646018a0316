"""Entry point of the ``weir`` command: one Typer app; errors become one line and an exit code."""

from __future__ import annotations

import sys

import typer

from weir import __version__
from weir.cli import cluster
from weir.cli.output import fail
from weir.errors import WeirError

app = typer.Typer(
    name="weir",
    help="weir: GitOps for Kubernetes, speaking Flux's APIs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(cluster.app, name="cluster")


@app.command()
def version() -> None:
    """Print weir's version."""
    typer.echo(f"weir {__version__}")


def main() -> None:
    try:
        app()
    except WeirError as e:
        fail(str(e))
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        fail("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
