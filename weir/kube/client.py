"""Building ``kubernetes_asyncio`` API clients from a kubeconfig, like kubectl does."""

from __future__ import annotations

import yaml
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


def impersonating(
    api: client.ApiClient, user: str, groups: tuple[str, ...] = ()
) -> client.ApiClient:
    """A new client with ``api``'s configuration that acts as ``user`` (and ``groups``), so
    that the cluster's RBAC decides what it may do. The caller closes it."""
    imp = client.ApiClient(configuration=api.configuration)
    imp.set_default_header("Impersonate-User", user)
    if groups:
        # One header, comma-joined values: aiohttp sends it as a single header line, which the
        # API server splits like repeated headers.
        imp.set_default_header("Impersonate-Group", ",".join(groups))
    return imp


def service_account_user(namespace: str, name: str) -> str:
    """The user name the API server gives a service account."""
    return f"system:serviceaccount:{namespace}:{name}"


async def api_client_from_kubeconfig_text(text: str) -> client.ApiClient:
    """A client for a kubeconfig given as YAML text (``spec.kubeConfig.secretRef``)."""

    cfg = client.Configuration()
    cfg.connection_pool_maxsize = MAX_CONNECTIONS
    try:
        await config.load_kube_config_from_dict(yaml.safe_load(text), client_configuration=cfg)
    except (ConfigException, yaml.YAMLError, TypeError, AttributeError) as e:
        raise ConfigError(f"invalid kubeconfig: {e}") from e
    return client.ApiClient(configuration=cfg)
