"""The HTTP client notifiers send with: one per delivery, with the Provider's timeout, CA /
client certificate (``certSecretRef``) and proxy.

A response outside 2xx raises :class:`DeliveryError`; connection errors, timeouts, ``429`` and
``5xx`` are *retryable* (the provider queue retries them with backoff), other statuses are not
(a wrong token or payload does not get better by resending). Error messages never carry the
Provider's secret values: tokens (which some APIs put in the URL, e.g. Telegram) are masked.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from weir.errors import WeirError
from weir.log import redact
from weir.notification.config import ProviderConfig

USER_AGENT = "weir-notification-controller"
NOTIFICATION_HEADER = "gotk-component"
"""Flux's header naming the controller that reported the event (``generic`` providers)."""
MAX_ERROR_BODY = 300


class DeliveryError(WeirError):
    """A notification that could not be delivered."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def _ssl_context(config: ProviderConfig) -> ssl.SSLContext | bool:
    if not config.ca_pem and not config.cert_pem:
        return True
    context = ssl.create_default_context(cadata=config.ca_pem.decode() if config.ca_pem else None)
    if config.cert_pem and config.key_pem:
        # ssl loads client certificates from files only: write them where nobody else reads
        with tempfile.TemporaryDirectory(prefix="weir-tls-") as tmp:
            cert, key = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
            for path, data in ((cert, config.cert_pem), (key, config.key_pem)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
            context.load_cert_chain(cert, key)
    return context


class Http:
    """An HTTP client for one Provider (use as ``async with Http(config) as http``)."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        try:
            verify = _ssl_context(config)
        except (ssl.SSLError, ValueError) as e:
            raise DeliveryError(
                f"the certificates of {config.display} cannot be loaded: {e}", retryable=False
            ) from e
        self._client = httpx.AsyncClient(
            timeout=config.timeout,
            verify=verify,
            proxy=config.proxy or None,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )

    async def __aenter__(self) -> Http:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._client.aclose()

    def mask(self, text: str) -> str:
        for secret in self.config.secrets():
            text = text.replace(secret, "***")
        return redact(text)

    async def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        validate: Callable[[httpx.Response], None] | None = None,
    ) -> httpx.Response:
        """Send; raises :class:`DeliveryError` unless the answer is 2xx (and ``validate``
        accepts it)."""
        body = content
        all_headers = dict(headers or {})
        if json is not None and body is None:
            body = orjson.dumps(json)
            all_headers.setdefault("Content-Type", "application/json")
        target = self._display(url)
        try:
            response = await self._client.request(method, url, content=body, headers=all_headers)
        except httpx.TimeoutException as e:
            raise DeliveryError(
                f"{method} {target} timed out after {self.config.timeout:g}s", retryable=True
            ) from e
        except httpx.HTTPError as e:
            raise DeliveryError(
                self.mask(f"{method} {target} failed: {e or type(e).__name__}"), retryable=True
            ) from e
        if not 200 <= response.status_code < 300:
            text = response.text[:MAX_ERROR_BODY].strip()
            status = response.status_code
            raise DeliveryError(
                self.mask(f"{method} {target} answered {status}: {text}"),
                retryable=status == 429 or status >= 500,
            )
        if validate is not None:
            validate(response)
        return response

    async def post(self, url: str, payload: Any, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, json=payload, **kwargs)

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        response = await self.request("GET", url, **kwargs)
        with contextlib.suppress(ValueError):
            return response.json()
        return None

    def _display(self, url: str) -> str:
        parts = urlsplit(url)
        return self.mask(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}")
