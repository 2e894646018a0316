"""Every API client weir makes names weir in its ``User-Agent``, so that the API server's audit
log (and a side-by-side benchmark) attributes weir's requests to it, not to the generated
client's default ``OpenAPI-Generator``."""

from __future__ import annotations

from kubernetes_asyncio.client import Configuration

from weir.kube.client import USER_AGENT, impersonating, new_client


async def test_clients_send_weirs_user_agent() -> None:
    api = new_client(Configuration())
    imp = impersonating(api, "alice")
    try:
        assert USER_AGENT.startswith("weir/")
        assert api.default_headers["User-Agent"] == USER_AGENT
        assert imp.default_headers["User-Agent"] == USER_AGENT
    finally:
        await imp.close()
        await api.close()
