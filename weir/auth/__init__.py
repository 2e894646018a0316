"""Sign-in shared by the front ends (the web UI and the MCP server), below ``weir.web`` and
``weir.mcp`` and importing neither (ADR 0004, ADR 0013):

- ``users``: users files (tokens), authenticating proxies' headers, the sign-in modes;
- ``webconfig``: the Flux Operator's web config (``web.fluxcd.controlplane.io/v1``);
- ``oidc``, ``claims``, ``sealed``: OIDC with authlib, CEL claim mapping, sealed cookies;
- ``signin``: who sends a request, whatever the mode;
- ``rbac``: what each signed-in user may read and do, from access reviews made as the user.
"""
