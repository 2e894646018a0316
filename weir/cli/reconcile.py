"""``weir reconcile <kind> <name>``: ask the controller to reconcile now and wait for it.

Exit codes: 0 Ready=True, 1 the reconciliation failed (Ready=False or Stalled), 2 bad usage,
3 timed out (the controller did not handle the request, or did not finish, in time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from weir.cli import options
from weir.cli.options import (
    ContextOpt,
    KindArg,
    KubeconfigOpt,
    KubeOptions,
    NamespaceOpt,
    OutputOpt,
    TimeoutOpt,
)
from weir.cli.output import ACTION, FAILED, OK, WAITING, OutputFormat, Spinner, emit, status_line
from weir.errors import UsageError

if TYPE_CHECKING:
    from weir.actions.reconcile import ObjectKey, ReconcileOutcome
    from weir.api import KindInfo

EXIT_FAILED = 1

NameArg = Annotated[str, typer.Argument(help="Name of the object.", show_default=False)]


def on_request(key: ObjectKey, token: str) -> None:
    status_line(ACTION, f"annotated {key} with requestedAt {token}")
    status_line(WAITING, f"waiting for {key} to be reconciled")


def report(outcome: ReconcileOutcome) -> None:
    status_line(OK if outcome.ready else FAILED, outcome.describe())


def exit_code(outcomes: Sequence[ReconcileOutcome]) -> int:
    return 0 if all(o.ready for o in outcomes) else EXIT_FAILED


def command(  # noqa: PLR0917 -- typer maps each parameter to an argument or flag
    kind: KindArg,
    name: NameArg,
    namespace: NamespaceOpt = None,
    with_source: Annotated[
        bool, typer.Option("--with-source", help="Reconcile the source(s) first.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="HelmRelease: run a one-off Helm upgrade; ResourceSetInputProvider: run "
            "outside its deployment windows.",
        ),
    ] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="HelmRelease: reset the failure counters.")
    ] = False,
    timeout: TimeoutOpt = "5m",
    output: OutputOpt = OutputFormat.table,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Trigger a reconciliation now and wait until the controller handled it.

    Sets the `reconcile.fluxcd.io/requestedAt` annotation, waits until
    `status.lastHandledReconcileAt` matches, and prints the outcome. Exit codes: 0 ready,
    1 failed, 2 bad usage, 3 timed out.
    """
    info = options.kinds_of(kind, single=True)[0]
    if not info.has_status:
        raise UsageError(f"{info.kind} has no status: no controller reconciles it")
    if reset and info.kind != "HelmRelease":
        raise UsageError("--reset applies to HelmReleases only (weir reconcile hr ...)")
    if force and info.kind not in ("HelmRelease", "ResourceSetInputProvider"):
        raise UsageError(
            "--force applies to HelmReleases and ResourceSetInputProviders only "
            "(weir reconcile hr|rsip ...)"
        )
    seconds = options.parse_duration(timeout)
    opts = KubeOptions(kubeconfig, context, namespace)
    outcomes = options.run(
        _main(
            opts,
            info,
            name,
            with_source=with_source,
            force=force,
            reset=reset,
            timeout=seconds,
            output=output,
        )
    )
    raise typer.Exit(exit_code(outcomes))


async def _main(
    opts: KubeOptions,
    info: KindInfo,
    name: str,
    *,
    with_source: bool,
    force: bool,
    reset: bool,
    timeout: float,  # noqa: ASYNC109
    output: OutputFormat,
) -> list[ReconcileOutcome]:
    from weir.actions.reconcile import reconcile  # noqa: PLC0415

    table = output is OutputFormat.table
    async with options.connect(opts) as session:
        with Spinner() as spinner:
            outcomes = await reconcile(
                session.api,
                info,
                session.namespace,
                name,
                with_source=with_source,
                force=force,
                reset=reset,
                timeout=timeout,
                on_progress=spinner.update,
                on_request=on_request if table else None,
                on_outcome=report if table else None,
            )
    waited = any(o.kind == info.kind and o.name == name for o in outcomes)
    if table and not waited and all(o.ready for o in outcomes):
        # e.g. an OCI HelmRepository: it has no status to wait for
        status_line(OK, f"{info.kind} {session.namespace}/{name} annotated")
    emit([o.to_dict() for o in outcomes], output)
    return outcomes
