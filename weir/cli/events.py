"""``weir events [--for kind/name]``: Events of Flux objects and the objects they manage,
oldest first; ``-w`` keeps printing new ones."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from weir.cli import options
from weir.cli.options import (
    AllNamespacesOpt,
    ContextOpt,
    KubeconfigOpt,
    KubeOptions,
    NamespaceOpt,
    OutputOpt,
    Session,
)
from weir.cli.output import OutputFormat, Table, age, as_list, emit, emit_event, line, write
from weir.errors import UsageError
from weir.types import Obj

if TYPE_CHECKING:
    from collections.abc import Sequence

    from weir.actions.events import EventFilter

HEADERS = ("LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")


def headers(all_namespaces: bool) -> list[str]:
    return ["NAMESPACE", *HEADERS] if all_namespaces else list(HEADERS)


def cells(event: Obj, all_namespaces: bool) -> list[str]:
    from weir.actions.events import row  # noqa: PLC0415

    r = row(event)
    message = f"{r.message} (x{r.count})" if r.count > 1 else r.message
    values = [age(r.time), r.type, r.reason, r.object, message]
    return [r.namespace, *values] if all_namespaces else values


def parse_for(text: str) -> tuple[str, str]:
    kind, sep, name = text.partition("/")
    if not sep or not kind or not name:
        raise UsageError(f"--for {text!r}: expected KIND/NAME, e.g. --for Kustomization/apps")
    return kind, name


def command(  # noqa: PLR0917 -- typer maps each parameter to an argument or flag
    for_: Annotated[
        str | None,
        typer.Option(
            "--for",
            help="Only the Events of this object (and of its sources), e.g. ks/apps.",
            show_default=False,
        ),
    ] = None,
    namespace: NamespaceOpt = None,
    all_namespaces: AllNamespacesOpt = False,
    watch: Annotated[
        bool, typer.Option("-w", "--watch", help="After listing, print new Events until Ctrl-C.")
    ] = False,
    output: OutputOpt = OutputFormat.table,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Show Events of Flux objects and of the objects they manage, oldest first."""
    target = parse_for(for_) if for_ else None
    if target is not None and all_namespaces:
        raise UsageError("--for names one object: use -n instead of -A")
    opts = KubeOptions(kubeconfig, context, namespace, all_namespaces)
    try:
        options.run(_main(opts, target, watch, output))
    except KeyboardInterrupt:
        if not watch:
            raise
        raise typer.Exit(0) from None


async def _main(
    opts: KubeOptions, target: tuple[str, str] | None, watch: bool, output: OutputFormat
) -> None:
    from weir.actions.discovery import resolve_resource  # noqa: PLC0415
    from weir.actions.events import filter_for, list_events  # noqa: PLC0415

    async with options.connect(opts) as session:
        ref = None
        if target is not None:
            resource = await resolve_resource(session.api, target[0])
            ref = (resource, session.namespace, target[1])
        flt = await filter_for(session.api, session.scope, ref)
        if watch:
            await _watch(session, flt, output)
            return
        events = await list_events(session.api, session.scope, flt)
    if emit(as_list(events), output):
        return
    if not events:
        where = "any namespace" if session.all_namespaces else f"namespace {session.namespace}"
        line(f"no Flux events found in {where}", err=True)
        return
    write(
        Table(headers(session.all_namespaces)).render(
            [cells(e, session.all_namespaces) for e in events]
        )
    )


async def _watch(session: Session, flt: EventFilter, output: OutputFormat) -> None:
    from weir.actions.events import EVENTS, sort_events  # noqa: PLC0415
    from weir.kube.informer import Informer, strip_managed_fields  # noqa: PLC0415

    wanted = flt.namespaces()
    scopes: Sequence[str | None] = sorted(wanted) if wanted is not None else [session.scope]
    informers = [
        Informer(session.api, EVENTS, namespace=s or None, transform=strip_managed_fields)
        for s in scopes
    ]
    table = Table(headers(session.all_namespaces))
    live = False

    def on_event(event_type: str, event: Obj) -> None:
        if not live or event_type == "DELETED" or not flt.matches(event):
            return
        if output is OutputFormat.table:
            write(table.row(cells(event, session.all_namespaces)))
        else:
            emit_event(event_type, event, output)

    for informer in informers:
        informer.add_handler(on_event)
    try:
        await asyncio.gather(*(i.start() for i in informers))
        await asyncio.gather(*(i.wait_synced(timeout=60) for i in informers))
        events = sort_events(e for i in informers for e in i.list() if flt.matches(e))
        if output is OutputFormat.table:
            write(table.render([cells(e, session.all_namespaces) for e in events]))
        else:
            for event in events:
                emit_event("ADDED", event, output)
        live = True
        await asyncio.Event().wait()
    finally:
        await asyncio.gather(*(i.stop() for i in informers))
