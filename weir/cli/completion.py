"""``weir completion SHELL``: the shell completion script, as ``flux completion bash`` prints
it. Typer's ``--show-completion`` detects the shell from the parent processes and ignores a
shell named after it (under ``make`` or a CI runner it finds ``sh`` and refuses); this command
takes the shell by name."""

from __future__ import annotations

from typing import Annotated

import typer
from typer._completion_shared import Shells, get_completion_script

PROG = "weir"


def command(
    shell: Annotated[Shells, typer.Argument(help="The shell to print the script for.")],
) -> None:
    """Print the completion script for SHELL (e.g. ``source <(weir completion bash)``)."""
    complete_var = f"_{PROG.upper()}_COMPLETE"
    typer.echo(get_completion_script(prog_name=PROG, complete_var=complete_var, shell=shell.value))
