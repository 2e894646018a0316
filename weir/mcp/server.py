"""Building the MCP server and serving it over stdio or streamable HTTP.

``build_server(settings)`` gives an :class:`mcp.server.MCPServer` with weir's tools (write tools
only when not read-only); ``build_http_app(server)`` its ASGI app for streamable HTTP, which
``weir run`` can serve or mount. ``serve_stdio`` and ``serve_http`` run them (``weir mcp``).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, cast

import uvicorn
from kubernetes_asyncio.client import ApiClient
from mcp.server import MCPServer
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyHttpUrl
from starlette.routing import Route
from starlette.types import ASGIApp

from weir import __version__
from weir.auth.hosts import HostGate, HostRule, parse_allowed
from weir.auth.users import User
from weir.errors import UsageError
from weir.log import kv
from weir.mcp.arguments import ToolServer
from weir.mcp.audit import CallLog
from weir.mcp.auth import BearerGate, TokenCallers, callers_for
from weir.mcp.env import ToolEnv
from weir.mcp.prompts import register as register_prompts
from weir.mcp.settings import DEFAULT_PATH, McpSettings
from weir.mcp.tooling import register
from weir.mcp.toolset import all_tools
from weir.runtime.endpoints import Address, listen

log = logging.getLogger("weir.mcp")

INSTRUCTIONS = """\
weir's MCP server: inspect and operate a Kubernetes cluster run with GitOps (Flux's APIs:
GitRepository, OCIRepository, HelmRepository, HelmChart, Kustomization, HelmRelease).
Start with get_overview. To find why something fails, use explain_failure on it (any kind),
then get_dependency_graph, get_events, get_history and get_pod_logs (the prompts
debug_flux_kustomization and debug_flux_helmrelease walk through it). search_docs
answers questions about weir itself; get_api_versions lists the kinds the cluster
serves. Before reconciling, use diff_kustomization to see what would change. Changes
belong in Git: reconcile, suspend and resume drive the controllers; apply_manifest and
delete_resource refuse objects that Flux manages unless told otherwise. Outputs are
bounded: use fields=, limit= and selectors. Secret values are masked. Every call is
logged.
"""


def build_server(settings: McpSettings, *, api: ApiClient | None = None) -> MCPServer[ToolEnv]:
    """The MCP server. With ``api`` (a client owned by the caller, e.g. ``weir run``'s) the
    tools use it (impersonating on top with ``kube_as``) and never close it; otherwise they
    open a client from ``settings.kubeconfig`` on first use and close it on shutdown."""
    env = ToolEnv(settings, shared_api=api)
    calls = CallLog(settings.identity, settings.read_only, settings.tool_log)

    @asynccontextmanager
    async def lifespan(_: MCPServer[ToolEnv]) -> AsyncIterator[ToolEnv]:
        try:
            yield env
        finally:
            await env.close()

    server: MCPServer[ToolEnv] = ToolServer(
        "weir",
        title="weir GitOps",
        instructions=INSTRUCTIONS,
        version=__version__,
        lifespan=lifespan,
    )
    names = register(server, all_tools(env), env, calls)
    prompts = register_prompts(server)
    log.debug(
        "mcp tools registered",
        extra=kv(tools=names, prompts=prompts, readOnly=settings.read_only),
    )
    return server


def host_rule(host: str, extra: tuple[str, ...]) -> HostRule:
    """DNS-rebinding protection (:mod:`weir.auth.hosts`, the web UI's rule): ``Host`` headers
    of IP addresses, ``localhost``, the bound host name and ``extra`` (``--allowed-host``) are
    answered; a browser's ``Origin`` must be the server's own or an allowed host."""
    return HostRule.for_listener(host, parse_allowed(extra, "--allowed-host"))


def build_http_app(
    server: MCPServer[Any],
    *,
    path: str = DEFAULT_PATH,
    host: str = "127.0.0.1",
    port: int = 0,
    allowed_hosts: tuple[str, ...] = (),
    users: tuple[User, ...] = (),
    settings: McpSettings | None = None,
) -> ASGIApp:
    """The streamable-HTTP ASGI app serving ``server`` at ``path``, behind
    :class:`~weir.auth.hosts.HostGate` (DNS-rebinding protection; the SDK's own check is off so
    that one rule decides) and :class:`~weir.mcp.auth.BearerGate` when callers authenticate
    (``users``, or ``settings`` with a users file or an OIDC web config; OIDC adds the protected
    resource metadata). Its
    lifespan runs the session manager: when mounting it in another Starlette app, enter
    ``server.session_manager.run()`` in the host app's lifespan (mounted lifespans do not
    run)."""
    if not path.startswith("/"):
        raise UsageError(f"--path {path!r} must start with /, e.g. /mcp")
    starlette = server.streamable_http_app(
        streamable_http_path=path,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        host=host,
    )
    app: ASGIApp = starlette
    if settings is not None and settings.oidc is not None:
        callers = callers_for(settings)
        assert callers is not None
        name = f"[{host}]" if ":" in host else host
        resource = settings.resource_url or f"http://{name}:{port}{path}"
        metadata = protected_resource_routes(resource, settings)
        starlette.router.routes.extend(metadata)
        app = BearerGate(app, callers, path, str(build_resource_metadata_url(AnyHttpUrl(resource))))
    elif users or (settings is not None and settings.users):
        found = users or (settings.users if settings is not None else ())
        app = BearerGate(app, TokenCallers(McpSettings(users=found)), path)
    return HostGate(app, host_rule(host, allowed_hosts), "mcp")


def protected_resource_routes(resource: str, settings: McpSettings) -> list[Route]:
    """RFC 9728 metadata for ``resource``: the OIDC issuer is its authorization server."""
    oauth2 = settings.oidc.oauth2 if settings.oidc is not None else None
    assert oauth2 is not None
    # Strings, not AnyHttpUrl objects: the metadata model keeps them as given, and an issuer
    # is compared character by character (RFC 8414), so no "/" may be added to it.
    return create_protected_resource_routes(
        resource_url=cast(AnyHttpUrl, resource),
        authorization_servers=[cast(AnyHttpUrl, oauth2.issuer_url)],
        scopes_supported=list(oauth2.scopes),
        resource_name="weir MCP server",
    )


class _Server(uvicorn.Server):
    """uvicorn's server, stopping gracefully on SIGTERM/SIGINT and then returning (uvicorn
    re-raises the signal after its shutdown, which would end the process with -15)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


