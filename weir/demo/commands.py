"""The command lines of the processes ``make up`` runs: ``weir run``, ``weir ui``, ``weir mcp``."""

from __future__ import annotations

import sys
from pathlib import Path


def weir_command() -> list[str]:
    """The ``weir`` console script of this environment, else ``python -m weir.cli.main``."""
    script = Path(sys.executable).with_name("weir")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "weir.cli.main"]


def run_argv(
    *,
    kubeconfig: Path,
    controllers: str,
    storage_path: Path,
    health: tuple[str, int],
    metrics: tuple[str, int],
    requeue_dependency: str,
    log_level: str,
    lease_namespace: str,
    web: tuple[str, int] | None = None,
    operator_namespace: str | None = None,
) -> list[str]:
    """``weir run`` with ``controllers``, artifacts on a free loopback port, leader election
    with its Lease in ``lease_namespace`` (as an in-cluster install runs, so ``get_overview`` and
    ``kubectl get leases`` see the controllers), the web UI when ``web`` is given (the build
    must have ``--web-addr``), and with ``operator_namespace`` the operator's flags
    (``controllers`` is then ``operator``)."""
    argv = [
        *weir_command(),
        "run",
        f"--controllers={controllers}",
        f"--kubeconfig={kubeconfig}",
        f"--storage-path={storage_path}",
        "--storage-addr=127.0.0.1:0",
        "--receiver-addr=127.0.0.1:0",  # Receivers' webhooks: a free port, not a fixed one
        f"--health-addr={health[0]}:{health[1]}",
        f"--metrics-addr={metrics[0]}:{metrics[1]}",
        f"--requeue-dependency={requeue_dependency}",
        f"--log-level={log_level}",
        "--log-encoding=json",
        "--enable-leader-election",
        f"--leader-election-namespace={lease_namespace}",
    ]
    if web is not None:
        argv.append(f"--web-addr={web[0]}:{web[1]}")
    if operator_namespace is not None:
        argv += ["--operator-mode=local", f"--operator-namespace={operator_namespace}"]
    return argv


UI_LAUNCH = "import typer; from weir.cli.ui import command; typer.run(command)"


def ui_argv(*, kubeconfig: Path, addr: tuple[str, int], subcommand: bool = True) -> list[str]:
    """``weir ui`` on its own, for builds whose ``weir run`` has no ``--web-addr``
    (``subcommand=False``: the same command launched from its module)."""
    head = [*weir_command(), "ui"] if subcommand else [sys.executable, "-c", UI_LAUNCH]
    return [*head, f"--kubeconfig={kubeconfig}", f"--addr={addr[0]}:{addr[1]}"]


def mcp_argv(
    *, kubeconfig: Path, addr: tuple[str, int], tool_log: Path, subcommand: bool = True
) -> list[str]:
    """``weir mcp`` over streamable HTTP at ``http://<addr>/mcp`` (``subcommand=False``:
    ``python -m weir.cli.mcp``, the same command on its own)."""
    head = [*weir_command(), "mcp"] if subcommand else [sys.executable, "-m", "weir.cli.mcp"]
    return [
        *head,
        "--transport=http",
        f"--addr={addr[0]}:{addr[1]}",
        f"--kubeconfig={kubeconfig}",
        f"--tool-log={tool_log}",
    ]
