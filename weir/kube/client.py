"""Building ``kubernetes_asyncio`` API clients from a kubeconfig, like kubectl does."""

from __future__ import annotations

from typing import Any

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
        _repeat_group_headers(imp, groups)
    return imp


GROUPS_ATTR = "_weir_impersonate_groups"


class _View(client.ApiClient):
    """An :func:`acting_as` view: closing it leaves the pool it shares open."""

    async def close(self) -> None:
        return None


def acting_as(api: client.ApiClient, user: str, groups: tuple[str, ...] = ()) -> client.ApiClient:
    """A view of ``api`` that impersonates ``user`` (and ``groups``) and shares ``api``'s
    connection pool: free to make per request and per user (the web UI makes one for every
    signed-in user), where :func:`impersonating` opens a new pool. Only for calls through
    :mod:`weir.kube.transport` (all of weir's own); closing it does nothing."""
    view: client.ApiClient = _View.__new__(_View)
    view.__dict__.update(api.__dict__)
    view.default_headers = {**api.default_headers, "Impersonate-User": user}
    setattr(view, GROUPS_ATTR, tuple(groups))
    return view


def impersonated_groups(api: client.ApiClient) -> tuple[str, ...]:
    """The groups an :func:`impersonating` client acts with (one header each)."""
    groups: tuple[str, ...] = getattr(api, GROUPS_ATTR, ())
    return groups


def _repeat_group_headers(api: client.ApiClient, groups: tuple[str, ...]) -> None:
    """Send one ``Impersonate-Group`` header per group.

    The API server reads every value of the header and does not split them at commas, so
    ``a,b`` would be one group named ``a,b``. Headers are kept in plain dicts, which cannot
    repeat a key, so the groups are kept on the client (:func:`impersonated_groups`, read by
    :mod:`weir.kube.transport`), and the generated client's REST layer, which hands its headers
    straight to aiohttp, gets them as a multi-dict.
    """
    from multidict import CIMultiDict  # noqa: PLC0415 -- aiohttp's own dependency

    setattr(api, GROUPS_ATTR, groups)
    rest = api.rest_client
    send: Any = rest.request

    async def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        headers: CIMultiDict[str] = CIMultiDict(kwargs.pop("headers", None) or {})
        headers.popall("Impersonate-Group", None)
        for group in groups:
            headers.add("Impersonate-Group", group)
        return await send(method, url, *args, headers=headers, **kwargs)

    setattr(rest, "request", request)  # noqa: B010 -- an instance attribute shadows the method


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
