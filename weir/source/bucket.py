"""The Bucket reconciler: the objects of an S3(-compatible) bucket become an artifact.

The run is the source skeleton (:mod:`weir.source.skeleton`) over the typed spec, as
source-controller does it:

1. read the credentials (``spec.secretRef``: ``accesskey`` and ``secretkey``), the TLS
   material (``spec.certSecretRef``: ``ca.crt``, ``tls.crt``/``tls.key``) and the proxy
   (``spec.proxySecretRef``: ``address``, ``username``, ``password``);
2. confirm the bucket exists, read its root ``.sourceignore`` object, and list the objects
   under ``spec.prefix``: the **index** maps each key (except keys ending in ``/``, the
   ``.sourceignore`` itself and keys the ignore rules exclude) to its ETag;
3. the revision is ``sha256:<hex>`` of the index written as ``"<key> <etag>\\n"`` lines in key
   order (source-controller's ``index.Digester``); if that revision is stored, stop;
4. otherwise download every indexed object (an object changed since the listing updates its
   ETag, one deleted since leaves the index) and archive them as ``<hex>.tar.gz``, the keys
   as paths (the prefix included).

Ignore rules: source-controller's code matches keys against the root ``.sourceignore`` and
``spec.ignore`` only, with no default exclusions (its documentation says otherwise; weir
follows the code, so the revision is the one Flux computes).

Providers: ``generic`` and ``aws`` with static keys speak S3 with SigV4 (:mod:`weir.source.s3`).
``aws`` without keys (IAM, workload identity), ``gcp``, ``azure``, ``spec.sts`` and
``spec.serviceAccountName`` stall with a message saying so.

Bounds (the consumers refuse bigger artifacts anyway): at most
:data:`~weir.artifact.tarball.DEFAULT_MAX_FILES` objects and
:data:`~weir.artifact.tarball.DEFAULT_MAX_SIZE` bytes; keys that would leave the artifact
(``../x``, ``/x``) are left out of the index with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import posixpath
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from kubernetes_asyncio.client import ApiClient

from weir.api.source import BucketSpec
from weir.artifact.tarball import DEFAULT_MAX_FILES, DEFAULT_MAX_SIZE
from weir.log import kv
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.source.ignore import IGNORE_FILE, IgnoreRules, parse_patterns
from weir.source.s3 import BucketError, ObjectNotFoundError, S3Client, S3Settings
from weir.source.skeleton import (
    SourceReconciler,
    SourceRun,
    fetch_failed,
    mark_stored,
    read_secret_data,
    source_timeout,
)
from weir.source.storage import Artifact, Storage
from weir.types import Obj

log = logging.getLogger("weir.source.bucket")

KIND = "Bucket"
STORAGE_KIND = "bucket"
AUTHENTICATION_FAILED = "AuthenticationFailed"
DOWNLOADS_PER_BUCKET = 16


def index_revision(index: Mapping[str, str]) -> str:
    """``sha256:<hex>`` of ``"<key> <etag>\\n"`` lines in key order (Go's ``sort.Strings``:
    byte order, which for UTF-8 is code point order, Python's ``sorted``)."""
    digest = hashlib.sha256()
    for key in sorted(index):
        digest.update(f"{key} {index[key]}\n".encode())
    return f"sha256:{digest.hexdigest()}"


def safe_key_path(key: str) -> str | None:
    """The path a key takes in the artifact (Go's ``filepath.Join`` cleaning), or None when it
    would leave the artifact root or name no file."""
    if not key or "\x00" in key or key.startswith("/"):
        return None
    clean = posixpath.normpath(key)
    if clean in (".", "..") or clean.startswith("../"):
        return None
    return clean


@dataclass
class _Index:
    """What :meth:`BucketReconciler.resolve` found: key -> ETag (and sizes)."""

    objects: dict[str, str]
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def revision(self) -> str:
        return index_revision(self.objects)


@dataclass
class _Session:
    client: S3Client
    bucket: str
    timeout: float


class BucketReconciler(SourceReconciler[BucketSpec, _Index]):
    """Reconciles ``source.toolkit.fluxcd.io/v1`` Buckets (see the module docstring)."""

    kind = KIND
    storage_kind = STORAGE_KIND
    spec_model = BucketSpec

    def __init__(
        self,
        api: ApiClient,
        storage: Storage,
        *,
        max_files: int = DEFAULT_MAX_FILES,
        max_size: int = DEFAULT_MAX_SIZE,
    ) -> None:
        super().__init__(api, storage)
        self.max_files = max_files
        self.max_size = max_size

    # ---------------------------------------------------------------------- checks
    def precheck(self, spec: Obj) -> None:
        provider = spec.get("provider") or "generic"
        if provider in ("gcp", "azure"):
            raise Stalled(
                "ProviderNotSupported",
                f"provider '{provider}' is not supported by weir: its API is not S3; serve the "
                "bucket through an S3-compatible endpoint (provider 'generic') or use a "
                "GitRepository or OCIRepository",
            )
        if spec.get("sts"):
            raise Stalled(
                "InvalidSTSConfiguration",
                "spec.sts (temporary credentials from a Security Token Service) is not "
                "supported by weir: give static keys in spec.secretRef instead",
            )
        if spec.get("serviceAccountName"):
            raise Stalled(
                "ProviderNotSupported",
                "spec.serviceAccountName (workload identity) is not supported by weir: give "
                "static keys in spec.secretRef instead",
            )
        if provider == "aws" and not spec.get("secretRef"):
            raise Stalled(
                "ProviderNotSupported",
                "provider 'aws' without spec.secretRef (IAM or workload identity credentials) "
                "is not supported by weir: give static keys (accesskey, secretkey) in "
                "spec.secretRef",
            )
        endpoint = str(spec.get("endpoint") or "")
        if "://" in endpoint:
            scheme = endpoint.split("://", 1)[0]
            if scheme not in ("http", "https") or "/" in endpoint.split("://", 1)[1].rstrip("/"):
                raise Stalled(
                    "URLInvalid",
                    f"invalid spec.endpoint {endpoint!r}: use host[:port], with spec.insecure "
                    "for plain HTTP",
                )
            if scheme == "http" and not spec.get("insecure"):
                raise Stalled(
                    "InsecureConnectionsDisallowed",
                    f"spec.endpoint {endpoint!r} is plain HTTP: set spec.insecure to allow it",
                )

    # --------------------------------------------------------------------- session
    @contextlib.asynccontextmanager
    async def session(self, run: SourceRun[BucketSpec]) -> AsyncIterator[None]:
        spec = run.spec
        access_key = secret_key = None
        if spec.secret_ref is not None:
            data = await read_secret_data(self.api, run.namespace, spec.secret_ref.name)
            if "accesskey" not in data or "secretkey" not in data:
                raise ReconcileError(
                    AUTHENTICATION_FAILED,
                    f"invalid '{spec.secret_ref.name}' secret data: required fields "
                    "'accesskey' and 'secretkey'",
                )
            access_key = data["accesskey"].decode().strip()
            secret_key = data["secretkey"].decode().strip()
        proxy = await self._proxy(run)
        tmp = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="weir-bucket-tls-"))
        try:
            tls = await self._tls_files(run, tmp)
            endpoint = spec.endpoint.split("://", 1)[-1].rstrip("/")
            settings = S3Settings(
                endpoint=endpoint,
                insecure=bool(spec.insecure) or spec.endpoint.startswith("http://"),
                region=spec.region or None,
                access_key=access_key,
                secret_key=secret_key,
                proxy=proxy,
                timeout=source_timeout(run.raw_spec),
                **tls,
            )
            try:
                client = await S3Client(settings).__aenter__()
            except BucketError as e:
                raise fetch_failed(run.obj, e) from e
            try:
                run.client = _Session(client, spec.bucket_name, settings.timeout)
                yield
            finally:
                await client.__aexit__(None, None, None)
        finally:
            await asyncio.to_thread(shutil.rmtree, tmp, True)

    async def _tls_files(self, run: SourceRun[BucketSpec], tmp: Path) -> dict[str, str]:
        ref = run.spec.cert_secret_ref
        if ref is None:
            return {}
        data = await read_secret_data(self.api, run.namespace, ref.name, "spec.certSecretRef")
        ca = data.get("ca.crt") or data.get("caFile")
        cert = data.get("tls.crt") or data.get("certFile")
        key = data.get("tls.key") or data.get("keyFile")
        if (cert is None) != (key is None):
            raise ReconcileError(
                AUTHENTICATION_FAILED,
                f"invalid '{ref.name}' TLS secret: 'tls.crt' and 'tls.key' must be given together",
            )
        if ca is None and cert is None:
            raise ReconcileError(
                AUTHENTICATION_FAILED,
                f"certificate secret '{ref.name}' does not contain any TLS configuration: "
                "give 'ca.crt' and/or 'tls.crt' with 'tls.key'",
            )
        files: dict[str, str] = {}
        for name, content, option in (
            ("ca.crt", ca, "ca_file"),
            ("tls.crt", cert, "cert_file"),
            ("tls.key", key, "key_file"),
        ):
            if content is not None:
                path = tmp / name
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(content)
                files[option] = str(path)
        return files

    async def _proxy(self, run: SourceRun[BucketSpec]) -> str | None:
        ref = run.spec.proxy_secret_ref
        if ref is None:
            return None
        data = await read_secret_data(self.api, run.namespace, ref.name, "spec.proxySecretRef")
        address = data.get("address")
        if not address:
            raise ReconcileError(
                AUTHENTICATION_FAILED,
                f"invalid proxy secret '{run.namespace}/{ref.name}': key 'address' is missing",
            )
        parts = urlsplit(address.decode().strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ReconcileError(
                AUTHENTICATION_FAILED,
                f"invalid proxy secret '{run.namespace}/{ref.name}': 'address' must be an "
                "http:// or https:// URL",
            )
        user, password = data.get("username"), data.get("password")
        if user is None and password is None:
            return urlunsplit(parts)
        auth = (
            quote((user or b"").decode(), safe="")
            + ":"
            + quote((password or b"").decode(), safe="")
        )
        netloc = f"{auth}@{parts.netloc.rsplit('@', 1)[-1]}"
        return urlunsplit(parts._replace(netloc=netloc))

    # ---------------------------------------------------------------------- the run
    async def resolve(self, run: SourceRun[BucketSpec]) -> _Index:
        session: _Session = run.client
        try:
            async with asyncio.timeout(session.timeout):
                return await self._index(run, session)
        except TimeoutError as e:
            raise BucketError(
                f"indexation of objects from bucket '{session.bucket}' timed out after "
                f"{session.timeout:g}s; raise spec.timeout"
            ) from e

    async def _index(self, run: SourceRun[BucketSpec], session: _Session) -> _Index:
        client, bucket = session.client, session.bucket
        if not await client.bucket_exists(bucket):
            raise BucketError(f"bucket '{bucket}' not found")
        patterns = []
        tmp = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="weir-bucket-"))
        try:
            target = tmp / IGNORE_FILE
            try:
                await client.download(bucket, IGNORE_FILE, target, limit=1 << 20)
                text = await asyncio.to_thread(target.read_text, "utf-8", "replace")
                patterns += parse_patterns(text)
            except ObjectNotFoundError:
                pass
        finally:
            await asyncio.to_thread(shutil.rmtree, tmp, True)
        if run.spec.ignore is not None:
            patterns += parse_patterns(run.spec.ignore)
        rules = IgnoreRules(patterns)
        index = _Index({})
        for key, etag, size in await client.list_objects(bucket, run.spec.prefix or ""):
            if key.endswith("/") or key == IGNORE_FILE or rules.ignored(key.split("/")):
                continue
            if safe_key_path(key) is None:
                log.warning(
                    "object key leaves the artifact; skipping it",
                    extra=kv(kind=KIND, namespace=run.namespace, name=run.name, key=key),
                )
                continue
            index.objects[key] = etag
            index.sizes[key] = size
        if len(index.objects) > self.max_files:
            raise BucketError(
                f"bucket '{bucket}' has {len(index.objects)} objects to fetch, more than the "
                f"{self.max_files} an artifact may hold; narrow it with spec.prefix or "
                "spec.ignore",
                retryable=False,
            )
        total = sum(index.sizes.values())
        if total > self.max_size:
            raise BucketError(
                f"the objects of bucket '{bucket}' add up to {total} bytes, more than the "
                f"{self.max_size} an artifact may hold; narrow them with spec.prefix or "
                "spec.ignore",
                retryable=False,
            )
        return index

    def revision_of(self, fetched: _Index) -> str:
        return fetched.revision

    async def store(self, run: SourceRun[BucketSpec], fetched: _Index) -> Artifact:
        session: _Session = run.client
        work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="weir-bucket-"))
        try:
            try:
                async with asyncio.timeout(session.timeout):
                    await self._fetch_all(session, fetched, work)
            except TimeoutError as e:
                raise BucketError(
                    f"fetch from bucket '{session.bucket}' timed out after "
                    f"{session.timeout:g}s; raise spec.timeout"
                ) from e
            revision = fetched.revision
            return await self.storage.archive(
                work,
                kind=STORAGE_KIND,
                namespace=run.namespace,
                name=run.name,
                revision=revision,
                filename=f"{revision.split(':', 1)[1]}.tar.gz",
            )
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

    async def _fetch_all(self, session: _Session, index: _Index, work: Path) -> None:
        """Download every indexed object into ``work`` (bounded concurrency); an object that
        changed since the listing takes its new ETag, one that disappeared leaves the index."""
        gate = asyncio.Semaphore(DOWNLOADS_PER_BUCKET)
        budget = [self.max_size]

        async def one(key: str) -> None:
            rel = safe_key_path(key)
            assert rel is not None
            target = work / rel
            async with gate:
                try:
                    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
                    etag, size = await session.client.download(
                        session.bucket, key, target, limit=budget[0]
                    )
                except ObjectNotFoundError:
                    log.info(
                        "indexed object disappeared from the bucket",
                        extra=kv(bucket=session.bucket, key=key),
                    )
                    index.objects.pop(key, None)
                    return
                except (NotADirectoryError, IsADirectoryError, FileExistsError) as e:
                    raise BucketError(
                        f"object '{key}' of bucket '{session.bucket}' cannot be stored: another "
                        "key uses its path as a directory (or the reverse)",
                        retryable=False,
                    ) from e
            budget[0] -= size
            if etag and etag != index.objects.get(key):
                index.objects[key] = etag

        tasks = [asyncio.create_task(one(key)) for key in sorted(index.objects)]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def observe(self, run: SourceRun[BucketSpec], fetched: _Index) -> None:
        if run.spec.ignore is None:
            run.status.pop("observedIgnore", None)
        else:
            run.status["observedIgnore"] = run.spec.ignore

    def stored(self, run: SourceRun[BucketSpec], revision: str) -> Result:
        # Flux's status.url is a latest.tar.gz symlink; weir's artifact server serves no
        # symlinks, so it is the artifact's own URL
        artifact = run.status.get("artifact") or {}
        if artifact.get("url"):
            run.status["url"] = artifact["url"]
        message = f"stored artifact for revision '{revision}'"
        mark_stored(run.obj, message)
        return Result.success(message, revision=revision)
