"""An S3 client for Bucket sources: list a bucket's objects with their ETags and download them.

It wraps **botocore**, the AWS SDK's core (the reference SigV4 signer, maintained with every
AWS release; ADR 0012), behind a small async interface. botocore is synchronous: each call runs
in this module's thread pool (:data:`MAX_THREADS` workers shared by every Bucket), so the event
loop never waits on the network. Downloads stream to files; nothing is held in memory.

What it honours, as source-controller's minio client does for ``provider: generic`` (and
``aws`` with static keys, which is the same protocol):

- ``endpoint`` is ``host[:port]``; ``insecure`` selects ``http://`` (otherwise ``https://``).
  Amazon S3 hosts (``*.amazonaws.com``) use virtual-host addressing, every other endpoint path
  style (``https://host/bucket/key``), which every S3-compatible server understands.
- credentials: static keys, or none (anonymous requests, for public buckets);
- TLS: a CA bundle and a client certificate (PEM files the caller writes);
- a proxy URL (with user info for basic authentication);
- ``timeout`` bounds connect and read of each request.

No shared AWS configuration is read: no ``~/.aws`` files, no credential chain, no
``AWS_*`` endpoint or CA variables (the proxy variables ``HTTPS_PROXY``/``NO_PROXY`` still
apply, as for every other source).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from weir.source.errors import SourceError

BUCKET_OPERATION_FAILED = "BucketOperationFailed"
MAX_THREADS = 16
"""Threads for S3 calls in this process (every Bucket shares them)."""
CHUNK = 1 << 20

T = TypeVar("T")


@functools.cache
def _executor() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(
        max_workers=MAX_THREADS, thread_name_prefix="weir-s3"
    )


class BucketError(SourceError):
    """An S3 request failed (reason ``BucketOperationFailed``, as source-controller's)."""

    reason = BUCKET_OPERATION_FAILED

    def __init__(self, message: str, *, code: str = "", retryable: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class ObjectNotFoundError(BucketError):
    """The object (key) does not exist (``NoSuchKey``)."""


@dataclass(frozen=True)
class S3Settings:
    """Where and how to reach the S3 API."""

    endpoint: str
    """``host[:port]`` (a Bucket's ``spec.endpoint``)."""
    insecure: bool = False
    """Plain HTTP instead of HTTPS."""
    region: str | None = None
    """Region for SigV4 signatures (``us-east-1`` when empty, as S3-compatible servers expect)."""
    access_key: str | None = None
    secret_key: str | None = None
    """Static credentials; anonymous requests without them."""
    ca_file: str | None = None
    """PEM bundle of the CAs to trust (the system's when empty)."""
    cert_file: str | None = None
    key_file: str | None = None
    """Client certificate and key (mutual TLS)."""
    proxy: str | None = None
    """Proxy URL (``http://user:pass@host:port``) for every request."""
    timeout: float = 60.0
    """Connect and read timeout of each request, in seconds."""

    @property
    def url(self) -> str:
        return f"{'http' if self.insecure else 'https'}://{self.endpoint}"

    @property
    def virtual_host(self) -> bool:
        host = self.endpoint.rsplit(":", 1)[0] if self.endpoint.count(":") == 1 else self.endpoint
        return host == "amazonaws.com" or host.endswith(".amazonaws.com")


def _client(settings: S3Settings) -> Any:
    import botocore.session  # noqa: PLC0415 - imported when a Bucket is reconciled
    from botocore import UNSIGNED  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    session = botocore.session.Session()
    for variable in ("config_file", "credentials_file"):
        session.set_config_variable(variable, os.devnull)
    anonymous = not (settings.access_key and settings.secret_key)
    config = Config(
        signature_version=UNSIGNED if anonymous else "s3v4",
        s3={"addressing_style": "virtual" if settings.virtual_host else "path"},
        connect_timeout=settings.timeout,
        read_timeout=settings.timeout,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=MAX_THREADS,
        proxies={"http": settings.proxy, "https": settings.proxy} if settings.proxy else None,
        client_cert=(
            (settings.cert_file, settings.key_file)
            if settings.cert_file and settings.key_file
            else None
        ),
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        user_agent_extra="weir",
    )
    return session.create_client(
        "s3",
        endpoint_url=settings.url,
        region_name=settings.region or "us-east-1",
        aws_access_key_id=None if anonymous else settings.access_key,
        aws_secret_access_key=None if anonymous else settings.secret_key,
        verify=settings.ca_file or True,
        config=config,
    )


def _unquote(etag: str) -> str:
    """ETags as minio-go reports them: without the surrounding quotes."""
    return etag.strip().strip('"')


def _error(what: str, exc: Exception) -> BucketError:
    """A botocore exception as a :class:`BucketError` that says what failed and why."""
    from botocore.exceptions import (  # noqa: PLC0415
        BotoCoreError,
        ClientError,
        ConnectionError,
        SSLError,
    )

    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(
            err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        )
        message = str(err.get("Message") or "").strip() or code
        cls = ObjectNotFoundError if code in ("NoSuchKey", "404") else BucketError
        return cls(f"{what}: {message} ({code})", code=code)
    if isinstance(exc, SSLError):
        return BucketError(
            f"{what}: TLS handshake failed ({exc}); give the server's CA as ca.crt in "
            "spec.certSecretRef, or set spec.insecure for a plain-HTTP endpoint"
        )
    if isinstance(exc, ConnectionError):
        return BucketError(f"{what}: cannot connect ({exc}); check spec.endpoint")
    if isinstance(exc, BotoCoreError):
        return BucketError(f"{what}: {exc}")
    return BucketError(f"{what}: {exc}")


class S3Client:
    """One endpoint, one set of credentials (use ``async with``)."""

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self._client: Any = None

    async def __aenter__(self) -> S3Client:
        try:
            self._client = await self._run(functools.partial(_client, self.settings))
        except Exception as e:
            raise BucketError(
                f"invalid S3 client configuration for endpoint {self.settings.endpoint!r}: {e}",
                retryable=False,
            ) from e
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            with contextlib.suppress(Exception):
                await self._run(client.close)

    @staticmethod
    async def _run(fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(_executor(), fn)

    async def _call(self, what: str, fn: Callable[[], T]) -> T:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            return await self._run(fn)
        except (ClientError, BotoCoreError) as e:
            raise _error(what, e) from e

    # ----------------------------------------------------------------------------- calls
    async def bucket_exists(self, bucket: str) -> bool:
        """HEAD the bucket: False when it does not exist, an error when access fails."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        def head() -> bool:
            try:
                self._client.head_bucket(Bucket=bucket)
            except ClientError:
                # HEAD answers have no body, so the reason (NoSuchBucket, AccessDenied,
                # SignatureDoesNotMatch, ...) is asked for again with a GET
                try:
                    self._client.list_objects_v2(Bucket=bucket, MaxKeys=1)
                except ClientError as e:
                    if str(e.response.get("Error", {}).get("Code")) == "NoSuchBucket":
                        return False
                    raise
            return True

        return await self._call(f"failed to confirm existence of '{bucket}' bucket", head)

    async def list_objects(self, bucket: str, prefix: str = "") -> list[tuple[str, str, int]]:
        """Every object under ``prefix``: ``(key, etag, size)``, in the server's order."""

        def walk() -> list[tuple[str, str, int]]:
            out: list[tuple[str, str, int]] = []
            google = "storage.googleapis.com" in self.settings.endpoint
            paginator = self._client.get_paginator("list_objects" if google else "list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for obj in page.get("Contents") or []:
                    key = obj.get("Key")
                    if key is not None:
                        out.append(
                            (str(key), _unquote(str(obj.get("ETag") or "")), obj.get("Size") or 0)
                        )
            return out

        return await self._call(f"listing objects from bucket '{bucket}' failed", walk)

    async def download(
        self, bucket: str, key: str, dest: Path, *, limit: int | None = None
    ) -> tuple[str, int]:
        """Write the object to ``dest``; returns its ETag and size. ``limit`` caps the bytes
        accepted (a larger object is a :class:`BucketError`)."""

        def get() -> tuple[str, int]:
            resp = self._client.get_object(Bucket=bucket, Key=key)
            body = resp["Body"]
            size = 0
            try:
                with open(dest, "wb") as out:
                    for chunk in body.iter_chunks(CHUNK):
                        size += len(chunk)
                        if limit is not None and size > limit:
                            raise BucketError(
                                f"object '{key}' of bucket '{bucket}' is larger than the "
                                f"{limit} bytes left for this artifact",
                                retryable=False,
                            )
                        out.write(chunk)
            finally:
                body.close()
            return _unquote(str(resp.get("ETag") or "")), size

        return await self._call(f"failed to get '{key}' object", get)
