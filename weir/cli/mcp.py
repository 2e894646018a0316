"""``weir mcp``: the MCP server for AI assistants, over stdio (default) or streamable HTTP.

Logs (the tool-call log included) go to stderr as JSON lines; over stdio, stdout carries only
the protocol.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Annotated

import typer

from weir.errors import UsageError

TRANSPORTS = ("stdio", "http")


def command(  # noqa: PLR0917 -- typer maps each parameter to a flag
    transport: Annotated[
        str, typer.Option("--transport", help="stdio (one client, launched by it) or http.")
    ] = "stdio",
    addr: Annotated[
        str, typer.Option("--addr", help="host:port to serve http on (port 0: a free one).")
    ] = "127.0.0.1:9081",
    path: Annotated[str, typer.Option("--path", help="URL path of the http endpoint.")] = "/mcp",
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Offer no tool that changes the cluster.")
    ] = False,
    mask_secrets: Annotated[
        bool,
        typer.Option(
            "--mask-secrets/--no-mask-secrets",
            help="Mask Secret values and Helm values that come from Secrets.",
        ),
    ] = True,
    kube_as: Annotated[
        str | None,
        typer.Option("--kube-as", help="Impersonate this user (the cluster's RBAC decides)."),
    ] = None,
    kube_as_group: Annotated[
        list[str] | None,
        typer.Option("--kube-as-group", help="Impersonate this group too (repeatable)."),
    ] = None,
    kubeconfig: Annotated[
        str | None,
        typer.Option("--kubeconfig", help="Path to the kubeconfig (default: $KUBECONFIG)."),
    ] = None,
    context: Annotated[
        str | None, typer.Option("--context", help="Kubeconfig context (default: current).")
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option(
            "-n", "--namespace", help="Default namespace of the tools (default: the context's)."
        ),
    ] = None,
    max_output: Annotated[
        int, typer.Option("--max-output", help="Characters a tool result may have at most.")
    ] = 64 * 1024,
    timeout: Annotated[
        str, typer.Option("--timeout", help="Longest a tool call may take, e.g. 2m.")
    ] = "2m",
    tool_log: Annotated[
        str | None,
        typer.Option("--tool-log", help="Also append the tool-call log (JSON lines) here."),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="Host header the http endpoint accepts besides loopback (repeatable).",
        ),
    ] = None,
    users_file: Annotated[
        str | None,
        typer.Option(
            "--users-file",
            help="http: YAML file of users (name, groups, tokenSHA256; the web UI's format); "
            "callers send Authorization: Bearer <token> and every call impersonates them.",
        ),
    ] = None,
    web_config: Annotated[
        str | None,
        typer.Option(
            "--web-config",
            help="http: the web UI's config (web.fluxcd.controlplane.io/v1, OAuth2): callers "
            "send an ID token of its issuer, mapped to a user by its CEL expressions, and every "
            "call impersonates them.",
        ),
    ] = None,
    audience: Annotated[
        list[str] | None,
        typer.Option(
            "--audience",
            help="With --web-config: an accepted 'aud' of the ID tokens (repeatable; default: "
            "the config's clientID).",
        ),
    ] = None,
    resource_url: Annotated[
        str | None,
        typer.Option(
            "--resource-url",
            help="With --web-config: the endpoint's public URL, named in the protected "
            "resource metadata (default: http://<addr><path>).",
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="trace, debug, info, warning or error.")
    ] = "info",
    log_encoding: Annotated[str, typer.Option("--log-encoding", help="json or console.")] = "json",
) -> None:
    """Serve weir's MCP tools (overview, get/list, events, logs, dependency graph, history,
    explain_failure, diff, Helm values; reconcile/suspend/resume/apply/delete unless
    --read-only) to AI assistants."""
    from weir import log as runtime_logging  # noqa: PLC0415
    from weir.cli.logopts import checked_logging  # noqa: PLC0415 -- keep `weir --help` fast
    from weir.cli.options import parse_duration  # noqa: PLC0415
    from weir.mcp import McpSettings, build_server, serve_http, serve_stdio  # noqa: PLC0415
    from weir.runtime.endpoints import parse_address  # noqa: PLC0415

    if transport not in TRANSPORTS:
        raise UsageError(f"--transport={transport}: use stdio or http")
    level, encoding = checked_logging(log_level, log_encoding)
    if (users_file or web_config) and transport != "http":
        raise UsageError(
            "--users-file and --web-config authenticate HTTP callers: use them with "
            "--transport http"
        )
    from weir.auth.users import load_users  # noqa: PLC0415
    from weir.auth.webconfig import load_web_config  # noqa: PLC0415

    settings = McpSettings(
        users=load_users(users_file) if users_file else (),
        oidc=load_web_config(web_config) if web_config else None,
        audiences=tuple(audience or ()),
        resource_url=resource_url,
        kubeconfig=kubeconfig,
        context=context,
        namespace=namespace,
        read_only=read_only,
        mask_secrets=mask_secrets,
        kube_as=kube_as,
        kube_as_groups=tuple(kube_as_group or ()),
        max_output=max_output,
        call_timeout=parse_duration(timeout),
        tool_log=tool_log,
        allowed_hosts=tuple(allowed_host or ()),
    )
    runtime_logging.configure(level, encoding)
    for chatty in ("httpx", "httpcore", "mcp.server.lowlevel.server"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    server = build_server(settings)
    if transport == "stdio":
        asyncio.run(serve_stdio(server))
        return
    address = parse_address(addr, "--addr")
    if address is None:
        raise UsageError(f"--addr={addr}: the http transport needs host:port, e.g. 127.0.0.1:9081")
    asyncio.run(
        serve_http(
            server,
            address,
            path=path,
            allowed_hosts=settings.allowed_hosts,
            settings=settings,
        )
    )


def main() -> None:
    """``python -m weir.cli.mcp``: the command on its own, with ``weir``'s one-line errors."""
    from weir.cli.output import fail  # noqa: PLC0415
    from weir.errors import WeirError  # noqa: PLC0415

    try:
        typer.run(command)
    except WeirError as e:
        fail(str(e))
        sys.exit(e.exit_code)


if __name__ == "__main__":
    main()
