"""Entry point of the ``weir`` command: one Typer app; errors become one line and an exit code.

Exit codes: 0 success, 1 failure (any :class:`~weir.errors.WeirError`), 2 bad usage (unknown
flag or kind, malformed value), 3 timed out waiting (``reconcile``, ``resume``), 130 interrupted.
"""

from __future__ import annotations

import errno
import os
import sys

import typer

from weir.cli import (
    build,
    check,
    cluster,
    completion,
    crds,
    create,
    diff,
    events,
    export,
    get,
    install,
    logs,
    mcp,
    reconcile,
    run,
    stats,
    suspend,
    trace,
    tree,
    ui,
    version,
)
from weir.cli.output import fail
from weir.errors import WeirError

app = typer.Typer(
    name="weir",
    help="weir: GitOps for Kubernetes, speaking Flux's APIs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},  # kubectl's and flux's -h
)
app.command(name="get")(get.command)
app.command(name="tree")(tree.command)
app.command(name="trace")(trace.command)
app.command(name="events")(events.command)
app.command(name="reconcile")(reconcile.command)
app.command(name="suspend")(suspend.suspend)
app.command(name="resume")(suspend.resume)
app.command(name="stats")(stats.command)
app.command(name="export")(export.command)
app.command(name="build")(build.command)
app.command(name="diff")(diff.command)
app.command(name="logs")(logs.command)
app.command(name="mcp")(mcp.command)
app.command(name="ui")(ui.command)
app.command(name="check")(check.command)
app.command(name="version")(version.command)
app.command(name="completion")(completion.command)
app.add_typer(cluster.app, name="cluster")
app.command(name="crds")(crds.crds)
app.command(name="run")(run.command)
app.command(name="install")(install.install)
app.command(name="uninstall")(install.uninstall)
app.add_typer(create.app, name="create")


def _usage_message(e: typer.TyperException) -> str:
    """Click's usage errors (they carry the command's context) get a pointer to --help."""
    ctx = getattr(e, "ctx", None)
    message = e.format_message().rstrip(".")
    return f"{message}; see `{ctx.command_path} --help`" if ctx is not None else message


def main() -> None:
    from weir.cli.fluxflags import normalize_bool_flags  # noqa: PLC0415

    try:
        code = app(args=normalize_bool_flags(sys.argv[1:]), standalone_mode=False)
    except typer.TyperException as e:  # click's usage errors: unknown flag, bad value, ...
        if type(e).__name__ != "NoArgsIsHelpError":  # that one printed the help already
            fail(_usage_message(e))
        sys.exit(e.exit_code)
    except typer.Abort:
        fail("aborted")
        sys.exit(1)
    except WeirError as e:
        fail(str(e))
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        fail("interrupted")
        sys.exit(130)
    except BrokenPipeError:  # `weir get ... | head`: stop quietly, like other tools
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except OSError as e:
        if e.errno != errno.EPIPE:
            raise
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