async def serve_stdio(server: MCPServer[Any]) -> None:
    """Serve one client on stdin/stdout until it disconnects."""
    await server.run_stdio_async()


def bind(address: Address) -> socket.socket:
    """A listening TCP socket on ``address`` (port 0 picks a free port)."""
    return listen(address, "--addr")


async def serve_http(
    server: MCPServer[Any],
    address: Address,
    *,
    path: str = DEFAULT_PATH,
    allowed_hosts: tuple[str, ...] = (),
    on_listening: Callable[[str], None] | None = None,
    users: tuple[User, ...] = (),
    settings: McpSettings | None = None,
) -> None:
    """Serve streamable HTTP on ``address`` until cancelled or signalled."""
    sock = bind(address)
    port = int(sock.getsockname()[1])
    app = build_http_app(
        server,
        path=path,
        host=address.host,
        port=port,
        allowed_hosts=allowed_hosts,
        users=users,
        settings=settings,
    )
    host = f"[{address.host}]" if ":" in address.host else address.host
    url = f"http://{host}:{port}{path}"
    secured = bool(users) or (settings is not None and (settings.users or settings.oidc))
    if address.host not in ("127.0.0.1", "::1", "localhost") and not secured:
        log.warning(
            "mcp server listens beyond loopback without authentication: pass --web-config "
            "(OIDC bearer tokens) or --users-file "
            "(bearer tokens; calls impersonate the caller), or protect it otherwise and prefer "
            "--read-only",
            extra=kv(url=url),
        )
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    http = _Server(config)
    log.info("mcp server listening", extra=kv(url=url))
    if on_listening is not None:
        on_listening(url)
    await http.serve(sockets=[sock])
