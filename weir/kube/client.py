"""Building ``kubernetes_asyncio`` API clients from a kubeconfig, like kubectl does."""

from __future__ import annotations

from kubernetes_asyncio import client, config
from kubernetes_asyncio.config.config_exception import ConfigException

from weir.errors import ConfigError

# Every informer holds one connection for its watch (HTTP/1.1): the pool must leave room for the
# other requests beyond them (kubernetes_asyncio's default is 100 connections).
MAX_CONNECTIONS = 256


async def api_client(
    kubeconfig: str | None = None,
    context: str | None = None,
    *,
    max_connections: int = MAX_CONNECTIONS,
) -> client.ApiClient:
    """An API client for ``context`` of ``kubeconfig`` ($KUBECONFIG or ~/.kube/config when None),
    or the in-cluster service account when no kubeconfig exists."""
    cfg = client.Configuration()
    cfg.connection_pool_maxsize = max_connections
    try:
        await config.load_kube_config(
            config_file=kubeconfig, context=context, client_configuration=cfg, persist_config=False
        )
    except (ConfigException, FileNotFoundError) as e:
        if kubeconfig is None and context is None:
            try:
                config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
            except ConfigException:
                raise ConfigError(
                    f"no usable kubeconfig ({e}): pass --kubeconfig, set KUBECONFIG, "
                    "or start a local cluster with `weir cluster up`"
                ) from e
        else:
            raise ConfigError(f"cannot load kubeconfig {kubeconfig or ''}: {e}") from e
    return client.ApiClient(configuration=cfg)
