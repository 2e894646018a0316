"""``weir stats``: objects per Flux kind, and how many are ready, failing and suspended."""

from __future__ import annotations

from weir.cli import options
from weir.cli.options import (
    AllNamespacesOpt,
    ContextOpt,
    KubeconfigOpt,
    KubeOptions,
    NamespaceOpt,
    OutputOpt,
)
from weir.cli.output import OutputFormat, emit, render_table, write

HEADERS = ("KIND", "TOTAL", "READY", "FAILING", "PROGRESSING", "SUSPENDED")


def command(
    namespace: NamespaceOpt = None,
    all_namespaces: AllNamespacesOpt = False,
    output: OutputOpt = OutputFormat.table,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Count the objects of each Flux kind: total, ready, failing, in progress, suspended."""
    opts = KubeOptions(kubeconfig, context, namespace, all_namespaces)
    options.run(_main(opts, output))


async def _main(opts: KubeOptions, output: OutputFormat) -> None:
    from weir.actions.stats import stats  # noqa: PLC0415

    async with options.connect(opts) as session:
        counts = await stats(session.api, session.scope)
    if emit([c.to_dict() for c in counts], output):
        return
    rows = [
        [c.kind, c.total, c.ready, c.failing, c.progressing, c.suspended]
        if c.has_status
        else [c.kind, c.total, "-", "-", "-", c.suspended]
        for c in counts
    ]
    write(render_table(HEADERS, rows))
