"""``weir export <kind|sources|all> <name | --all>``: clean manifests for re-applying."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from weir.cli import options
from weir.cli.options import (
    AllNamespacesOpt,
    ContextOpt,
    KindArg,
    KubeconfigOpt,
    KubeOptions,
    NamespaceOpt,
)
from weir.cli.output import as_list, line, to_json, write
from weir.errors import UsageError

if TYPE_CHECKING:
    from weir.api import KindInfo


class ExportFormat(enum.StrEnum):
    yaml = "yaml"
    json = "json"


def command(  # noqa: PLR0917 -- typer maps each parameter to an argument or flag
    kind: KindArg,
    name: Annotated[
        str | None, typer.Argument(help="Name of the object (or --all).", show_default=False)
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every object of the kind(s).")] = False,
    namespace: NamespaceOpt = None,
    all_namespaces: AllNamespacesOpt = False,
    output: Annotated[
        ExportFormat, typer.Option("-o", "--output", help="Multi-document YAML or a JSON List.")
    ] = ExportFormat.yaml,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Print objects as clean manifests (no status, managedFields, uid, resourceVersion,
    generation, creationTimestamp or reconcile.fluxcd.io/* annotations), to re-apply them."""
    kinds = options.kinds_of(kind)
    if name is None and not all_:
        raise UsageError(f"give a name, or --all to export every {kind}")
    if name is not None and (all_ or len(kinds) > 1):
        raise UsageError("a name needs a single kind and no --all")
    if name is not None and all_namespaces:
        raise UsageError("a name cannot be looked up in all namespaces: use -n instead of -A")
    opts = KubeOptions(kubeconfig, context, namespace, all_namespaces)
    options.run(_main(opts, kinds, name, output))


async def _main(
    opts: KubeOptions, kinds: Sequence[KindInfo], name: str | None, output: ExportFormat
) -> None:
    from weir.actions.export import clean, to_yaml  # noqa: PLC0415
    from weir.actions.objects import get_object, list_many  # noqa: PLC0415

    async with options.connect(opts) as session:
        if name is not None:
            objs = [await get_object(session.api, kinds[0], session.namespace, name)]
        else:
            found = await list_many(session.api, kinds, session.scope)
            objs = [o for info in kinds for o in found[info.kind]]
    cleaned = [clean(o) for o in objs]
    if output is ExportFormat.json:
        write(to_json(as_list(cleaned)))
    elif cleaned:
        write(to_yaml(cleaned))
    else:
        where = "any namespace" if session.all_namespaces else f"namespace {session.namespace}"
        line(f"nothing to export in {where}", err=True)
