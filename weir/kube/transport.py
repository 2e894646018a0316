"""Raw JSON calls to the API server through a kubernetes_asyncio ``ApiClient``.

We reuse the client's configured aiohttp session (TLS, proxy, connection pool) and its
authentication (bearer tokens, exec plugins refreshing them), but bypass the generated model
layer: bodies are encoded and responses decoded with ``orjson`` as plain dicts. This is the only
module that touches kubernetes_asyncio internals.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson
from aiohttp.helpers import get_env_proxy_for_url
from kubernetes_asyncio.client import ApiClient
from multidict import CIMultiDict
from yarl import URL

from weir.kube.client import USER_AGENT, impersonated_groups
from weir.kube.errors import ApiUnavailableError, error_for_status, status_from_body
from weir.log import kv

log = logging.getLogger(__name__)

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
METADATA_LIST = f"{JSON};as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,{JSON}"
"""``Accept`` of a LIST of metadata only (as client-go's metadata client; plain JSON from a server
that cannot answer so)."""
APPLY_PATCH = "application/apply-patch+yaml"  # JSON is valid YAML: we send JSON
DEFAULT_TIMEOUT = 30.0
_STREAM_ABOVE = 1 << 20
"""Request bodies above this size (bytes) are streamed."""

Params = Mapping[str, str | int | bool | None]


def _query(params: Params | None) -> dict[str, str]:
    """Drop ``None`` values and spell booleans the way the API server expects."""
    out: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


async def _headers(
    api: ApiClient, content_type: str | None, accept: str | None = None
) -> CIMultiDict[str]:
    headers = {"Accept": accept or JSON, "User-Agent": USER_AGENT}
    headers.update(api.default_headers)  # Impersonate-User and friends
    if content_type:
        headers["Content-Type"] = content_type
    queries: list[tuple[str, str]] = []
    # Adds "authorization" for token users, refreshing exec-plugin tokens when needed.
    await api.update_params_for_auth(headers, queries, ["BearerToken"])
    out = CIMultiDict(headers)
    for group in impersonated_groups(api):  # one header per group (see weir.kube.client)
        out.add("Impersonate-Group", group)
    return out


def _session(api: ApiClient) -> aiohttp.ClientSession:
    session: aiohttp.ClientSession = api.rest_client.pool_manager
    if session.trust_env:
        _resolve_environment(api, session)
    return session


def _resolve_environment(api: ApiClient, session: aiohttp.ClientSession) -> None:
    """Read the proxy environment once per client, as client-go does, instead of per request.

    kubernetes_asyncio's session trusts the environment, so aiohttp looked up ``HTTPS_PROXY``/
    ``NO_PROXY`` and read ``~/.netrc`` for *every* request, each in a thread of the default
    executor (about 7 % of the controller's CPU at 100 Kustomizations, issue 21). The API
    server's host does not change: its proxy (if any) becomes the client's explicit proxy, and
    the session stops consulting the environment (client-go never reads ``.netrc`` either)."""
    rest = api.rest_client
    if not rest.proxy and api.configuration.host:
        with contextlib.suppress(LookupError, ValueError):
            proxy, auth = get_env_proxy_for_url(URL(api.configuration.host))
            rest.proxy = str(proxy)
            if auth is not None:
                rest.proxy_headers = {
                    **(rest.proxy_headers or {}),
                    "Proxy-Authorization": auth.encode(),
                }
    session._trust_env = False


def encode(body: Any) -> bytes:
    """JSON-encode a request body (``bytes`` pass through)."""
    return body if isinstance(body, bytes) else orjson.dumps(body)


@asynccontextmanager
async def open_response(
    api: ApiClient,
    method: str,
    path: str,
    *,
    params: Params | None = None,
    body: Any = None,
    content_type: str | None = None,
    request_timeout: aiohttp.ClientTimeout | float = DEFAULT_TIMEOUT,
    accept: str | None = None,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """Send a request and yield the open response once it succeeded (2xx).

    ``accept`` replaces the ``Accept`` header (JSON), e.g. with :data:`METADATA_LIST`.
    Raises an :class:`~weir.kube.errors.ApiError` subclass for failure statuses and
    :class:`~weir.kube.errors.ApiUnavailableError` when the server cannot be reached.
    """
    cfg = api.configuration
    url = f"{cfg.host}{path}"
    raw_body = encode(body) if body is not None else None
    if raw_body is not None and content_type is None:
        content_type = JSON
    # aiohttp sends a bytes body in one write and warns above 1 MiB that this may block the
    # event loop; a stream of the same bytes is written in chunks
    data: bytes | io.BytesIO | None = (
        io.BytesIO(raw_body) if raw_body is not None and len(raw_body) > _STREAM_ABOVE else raw_body
    )
    timeout = request_timeout
    if not isinstance(timeout, aiohttp.ClientTimeout):
        timeout = aiohttp.ClientTimeout(total=timeout)
    extra: dict[str, Any] = {}
    if api.rest_client.proxy:
        extra["proxy"] = api.rest_client.proxy
        extra["proxy_headers"] = api.rest_client.proxy_headers
    if api.rest_client.server_hostname:
        extra["server_hostname"] = api.rest_client.server_hostname
    try:
        async with _session(api).request(
            method,
            url,
            params=_query(params),
            data=data,
            headers=await _headers(api, content_type, accept),
            timeout=timeout,
            **extra,
        ) as resp:
            if resp.status >= 400:
                raw = await resp.read()
                raise error_for_status(method, path, status_from_body(resp.status, raw))
            yield resp
    except (aiohttp.ClientError, OSError) as e:
        raise ApiUnavailableError(
            f"{method} {path}: cannot reach the API server at {cfg.host} "
            f"({type(e).__name__}: {e}); check that it is running and reachable"
        ) from e


async def request(
    api: ApiClient,
    method: str,
    path: str,
    *,
    params: Params | None = None,
    body: Any = None,
    content_type: str | None = None,
    request_timeout: float = DEFAULT_TIMEOUT,
    accept: str | None = None,
) -> Any:
    """One API call; returns the decoded JSON response (``None`` for an empty body)."""
    async with open_response(
        api,
        method,
        path,
        params=params,
        body=body,
        content_type=content_type,
        request_timeout=request_timeout,
        accept=accept,
    ) as resp:
        raw = await resp.read()
    log.debug("kube request", extra=kv(method=method, path=path, status=resp.status))
    return orjson.loads(raw) if raw else None


async def iter_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Split a byte stream into lines, whatever their length (watch events carry whole objects,
    which can exceed a stream reader's line limit). Linear in the input size."""
    pending: list[bytes] = []
    async for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            line = chunk[start:end]
            if pending:
                pending.append(line)
                line = b"".join(pending)
                pending.clear()
            if line.strip():
                yield line
            start = end + 1
        if start < len(chunk):
            pending.append(chunk[start:])
    tail = b"".join(pending)
    if tail.strip():
        yield tail
