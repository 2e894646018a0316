"""``weir get <kind|sources|all> [name]``: Flux objects and their status, like ``flux get``."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping, Sequence
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
)
from weir.cli.output import OutputFormat, Table, age, as_list, emit, emit_event, line, write
from weir.errors import UsageError
from weir.types import Obj

if TYPE_CHECKING:
    from weir.api import KindInfo

HEADERS = ("NAME", "REVISION", "SUSPENDED", "READY", "AGE", "MESSAGE")


def headers(all_namespaces: bool) -> list[str]:
    return ["NAMESPACE", *HEADERS] if all_namespaces else list(HEADERS)


def row(obj: Mapping[str, Any], *, all_namespaces: bool, prefix: str = "") -> list[str]:
    """The table row of an object; ``prefix`` (``kustomization/``) when several kinds show."""
    from weir.actions.objects import summarize  # noqa: PLC0415

    s = summarize(obj)
    cells = [
        f"{prefix}{s.name}",
        s.revision,
        "True" if s.suspended else "False",
        s.ready,
        age(s.created),
        s.message,
    ]
    return [s.namespace, *cells] if all_namespaces else cells


def render(
    kinds: Sequence[KindInfo], objs: Mapping[str, list[Obj]], *, all_namespaces: bool
) -> tuple[str, dict[str, Table]]:
    """The tables of ``weir get``: one per kind with objects, names prefixed by the kind when
    several kinds were asked for. Returns the text and the table of each kind (for watch)."""
    blocks: list[str] = []
    tables: dict[str, Table] = {}
    for info in kinds:
        items = objs.get(info.kind) or []
        prefix = f"{info.singular}/" if len(kinds) > 1 else ""
        table = tables[info.kind] = Table(headers(all_namespaces))
        if items:
            rows = [row(o, all_namespaces=all_namespaces, prefix=prefix) for o in items]
            blocks.append(table.render(rows))
    return "\n".join(blocks), tables


def _nothing_found(kinds: Sequence[KindInfo], session: Session) -> str:
    what = f"{kinds[0].plural}" if len(kinds) == 1 else "Flux objects"
    where = "in any namespace" if session.all_namespaces else f"in namespace {session.namespace}"
    return f"no {what} found {where}"


def command(  # noqa: PLR0917 -- typer maps each parameter to an argument or flag
    kind: KindArg,
    name: Annotated[
        str | None, typer.Argument(help="Name of one object.", show_default=False)
    ] = None,
    namespace: NamespaceOpt = None,
    all_namespaces: AllNamespacesOpt = False,
    status_selector: Annotated[
        str | None,
        typer.Option(
            "--status-selector",
            help="Only objects whose conditions match, e.g. ready=false or stalled=true.",
            show_default=False,
        ),
    ] = None,
    watch: Annotated[
        bool, typer.Option("-w", "--watch", help="After listing, print changes until Ctrl-C.")
    ] = False,
    output: OutputOpt = OutputFormat.table,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Show Flux objects with their revision, suspension and Ready status.

    KIND is a kind (ks, hr, gitrepo, ocirepo, helmrepo, hc, bucket, ...), `sources` or `all`.
    """
    from weir.actions.objects import parse_status_selector  # noqa: PLC0415

    kinds = options.kinds_of(kind)
    selector = parse_status_selector(status_selector)
    if name is not None and len(kinds) > 1:
        raise UsageError(f"a name needs a single kind, not {kind!r}: e.g. `weir get ks {name}`")
    if name is not None and all_namespaces:
        raise UsageError("a name cannot be looked up in all namespaces: use -n instead of -A")
    opts = KubeOptions(kubeconfig, context, namespace, all_namespaces)
    try:
        options.run(_main(opts, kinds, name, selector, watch, output))
    except KeyboardInterrupt:
        if not watch:
            raise
        raise typer.Exit(0) from None


