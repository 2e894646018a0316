"""``weir ui``: the web dashboard on its own (its own informers; ``weir run`` serves the same
UI from the controllers' caches)."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from weir import log as runtime_logging
from weir.auth.users import AuthSettings
from weir.cli.options import (
    ContextOpt,
    KubeconfigOpt,
    WebAccessTTLOpt,
    WebAllowedHostsOpt,
    WebAuthProxyHeaderOpt,
    WebConfigOpt,
    WebUsersFileOpt,
    parse_duration,
)
from weir.errors import UsageError
from weir.web.settings import DEFAULT_ADDR, WebSettings


def command(  # noqa: PLR0917 - typer maps each parameter to a flag
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
    addr: Annotated[
        str,
        typer.Option("--addr", "--web-addr", help="host:port to listen on (port 0: any free)."),
    ] = DEFAULT_ADDR,
    base_path: Annotated[
        str,
        typer.Option(
            "--base-path", "--web-base-path", help="URL prefix when served behind an ingress."
        ),
    ] = "",
    namespace: Annotated[
        str | None,
        typer.Option("-n", "--namespace", help="Show only this namespace (default: all)."),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning, error.")] = (
        "info"
    ),
    log_encoding: Annotated[str, typer.Option("--log-encoding", help="json or console.")] = (
        "console"
    ),
    users_file: WebUsersFileOpt = None,
    auth_proxy_header: WebAuthProxyHeaderOpt = None,
    allowed_hosts: WebAllowedHostsOpt = None,
    web_config: WebConfigOpt = None,
    access_ttl: WebAccessTTLOpt = "60s",
) -> None:
    """Serve the web dashboard: live status of every Flux object, graph, workloads, actions."""
    from weir.web import standalone  # noqa: PLC0415 -- starlette/uvicorn only when needed

    if addr.strip() in ("", "0"):
        raise UsageError("--addr: give host:port, e.g. 127.0.0.1:9080")
    if log_encoding not in ("json", "console"):
        raise UsageError(f"--log-encoding={log_encoding}: use json or console")
    settings = WebSettings(
        addr=addr,
        base_path=base_path,
        auth=AuthSettings.from_flags(users_file, auth_proxy_header, web_config),
        allowed_hosts=tuple(allowed_hosts or ()),
        access_ttl=parse_duration(access_ttl, "--web-access-ttl"),
        kubeconfig=kubeconfig,
        context=context,
    ).normalized()
    runtime_logging.configure(log_level.lower(), "json" if log_encoding == "json" else "console")
    sys.exit(
        asyncio.run(
            standalone.serve(settings, kubeconfig=kubeconfig, context=context, namespace=namespace)
        )
    )
