"""``weir version``: weir's version, and the API server's when it can be reached (a missing or
unreachable cluster is reported, never an error)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from weir import __version__
from weir.cli import options
from weir.cli.options import ContextOpt, KubeconfigOpt, KubeOptions, OutputOpt
from weir.cli.output import OutputFormat, emit, line
from weir.errors import WeirError

SERVER_TIMEOUT = 3.0


def command(
    client: Annotated[
        bool, typer.Option("--client", help="Only the client version (no API call).")
    ] = False,
    output: OutputOpt = OutputFormat.table,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Print weir's version and the API server's Kubernetes version."""
    data: dict[str, Any] = {"client": {"version": __version__}}
    if not client:
        data["server"] = options.run(_server(KubeOptions(kubeconfig, context)))
    if emit(data, output):
        return
    line(f"weir {__version__}")
    server = data.get("server")
    if server is None:
        return
    if server.get("error"):
        line(f"server: not reachable ({server['error']})")
    else:
        line(f"server: Kubernetes {server['gitVersion']} at {server['url']}")


async def _server(opts: KubeOptions) -> dict[str, Any]:
    from weir.actions.check import server_version  # noqa: PLC0415

    url = ""
    try:
        url = options.target_of(opts).server
        async with options.connect(opts) as session:
            info = await server_version(session.api, timeout=SERVER_TIMEOUT)
    except (WeirError, TimeoutError) as e:
        return {"url": url, "error": str(e)}
    return {"url": url, **info}
