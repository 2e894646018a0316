"""A small client of the OCI distribution API on httpx.

::

    async with RegistryClient(credentials=Credentials("u", "p"), insecure=True) as oci:
        tags = await oci.list_tags(ref)
        manifest = await oci.get_manifest(ref.with_tag("1.0.0"))
        await oci.download_blob(ref, manifest.layers[0]["digest"], path)

- **Auth**: a request answered 401 is retried once with the challenge's scheme: ``Basic``
  sends the credentials; ``Bearer`` gets a token from the ``realm`` (with the credentials as
  Basic auth when there are any, anonymously otherwise) for the challenge's ``scope``. Tokens
  are cached per registry and scope until they expire.
- **Transport**: HTTPS by default (``verify`` takes a CA bundle or an ``ssl.SSLContext``);
  ``insecure=True`` speaks plain HTTP, which Flux allows for ``spec.insecure``.
- **Integrity**: manifests and blobs are checked against their digest; blobs stream to disk
  with a size cap.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import httpx

from weir.oci.auth import Credentials, parse_challenge
from weir.oci.errors import OCIAuthError, OCIError, OCINotFoundError, OCIProtocolError
from weir.oci.reference import Reference

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_LIST)

DEFAULT_TIMEOUT = 60.0
MAX_MANIFEST_SIZE = 4 << 20
DEFAULT_MAX_BLOB_SIZE = 1 << 30
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Manifest:
    """A fetched manifest: its bytes, media type, digest and parsed JSON."""

    raw: bytes
    media_type: str
    digest: str
    document: dict[str, Any] = field(repr=False)

    @property
    def layers(self) -> list[dict[str, Any]]:
        layers = self.document.get("layers")
        return list(layers) if isinstance(layers, list) else []

    @property
    def config(self) -> dict[str, Any]:
        config = self.document.get("config")
        return dict(config) if isinstance(config, Mapping) else {}

    @property
    def annotations(self) -> dict[str, str]:
        annotations = self.document.get("annotations")
        return {str(k): str(v) for k, v in (annotations or {}).items()}


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _check_digest(data: bytes, digest: str, what: str) -> None:
    algo, _, want = digest.partition(":")
    if algo not in ("sha256", "sha384", "sha512"):
        raise OCIProtocolError(f"unsupported digest algorithm in {digest!r} for {what}")
    if hashlib.new(algo, data).hexdigest() != want:
        raise OCIProtocolError(f"{what} does not match its digest {digest}; pull it again")


@dataclass
class _Token:
    value: str
    expires: float


class RegistryClient:
    """Distribution API calls for one set of credentials (see the module docstring)."""

    def __init__(
        self,
        *,
        credentials: Credentials | None = None,
        insecure: bool = False,
        verify: ssl.SSLContext | str | bool = True,
        cert: tuple[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        user_agent: str = "weir-oci/1",
    ) -> None:
        self.credentials = credentials
        self.insecure = insecure
        self._http = httpx.AsyncClient(
            verify=verify,
            cert=cert,
            timeout=timeout,
            follow_redirects=True,
            headers={"User-Agent": user_agent},
        )
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._basic: set[str] = set()

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --------------------------------------------------------------------------- plumbing
    def base_url(self, ref: Reference) -> str:
        scheme = "http" if self.insecure else "https"
        return f"{scheme}://{ref.api_host}/v2/"

    def _url(self, ref: Reference, tail: str) -> str:
        return f"{self.base_url(ref)}{ref.repository}/{tail}"

    @staticmethod
    def _scope(ref: Reference, push: bool) -> str:
        return f"repository:{ref.repository}:{'pull,push' if push else 'pull'}"

    def _auth_header(self, ref: Reference, scope: str) -> dict[str, str]:
        token = self._tokens.get((ref.api_host, scope))
        if token is not None and token.expires > time.monotonic():
            return {"Authorization": f"Bearer {token.value}"}
        if ref.api_host in self._basic and self.credentials is not None:
            return {"Authorization": self.credentials.basic_header()}
        return {}

    async def _fetch_token(self, ref: Reference, params: Mapping[str, str], scope: str) -> None:
        realm = params.get("realm")
        if not realm:
            raise OCIAuthError(f"{ref.api_host} asked for a Bearer token without a realm")
        query = {"service": params.get("service", ""), "scope": params.get("scope") or scope}
        headers = {}
        if self.credentials is not None and (
            self.credentials.username or self.credentials.password
        ):
            headers["Authorization"] = self.credentials.basic_header()
        try:
            resp = await self._http.get(realm, params=query, headers=headers)
        except httpx.HTTPError as e:
            raise OCIAuthError(f"cannot reach the token service {realm}: {e}") from e
        if resp.status_code in (401, 403):
            if "Authorization" not in headers:
                raise OCIAuthError(
                    f"{ref.api_host} needs credentials for {ref.repository}: set spec.secretRef"
                )
            raise OCIAuthError(
                f"the token service of {ref.api_host} refused the credentials "
                f"(HTTP {resp.status_code}): check the secretRef"
            )
        if resp.status_code != 200:
            raise OCIAuthError(f"the token service {realm} answered HTTP {resp.status_code}")
        try:
            body = resp.json()
        except ValueError as e:
            raise OCIAuthError(f"the token service {realm} answered no JSON") from e
        value = body.get("token") or body.get("access_token")
        if not value:
            raise OCIAuthError(f"the token service {realm} answered no token")
        lifetime = float(body.get("expires_in") or 60)
        self._tokens[(ref.api_host, scope)] = _Token(
            str(value), time.monotonic() + max(lifetime - 5, 1)
        )

    async def _send(
        self,
        method: str,
        url: str,
        ref: Reference,
        *,
        push: bool = False,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        scope = self._scope(ref, push)
        for attempt in range(2):
            all_headers = {**(headers or {}), **self._auth_header(ref, scope)}
            request = self._http.build_request(
                method, url, headers=all_headers, content=content, params=params
            )
            try:
                resp = await self._http.send(request, stream=stream)
            except httpx.HTTPError as e:
                raise OCIError(f"{method} {url} failed: {e}; check the URL and `insecure`") from e
            if resp.status_code != 401 or attempt == 1:
                return resp
            challenge = parse_challenge(resp.headers.get("www-authenticate", ""))
            await resp.aclose()
            if challenge is None:
                raise OCIAuthError(f"{ref.api_host} answered 401 without a challenge")
            if challenge.scheme == "basic":
                if self.credentials is None:
                    raise OCIAuthError(f"{ref.api_host} needs credentials: set spec.secretRef")
                self._basic.add(ref.api_host)
            elif challenge.scheme == "bearer":
                await self._fetch_token(ref, challenge.params, scope)
            else:
                raise OCIAuthError(f"{ref.api_host} asks for unsupported auth {challenge.scheme}")
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    async def _raise_for(resp: httpx.Response, what: str) -> None:
        if resp.status_code < 300:
            return
        body = (await resp.aread()).decode(errors="replace")[:500]
        await resp.aclose()
        if resp.status_code == 404:
            raise OCINotFoundError(f"{what} not found (HTTP 404): check the repository and ref")
        if resp.status_code in (401, 403):
            raise OCIAuthError(
                f"{what}: access denied (HTTP {resp.status_code}); check spec.secretRef: {body}"
            )
        raise OCIProtocolError(f"{what}: HTTP {resp.status_code}: {body}")

    # ---------------------------------------------------------------------------- reads
    async def ping(self, ref: Reference) -> None:
        """``GET /v2/`` (authenticating if the registry asks); raises on failure."""
        resp = await self._send("GET", self.base_url(ref), ref)
        await self._raise_for(resp, f"registry {ref.api_host}")

    async def list_tags(self, ref: Reference, page_size: int = 1000) -> list[str]:
        """Every tag of the repository (following ``Link`` pagination)."""
        tags: list[str] = []
        url: str | None = self._url(ref, "tags/list")
        params: dict[str, str] | None = {"n": str(page_size)}
        while url:
            resp = await self._send("GET", url, ref, params=params)
            await self._raise_for(resp, f"tags of {ref.name}")
            body = resp.json()
            tags.extend(str(t) for t in body.get("tags") or [])
            link = resp.headers.get("link", "")
            url, params = None, None
            if 'rel="next"' in link:
                target = link.split(";", 1)[0].strip().strip("<>")
                url = urljoin(self.base_url(ref), target)
        return tags

    async def get_manifest(
        self, ref: Reference, accept: tuple[str, ...] = MANIFEST_TYPES
    ) -> Manifest:
        """The manifest at ``ref.ref`` (a digest is verified against the bytes)."""
        resp = await self._send(
            "GET",
            self._url(ref, f"manifests/{ref.ref}"),
            ref,
            headers={"Accept": ", ".join(accept)},
        )
        await self._raise_for(resp, f"manifest {ref}")
        raw = resp.content
        if len(raw) > MAX_MANIFEST_SIZE:
            raise OCIProtocolError(f"manifest {ref} is larger than {MAX_MANIFEST_SIZE} bytes")
        digest = ref.digest or resp.headers.get("docker-content-digest") or sha256_digest(raw)
        _check_digest(raw, digest, f"manifest {ref}")
        try:
            document = json.loads(raw)
        except ValueError as e:
            raise OCIProtocolError(f"manifest {ref} is not JSON: {e}") from e
        media_type = str(
            document.get("mediaType") or resp.headers.get("content-type", "").split(";")[0]
        )
        return Manifest(raw, media_type, digest, document)

    async def resolve(self, ref: Reference) -> str:
        """The manifest digest ``ref`` points at (a ``HEAD`` request)."""
        resp = await self._send(
            "HEAD",
            self._url(ref, f"manifests/{ref.ref}"),
            ref,
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        await self._raise_for(resp, f"manifest {ref}")
        digest = resp.headers.get("docker-content-digest")
        if digest:
            return str(digest)
        return (await self.get_manifest(ref)).digest

    async def get_blob(
        self, ref: Reference, digest: str, max_size: int = MAX_MANIFEST_SIZE
    ) -> bytes:
        """A small blob (a config) in memory, verified."""
        resp = await self._send("GET", self._url(ref, f"blobs/{digest}"), ref)
        await self._raise_for(resp, f"blob {digest} of {ref.name}")
        data = resp.content
        if len(data) > max_size:
            raise OCIProtocolError(f"blob {digest} is larger than {max_size} bytes")
        _check_digest(data, digest, f"blob {digest}")
        return data

    async def download_blob(
        self,
        ref: Reference,
        digest: str,
        dest: str | os.PathLike[str],
        *,
        max_size: int = DEFAULT_MAX_BLOB_SIZE,
    ) -> int:
        """Stream a blob into ``dest``, verifying its digest; returns its size."""
        algo, _, want = digest.partition(":")
        if algo not in ("sha256", "sha384", "sha512"):
            raise OCIProtocolError(f"unsupported digest algorithm in {digest!r}")
        hasher = hashlib.new(algo)
        size = 0
        resp = await self._send("GET", self._url(ref, f"blobs/{digest}"), ref, stream=True)
        try:
            await self._raise_for(resp, f"blob {digest} of {ref.name}")
            with open(dest, "wb") as out:  # noqa: ASYNC230 - a private temporary file
                async for chunk in resp.aiter_bytes(_CHUNK):
                    size += len(chunk)
                    if size > max_size:
                        raise OCIProtocolError(
                            f"blob {digest} is larger than {max_size} bytes; refusing it"
                        )
                    hasher.update(chunk)
                    out.write(chunk)
        finally:
            await resp.aclose()
        if hasher.hexdigest() != want:
            await asyncio.to_thread(Path(dest).unlink, True)
            raise OCIProtocolError(f"blob {digest} does not match its digest; pull it again")
        return size

    # --------------------------------------------------------------------------- writes
    async def blob_exists(self, ref: Reference, digest: str) -> bool:
        resp = await self._send("HEAD", self._url(ref, f"blobs/{digest}"), ref, push=True)
        await resp.aclose()
        return resp.status_code == 200

    async def push_blob(self, ref: Reference, data: bytes, digest: str | None = None) -> str:
        """Upload ``data`` (one monolithic PUT) unless the registry has it; returns its digest."""
        digest = digest or sha256_digest(data)
        if await self.blob_exists(ref, digest):
            return digest
        resp = await self._send("POST", self._url(ref, "blobs/uploads/"), ref, push=True)
        await self._raise_for(resp, f"starting an upload to {ref.name}")
        location = resp.headers.get("location")
        if not location:
            raise OCIProtocolError(f"{ref.api_host} started an upload without a Location")
        upload = urljoin(self.base_url(ref), location)
        sep = "&" if "?" in upload else "?"
        resp = await self._send(
            "PUT",
            f"{upload}{sep}digest={digest}",
            ref,
            push=True,
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        await self._raise_for(resp, f"uploading blob {digest} to {ref.name}")
        return digest

    async def put_manifest(self, ref: Reference, raw: bytes, media_type: str = OCI_MANIFEST) -> str:
        """Store a manifest under ``ref.ref`` (a tag or its digest); returns its digest."""
        resp = await self._send(
            "PUT",
            self._url(ref, f"manifests/{ref.ref}"),
            ref,
            push=True,
            content=raw,
            headers={"Content-Type": media_type},
        )
        await self._raise_for(resp, f"pushing manifest {ref}")
        return resp.headers.get("docker-content-digest") or sha256_digest(raw)