async def _main(  # noqa: PLR0917
    opts: KubeOptions,
    kinds: Sequence[KindInfo],
    name: str | None,
    selector: dict[str, str],
    watch: bool,
    output: OutputFormat,
) -> None:
    async with options.connect(opts) as session:
        if watch:
            await _watch(session, kinds, name, selector, output)
        elif name is not None:
            await _one(session, kinds[0], name, output)
        else:
            await _list(session, kinds, selector, output)


async def _one(session: Session, info: KindInfo, name: str, output: OutputFormat) -> None:
    from weir.actions.objects import get_object  # noqa: PLC0415

    obj = await get_object(session.api, info, session.namespace, name)
    if not emit(obj, output):
        write(render([info], {info.kind: [obj]}, all_namespaces=False)[0])


async def _list(
    session: Session, kinds: Sequence[KindInfo], selector: dict[str, str], output: OutputFormat
) -> None:
    from weir.actions.objects import list_many, matches_status  # noqa: PLC0415

    found = await list_many(session.api, kinds, session.scope)
    objs = {k: [o for o in v if matches_status(o, selector)] for k, v in found.items()}
    if emit(as_list([o for info in kinds for o in objs[info.kind]]), output):
        return
    text, _ = render(kinds, objs, all_namespaces=session.all_namespaces)
    if text:
        write(text)
    else:
        line(_nothing_found(kinds, session), err=True)


async def _watch(
    session: Session,
    kinds: Sequence[KindInfo],
    name: str | None,
    selector: dict[str, str],
    output: OutputFormat,
) -> None:
    """List, then print every change (``ADDED``/``MODIFIED``/``DELETED``) until cancelled.
    Tables get one row per change; JSON and YAML one watch event per change."""
    from weir.actions.objects import (  # noqa: PLC0415
        list_objects,
        matches_status,
        meta,
        resource_for,
    )
    from weir.kube.informer import Informer, strip_managed_fields  # noqa: PLC0415

    # A missing CRD or permission fails here with a clear error, not as an informer timeout.
    await asyncio.gather(*(list_objects(session.api, info, session.scope) for info in kinds))

    informers = {
        info.kind: Informer(
            session.api, resource_for(info), namespace=session.scope, transform=strip_managed_fields
        )
        for info in kinds
    }
    live = False
    tables: dict[str, Table] = {}

    def wanted(obj: Obj) -> bool:
        return (name is None or meta(obj).get("name") == name) and matches_status(obj, selector)

    def on_event(kind: str, event_type: str, obj: Obj) -> None:
        if not live or not wanted(obj):
            return
        if output is OutputFormat.table:
            prefix = f"{kinds_by_name[kind].singular}/" if len(kinds) > 1 else ""
            cells = row(obj, all_namespaces=session.all_namespaces, prefix=prefix)
            if event_type == "DELETED":
                cells[-1] = "(deleted)"
            write(tables[kind].row(cells))
        else:
            emit_event(event_type, obj, output)

    kinds_by_name = {info.kind: info for info in kinds}
    for kind, informer in informers.items():
        informer.add_handler(functools.partial(on_event, kind))
    try:
        await asyncio.gather(*(i.start() for i in informers.values()))
        await asyncio.gather(*(i.wait_synced(timeout=60) for i in informers.values()))
        objs = {k: sorted_objs([o for o in i.list() if wanted(o)]) for k, i in informers.items()}
        if output is OutputFormat.table:
            text, tables = render(kinds, objs, all_namespaces=session.all_namespaces)
            write(text)
            if not text:
                line(_nothing_found(kinds, session) + "; watching", err=True)
        else:
            for info in kinds:
                for obj in objs[info.kind]:
                    emit_event("ADDED", obj, output)
        live = True
        await asyncio.Event().wait()
    finally:
        await asyncio.gather(*(i.stop() for i in informers.values()))


def sorted_objs(objs: list[Obj]) -> list[Obj]:
    def key(o: Obj) -> tuple[str, str]:
        m = o.get("metadata") or {}
        return str(m.get("namespace", "")), str(m.get("name", ""))

    return sorted(objs, key=key)
