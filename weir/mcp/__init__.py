"""weir's MCP server: AI assistants inspect and operate the cluster through the official ``mcp``
SDK (v2), over stdio or streamable HTTP (see docs/mcp.md).

- :mod:`~weir.mcp.settings`: :class:`McpSettings` (read-only, masking, impersonation, limits).
- :mod:`~weir.mcp.server`: :func:`build_server`, :func:`build_http_app`, :func:`serve_stdio`,
  :func:`serve_http`.
- :mod:`~weir.mcp.tools`: the tools, one module per group.
- :mod:`~weir.mcp.tooling`: annotations, read-only filtering, the per-call wrapper.
- :mod:`~weir.mcp.output`, :mod:`~weir.mcp.audit`: bounded results and field selection, the
  tool-call log (secret masking is the front ends' shared :mod:`weir.actions.masking`).
"""

from weir.mcp.server import build_http_app, build_server, serve_http, serve_stdio
from weir.mcp.settings import McpSettings

__all__ = ["McpSettings", "build_http_app", "build_server", "serve_http", "serve_stdio"]
