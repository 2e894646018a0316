"""``weir tree ks|hr <name>``: the objects a Kustomization or HelmRelease manages, as a tree."""

from __future__ import annotations

from typing import Annotated

import typer

from weir.cli import options
from weir.cli.options import (
    ContextOpt,
    KindArg,
    KubeconfigOpt,
    KubeOptions,
    NamespaceOpt,
    OutputOpt,
)
from weir.cli.output import OutputFormat, emit, write
from weir.errors import UsageError

TREE_KINDS = ("Kustomization", "HelmRelease")


def command(  # noqa: PLR0917 -- typer maps each parameter to an argument or flag
    kind: KindArg,
    name: Annotated[str, typer.Argument(help="Name of the object.", show_default=False)],
    namespace: NamespaceOpt = None,
    output: OutputOpt = OutputFormat.table,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Show the inventory of a Kustomization (ks) or HelmRelease (hr) as a tree, nested
    Kustomizations and HelmReleases expanded."""
    info = options.kinds_of(kind, single=True)[0]
    if info.kind not in TREE_KINDS:
        raise UsageError(f"tree shows Kustomizations (ks) and HelmReleases (hr), not {info.kind}")
    options.run(_main(KubeOptions(kubeconfig, context, namespace), info.kind, name, output))


async def _main(opts: KubeOptions, kind: str, name: str, output: OutputFormat) -> None:
    from weir.actions import tree  # noqa: PLC0415
    from weir.api import KINDS  # noqa: PLC0415

    async with options.connect(opts) as session:
        root = await tree.build(session.api, KINDS[kind], session.namespace, name)
    if not emit(root.to_dict(), output):
        write(tree.render(root))
