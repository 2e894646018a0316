"""A Provider with its Secrets resolved: where to send, with which credentials, TLS and proxy.

Secret keys, as Flux reads them:

- ``spec.secretRef``: ``address`` (overrides ``spec.address``), ``token``, ``username``
  (overrides ``spec.username``), ``password``, ``headers`` (a YAML map of HTTP headers for the
  ``generic`` types), ``proxy`` (deprecated);
- ``spec.certSecretRef``: ``ca.crt`` (or the deprecated ``caFile``), and ``tls.crt`` +
  ``tls.key`` for a client certificate;
- ``spec.proxySecretRef``: ``address``, and optional ``username`` / ``password``.

:func:`check_spec` validates what the spec alone decides (the type, a malformed
``spec.address``, ``commitStatusExpr``): those errors are terminal. :func:`resolve` reads the
Secrets; what they lack is transient (the Secret may be created or fixed later).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import yaml
from kubernetes_asyncio.client import ApiClient

from weir.errors import ConfigError
from weir.kube import apply
from weir.kube.errors import NotFoundError
from weir.kube.resources import SECRETS
from weir.notification.commitstatus import compile_expression
from weir.notification.gitaddr import InvalidAddressError, parse_git_address
from weir.runtime.durations import parse_duration

Obj = dict[str, Any]

VALIDATION_FAILED = "ValidationFailed"
TOKEN_NOT_FOUND = "TokenNotFound"
INVALID_CEL = "InvalidCELExpression"

CHAT_TYPES = frozenset(
    {"slack", "discord", "rocket", "msteams", "googlechat", "webex", "telegram", "matrix"}
)
WEBHOOK_TYPES = frozenset({"generic", "generic-hmac"})
INCIDENT_TYPES = frozenset({"opsgenie", "pagerduty", "alertmanager", "grafana"})
COMMIT_STATUS_TYPES = frozenset({"github", "gitlab", "gitea", "bitbucket", "azuredevops"})
GIT_TYPES = COMMIT_STATUS_TYPES | {"githubdispatch"}
SUPPORTED_TYPES = CHAT_TYPES | WEBHOOK_TYPES | INCIDENT_TYPES | GIT_TYPES
"""The Provider types weir implements; the others Flux knows give Ready=False."""

_OPTIONAL_ADDRESS = frozenset({"telegram"})
_NEEDS_TOKEN = GIT_TYPES | {"opsgenie", "telegram", "matrix", "webex"}
_NEEDS_CHANNEL = frozenset({"telegram", "matrix"})


class ProviderError(ConfigError):
    """A Provider that cannot send: ``reason`` is its Ready reason; ``terminal`` errors come
    from the spec (they stall until it changes), the others from Secrets (retried)."""

    def __init__(self, reason: str, message: str, *, terminal: bool) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.terminal = terminal


@dataclass(frozen=True)
class ProviderConfig:
    """Everything a notifier needs; secret values are never logged (``repr`` hides them)."""

    type: str
    namespace: str
    name: str
    uid: str = ""
    address: str = ""
    channel: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    proxy: str = field(default="", repr=False)
    ca_pem: bytes | None = field(default=None, repr=False)
    cert_pem: bytes | None = field(default=None, repr=False)
    key_pem: bytes | None = field(default=None, repr=False)
    timeout: float = 15.0

    @property
    def display(self) -> str:
        return f"Provider/{self.namespace}/{self.name}"

    def secrets(self) -> list[str]:
        """The secret values, to mask in error messages."""
        values = [self.token, self.password, *self.headers.values()]
        for url in (self.address, self.proxy):
            parts = urlsplit(url) if "://" in url else None
            if parts is not None and parts.password:
                values.append(parts.password)
        return [v for v in values if v and len(v) >= 4]


def _spec(provider: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = provider.get("spec") or {}
    assert isinstance(spec, Mapping)
    return spec


def check_spec(provider: Mapping[str, Any]) -> None:
    """Terminal errors of the spec; raises :class:`ProviderError` (``terminal=True``)."""
    spec = _spec(provider)
    kind = str(spec.get("type") or "")
    if kind not in SUPPORTED_TYPES:
        known = ", ".join(sorted(SUPPORTED_TYPES))
        raise ProviderError(
            VALIDATION_FAILED,
            f"provider type {kind!r} is not supported by weir; supported types: {known}",
            terminal=True,
        )
    address = str(spec.get("address") or "")
    if address:
        _check_address(kind, address)
    if spec.get("timeout"):
        try:
            parse_duration(str(spec["timeout"]))
        except ConfigError as e:
            raise ProviderError(VALIDATION_FAILED, f"spec.timeout: {e}", terminal=True) from e
    expr = spec.get("commitStatusExpr")
    if expr:
        try:
            compile_expression(str(expr))
        except ConfigError as e:
            raise ProviderError(INVALID_CEL, str(e), terminal=True) from e


def _address_problem(kind: str, address: str) -> str | None:
    if kind in GIT_TYPES:
        try:
            git = parse_git_address(address)
        except InvalidAddressError as e:
            return str(e)
        if kind == "azuredevops" and "/_git/" not in f"/{git.repo_id}/":
            return (
                f"invalid Azure DevOps address {address!r}: use "
                "https://dev.azure.com/<org>/<project>/_git/<repo>"
            )
        return None
    try:
        parts = urlsplit(address)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    return None if ok else f"invalid {kind} address {address!r}: use an http:// or https:// URL"


def _check_address(kind: str, address: str, *, where: str = "spec.address") -> None:
    problem = _address_problem(kind, address)
    if problem:
        raise ProviderError(
            VALIDATION_FAILED, f"{where}: {problem}", terminal=where == "spec.address"
        )


async def _secret(api: ApiClient, namespace: str, name: str, what: str) -> dict[str, bytes]:
    try:
        secret = await apply.get(api, SECRETS, namespace, name)
    except NotFoundError as e:
        raise ProviderError(
            TOKEN_NOT_FOUND,
            f"{what} '{namespace}/{name}' not found: create it or fix the reference",
            terminal=False,
        ) from e
    data = secret.get("data") or {}
    return {str(k): base64.b64decode(v) for k, v in data.items()}


def _text(data: Mapping[str, bytes], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else value.decode(errors="replace").strip()


def _proxy_url(address: str, username: str | None, password: str | None) -> str:
    if not username:
        return address
    parts = urlsplit(address)
    auth = quote(username, safe="") + (":" + quote(password or "", safe=""))
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{auth}@{host}"))


async def resolve(
    api: ApiClient, provider: Mapping[str, Any], *, default_timeout: float = 15.0
) -> ProviderConfig:
    """Read the Provider's Secrets and check that the type has what it needs; raises
    :class:`ProviderError`."""
    check_spec(provider)
    meta = provider.get("metadata") or {}
    spec = _spec(provider)
    kind = str(spec["type"])
    namespace = str(meta.get("namespace") or "")
    address = str(spec.get("address") or "")
    username = str(spec.get("username") or "")
    proxy = str(spec.get("proxy") or "")
    token = password = ""
    headers: dict[str, str] = {}
    secret_name = (spec.get("secretRef") or {}).get("name")
    if secret_name:
        data = await _secret(api, namespace, str(secret_name), "Secret")
        address = _text(data, "address") or address
        username = _text(data, "username") or username
        proxy = _text(data, "proxy") or proxy
        token = _text(data, "token") or ""
        password = _text(data, "password") or ""
        if "headers" in data:
            try:
                parsed = yaml.safe_load(data["headers"]) or {}
            except yaml.YAMLError as e:
                raise ProviderError(
                    VALIDATION_FAILED,
                    f"the 'headers' of Secret '{namespace}/{secret_name}' is not a YAML map: {e}",
                    terminal=False,
                ) from e
            if not isinstance(parsed, Mapping):
                raise ProviderError(
                    VALIDATION_FAILED,
                    f"the 'headers' of Secret '{namespace}/{secret_name}' must be a YAML map",
                    terminal=False,
                )
            headers = {str(k): str(v) for k, v in parsed.items()}
    proxy_name = (spec.get("proxySecretRef") or {}).get("name")
    if proxy_name:
        data = await _secret(api, namespace, str(proxy_name), "proxy Secret")
        proxy_address = _text(data, "address")
        if not proxy_address:
            raise ProviderError(
                VALIDATION_FAILED,
                f"proxy Secret '{namespace}/{proxy_name}' has no 'address'",
                terminal=False,
            )
        proxy = _proxy_url(proxy_address, _text(data, "username"), _text(data, "password"))
    ca = cert = key = None
    cert_name = (spec.get("certSecretRef") or {}).get("name")
    if cert_name:
        data = await _secret(api, namespace, str(cert_name), "certificate Secret")
        ca = data.get("ca.crt") or data.get("caFile")
        cert, key = data.get("tls.crt"), data.get("tls.key")
        if bool(cert) != bool(key):
            raise ProviderError(
                VALIDATION_FAILED,
                f"certificate Secret '{namespace}/{cert_name}' needs both tls.crt and tls.key",
                terminal=False,
            )
        if not (ca or cert):
            raise ProviderError(
                VALIDATION_FAILED,
                f"certificate Secret '{namespace}/{cert_name}' has neither ca.crt nor tls.crt",
                terminal=False,
            )
    if not address and kind not in _OPTIONAL_ADDRESS:
        raise ProviderError(
            VALIDATION_FAILED,
            f"provider type {kind!r} needs an address: set spec.address or 'address' in the Secret",
            terminal=not secret_name,
        )
    if address and address != str(spec.get("address") or ""):
        _check_address(kind, address, where="the Secret's address")
    if proxy:
        parts = urlsplit(proxy)
        if parts.scheme not in ("http", "https", "socks5") or not parts.hostname:
            raise ProviderError(VALIDATION_FAILED, "the proxy address is not a URL", terminal=False)
    if kind in _NEEDS_TOKEN and not token:
        raise ProviderError(
            TOKEN_NOT_FOUND,
            f"provider type {kind!r} needs a 'token' in the Secret of spec.secretRef",
            terminal=not secret_name,
        )
    if kind == "bitbucket" and ":" not in token:
        raise ProviderError(
            VALIDATION_FAILED,
            "the bitbucket token must be '<username>:<app-password>'",
            terminal=False,
        )
    channel = str(spec.get("channel") or "")
    if kind in _NEEDS_CHANNEL and not channel:
        raise ProviderError(
            VALIDATION_FAILED, f"provider type {kind!r} needs spec.channel", terminal=True
        )
    timeout = default_timeout
    if spec.get("timeout"):
        timeout = parse_duration(str(spec["timeout"]))
    return ProviderConfig(
        type=kind,
        namespace=namespace,
        name=str(meta.get("name") or ""),
        uid=str(meta.get("uid") or ""),
        address=address,
        channel=channel,
        username=username,
        password=password,
        token=token,
        headers=headers,
        proxy=proxy,
        ca_pem=ca,
        cert_pem=cert,
        key_pem=key,
        timeout=timeout,
    )
