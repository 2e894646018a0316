"""Building ``kubernetes_asyncio`` API clients from a kubeconfig, like kubectl does."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml
from kubernetes_asyncio import client, config
from kubernetes_asyncio.config.config_exception import ConfigException

from weir.errors import ConfigError

USER_AGENT = "weir/0.1"
"""What weir's requests say they are (the API server's audit log attributes them to it)."""


def new_client(cfg: client.Configuration) -> client.ApiClient:
    """An API client on ``cfg`` that sends weir's ``User-Agent``."""
    api = client.ApiClient(configuration=cfg)
    api.user_agent = USER_AGENT
    return api


# Every informer holds one connection for its watch (HTTP/1.1): the pool must leave room for the
# other requests beyond them (kubernetes_asyncio's default is 100 connections).
MAX_CONNECTIONS = 256


@dataclass(frozen=True)
class ClientOverrides:
    """kubectl's (and the flux CLI's) connection flags, over what the kubeconfig says:
    ``--server``, ``--token``, ``--certificate-authority``, ``--client-certificate``,
    ``--client-key``, ``--insecure-skip-tls-verify``, ``--tls-server-name``, ``--cluster``,
    ``--user`` and impersonation (``--as``, ``--as-group``, ``--as-uid``)."""

    server: str | None = None
    token: str | None = None
    certificate_authority: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    cluster: str | None = None
    user: str | None = None
    impersonate: str | None = None
    impersonate_groups: tuple[str, ...] = ()
    impersonate_uid: str | None = None

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    @property
    def changes_config(self) -> bool:
        """Whether the kubeconfig itself must be rewritten (anything but impersonation)."""
        return any(
            getattr(self, f.name) for f in fields(self) if not f.name.startswith("impersonate")
        )


def _absolute(item: dict[str, Any], keys: tuple[str, ...], base: Path) -> None:
    for key in keys:
        value = item.get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            item[key] = str(base / value)


def overridden_config(
    kubeconfig: str | None, context: str | None, overrides: ClientOverrides
) -> tuple[dict[str, Any], str | None]:
    """The merged kubeconfig with ``overrides`` applied to the context's cluster and user (a
    new entry each, so that nothing shared is changed), and the context to load."""
    from weir.kubeconfig import kubeconfig_files, merge_configs  # noqa: PLC0415

    docs = []
    for path in (p for p in kubeconfig_files(kubeconfig) if p.is_file()):
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"cannot read kubeconfig {path}: {e}") from e
        for section, keys in (
            ("clusters", ("certificate-authority",)),
            ("users", ("client-certificate", "client-key", "tokenFile")),
        ):
            for entry in doc.get(section) or []:
                inner = entry.get(section.removesuffix("s")) if isinstance(entry, dict) else None
                if isinstance(inner, dict):
                    _absolute(inner, keys, path.parent)
        docs.append(doc)
    merged = merge_configs(docs)
    name = context or merged.get("current-context") or "weir-overrides"
    ctx = next(
        (dict(c.get("context") or {}) for c in merged["contexts"] if c.get("name") == name), {}
    )
    cluster_name = overrides.cluster or ctx.get("cluster") or ""
    user_name = overrides.user or ctx.get("user") or ""

    def body(section: str, wanted: str) -> dict[str, Any]:
        for entry in merged[section]:
            if entry.get("name") == wanted:
                return dict(entry.get(section.removesuffix("s")) or {})
        return {}

    cluster = body("clusters", cluster_name)
    user = body("users", user_name)
    if overrides.server:
        cluster["server"] = overrides.server
    if overrides.certificate_authority:
        cluster["certificate-authority"] = overrides.certificate_authority
        cluster.pop("certificate-authority-data", None)
    if overrides.insecure_skip_tls_verify:
        cluster["insecure-skip-tls-verify"] = True
        cluster.pop("certificate-authority", None)
        cluster.pop("certificate-authority-data", None)
    if overrides.tls_server_name:
        cluster["tls-server-name"] = overrides.tls_server_name
    if overrides.token:
        user = {"token": overrides.token}
    if overrides.client_certificate:
        user["client-certificate"] = overrides.client_certificate
        user.pop("client-certificate-data", None)
    if overrides.client_key:
        user["client-key"] = overrides.client_key
        user.pop("client-key-data", None)
    merged["clusters"].append({"name": "weir-overrides", "cluster": cluster})
    merged["users"].append({"name": "weir-overrides", "user": user})
    ctx.update(cluster="weir-overrides", user="weir-overrides")
    merged["contexts"].append({"name": "weir-overrides", "context": ctx})
    return merged, "weir-overrides"


def _impersonate(api: client.ApiClient, overrides: ClientOverrides) -> None:
    if overrides.impersonate:
        api.set_default_header("Impersonate-User", overrides.impersonate)
    if overrides.impersonate_uid:
        api.set_default_header("Impersonate-Uid", overrides.impersonate_uid)
    if overrides.impersonate_groups:
        _repeat_group_headers(api, overrides.impersonate_groups)


async def api_client(
    kubeconfig: str | None = None,
    context: str | None = None,
    *,
    max_connections: int = MAX_CONNECTIONS,
    overrides: ClientOverrides | None = None,
) -> client.ApiClient:
    """An API client for ``context`` of ``kubeconfig`` ($KUBECONFIG or ~/.kube/config when None),
    or the in-cluster service account when no kubeconfig exists; ``overrides`` are kubectl's
    connection flags."""
    cfg = client.Configuration()
    cfg.connection_pool_maxsize = max_connections
    if overrides is not None and overrides.changes_config:
        merged, ctx = overridden_config(kubeconfig, context, overrides)
        try:
            await config.load_kube_config_from_dict(merged, context=ctx, client_configuration=cfg)
        except (ConfigException, TypeError, AttributeError) as e:
            raise ConfigError(f"cannot use the connection flags: {e}") from e
        api = new_client(cfg)
        _impersonate(api, overrides)
        return api
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
    api = new_client(cfg)
    if overrides is not None:
        _impersonate(api, overrides)
    return api


def impersonating(
    api: client.ApiClient, user: str, groups: tuple[str, ...] = ()
) -> client.ApiClient:
    """A new client with ``api``'s configuration that acts as ``user`` (and ``groups``), so
    that the cluster's RBAC decides what it may do. The caller closes it."""
    imp = new_client(api.configuration)
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
    return new_client(cfg)
