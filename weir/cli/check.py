"""``weir check [--pre]``: cluster prerequisites, one ✔/✗ line each; exit code 1 if any fails."""

from __future__ import annotations

from typing import Annotated

import typer

from weir.cli import options
from weir.cli.options import ContextOpt, KubeconfigOpt, KubeOptions, NamespaceOpt, OutputOpt
from weir.cli.output import FAILED, OK, OutputFormat, emit, line


def command(
    pre: Annotated[
        bool,
        typer.Option("--pre", help="Only what must hold before installing: API server, version."),
    ] = False,
    namespace: NamespaceOpt = None,
    output: OutputOpt = OutputFormat.table,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Check the cluster: API server reachable, Kubernetes >= 1.32, the Flux CRDs installed and
    Established, and permission to get/list/watch them (in -n NAMESPACE, else cluster-wide)."""
    ok = options.run(_main(KubeOptions(kubeconfig, context), pre, namespace, output))
    raise typer.Exit(0 if ok else 1)


async def _main(opts: KubeOptions, pre: bool, namespace: str | None, output: OutputFormat) -> bool:
    from weir.actions.check import run_checks  # noqa: PLC0415

    async with options.connect(opts) as session:
        checks = await run_checks(session.api, session.target.server, pre=pre, namespace=namespace)
    ok = all(c.ok for c in checks)
    if not emit({"ok": ok, "checks": [c.to_dict() for c in checks]}, output):
        for c in checks:
            line(f"{OK if c.ok else FAILED} {c.message}")
        line(f"{OK} all checks passed" if ok else f"{FAILED} some checks failed")
    return ok
