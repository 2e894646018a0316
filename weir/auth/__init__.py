"""Sign-in shared by the front ends (the web UI and the MCP server): users files, session
cookies and bearer tokens, authenticating proxies, and the identity actions impersonate
(ADR 0004). It sits below ``weir.web`` and ``weir.mcp`` and imports neither."""
