"""``weir suspend | resume <kind> <name | --all>``: switch reconciliation off and on.

``resume`` also requests a reconcile and, unless ``--no-wait``, waits for it like
``weir reconcile`` (same exit codes: 0 ready, 1 failed, 2 bad usage, 3 timed out).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from weir.cli import options
from weir.cli.options import (
    AllNamespacesOpt,
    ContextOpt,
    KindArg,
    KubeconfigOpt,
    KubeOptions,
    NamespaceOpt,
    OutputOpt,
    Session,
    TimeoutOpt,
)
from weir.cli.output import (
    ACTION,
    OK,
    WAITING,
    OutputFormat,
    Spinner,
    emit,
    fail,
    line,
    status_line,
)
from weir.cli.reconcile import EXIT_FAILED, report
from weir.errors import UsageError

if TYPE_CHECKING:
    from weir.actions.reconcile import ReconcileOutcome
    from weir.api import KindInfo

Target = tuple["KindInfo", str, str]
"""(kind, namespace, name)"""

NameArg = Annotated[
    str | None, typer.Argument(help="Name of the object (or --all).", show_default=False)
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every object of the kind.")]


def _check_args(kind: str, name: str | None, all_: bool) -> tuple[KindInfo, ...]:
    kinds = options.kinds_of(kind)
    if name is None and not all_:
        raise UsageError(f"give a name, or --all for every {kind} in the namespace")
    if name is not None and all_:
        raise UsageError("give a name or --all, not both")
    if name is not None and len(kinds) > 1:
        raise UsageError(f"a name needs a single kind, not {kind!r}")
    return kinds


async def _targets(session: Session, kinds: Sequence[KindInfo], name: str | None) -> list[Target]:
    from weir.actions.objects import get_object, list_many, meta  # noqa: PLC0415

    if name is not None:
        await get_object(session.api, kinds[0], session.namespace, name)
        return [(kinds[0], session.namespace, name)]
    found = await list_many(session.api, kinds, session.scope)
    targets = [
        (info, str(meta(o).get("namespace", "")), str(meta(o).get("name", "")))
        for info in kinds
        for o in found[info.kind]
    ]
    if not targets:
        where = "any namespace" if session.all_namespaces else f"namespace {session.namespace}"
        line(f"no {' or '.join(k.plural for k in kinds)} found in {where}", err=True)
    return targets


def _what(target: Target) -> str:
    info, namespace, name = target
    return f"{info.kind} {namespace}/{name}"


def suspend(  # noqa: PLR0917 -- typer maps each parameter to an argument or flag
    kind: KindArg,
    name: NameArg = None,
    all_: AllOpt = False,
    namespace: NamespaceOpt = None,
    all_namespaces: AllNamespacesOpt = False,
    output: OutputOpt = OutputFormat.table,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Suspend reconciliation (sets spec.suspend: true)."""
    kinds = _check_args(kind, name, all_)
    opts = KubeOptions(kubeconfig, context, namespace, all_namespaces)
    options.run(_suspend(opts, kinds, name, output))


async def _suspend(
    opts: KubeOptions, kinds: Sequence[KindInfo], name: str | None, output: OutputFormat
) -> None:
    from weir.actions.suspend import suspend as suspend_one  # noqa: PLC0415

    done: list[dict[str, Any]] = []
    async with options.connect(opts) as session:
        for target in await _targets(session, kinds, name):
            info, namespace, obj_name = target
            if output is OutputFormat.table:
                status_line(ACTION, f"suspending {_what(target)}")
            await suspend_one(session.api, info, namespace, obj_name)
            done.append({"kind": info.kind, "namespace": namespace, "name": obj_name})
            if output is OutputFormat.table:
                status_line(OK, f"{_what(target)} suspended")
    emit(done, output)


def resume(  # noqa: PLR0917 -- typer maps each parameter to an argument or flag
    kind: KindArg,
    name: NameArg = None,
    all_: AllOpt = False,
    namespace: NamespaceOpt = None,
    all_namespaces: AllNamespacesOpt = False,
    wait: Annotated[
        bool,
        typer.Option("--wait/--no-wait", help="Wait for the reconciliation that resume starts."),
    ] = True,
    timeout: TimeoutOpt = "5m",
    output: OutputOpt = OutputFormat.table,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Resume reconciliation (removes spec.suspend) and request a reconcile; waits for it
    unless --no-wait. Exit codes: 0 ready, 1 failed (any), 2 bad usage, 3 timed out."""
    kinds = _check_args(kind, name, all_)
    seconds = options.parse_duration(timeout)
    opts = KubeOptions(kubeconfig, context, namespace, all_namespaces)
    code = options.run(_resume(opts, kinds, name, wait=wait, timeout=seconds, output=output))
    raise typer.Exit(code)


async def _resume(
    opts: KubeOptions,
    kinds: Sequence[KindInfo],
    name: str | None,
    *,
    wait: bool,
    timeout: float,  # noqa: ASYNC109
    output: OutputFormat,
) -> int:
    from weir.actions.errors import EXIT_TIMEOUT, ReconcileTimeoutError  # noqa: PLC0415
    from weir.actions.reconcile import wait_reconciled  # noqa: PLC0415
    from weir.actions.suspend import resume as resume_one  # noqa: PLC0415

    table = output is OutputFormat.table
    async with options.connect(opts) as session:
        resumed: list[Target] = []
        tokens: list[tuple[Target, str]] = []
        for target in await _targets(session, kinds, name):
            info, namespace, obj_name = target
            if table:
                status_line(ACTION, f"resuming {_what(target)}")
            token, _ = await resume_one(session.api, info, namespace, obj_name)
            resumed.append(target)
            if info.has_status:  # Providers and Alerts have no status to wait for
                tokens.append((target, token))
            if table:
                status_line(OK, f"{_what(target)} resumed")
        if not wait:
            emit([_resumed(t, None) for t in resumed], output)
            return 0
        if table and tokens:
            status_line(WAITING, f"waiting for {len(tokens)} object(s) to be reconciled")
        with Spinner() as spinner:
            results = await asyncio.gather(
                *(
                    wait_reconciled(
                        session.api,
                        t[0],
                        t[1],
                        t[2],
                        token,
                        timeout=timeout,
                        on_progress=spinner.update,
                    )
                    for t, token in tokens
                ),
                return_exceptions=True,
            )
    outcomes: list[ReconcileOutcome] = []
    timed_out: list[ReconcileTimeoutError] = []
    by_target: dict[Target, Any] = {}
    for (target, _), result in zip(tokens, results, strict=True):
        if isinstance(result, ReconcileTimeoutError):
            timed_out.append(result)
        elif isinstance(result, BaseException):
            raise result
        else:
            outcomes.append(result)
            if table:
                report(result)
        by_target[target] = result
    emit([_resumed(t, by_target.get(t)) for t in resumed], output)
    for error in timed_out:
        fail(str(error))
    if any(not o.ready for o in outcomes):
        return EXIT_FAILED
    return EXIT_TIMEOUT if timed_out else 0


def _resumed(target: Target, result: Any) -> dict[str, Any]:
    info, namespace, name = target
    out: dict[str, Any] = {"kind": info.kind, "namespace": namespace, "name": name}
    if result is not None:
        out["outcome"] = result.to_dict() if hasattr(result, "to_dict") else {"error": str(result)}
    return out
