"""A real S3 server for tests: versitygw (the Versity S3 gateway) over a temporary directory,
bound to 127.0.0.1, with root access and secret keys and optionally TLS.

versitygw speaks the S3 API with SigV4 authentication (an unsigned request gets 403), stores each
bucket as a directory and each object as a file, and is built from the Go module proxy by
``scripts/build-versitygw.sh`` (``make tools``). Buckets and objects are created with boto3, the
AWS SDK, so the fixtures sign requests with the reference SigV4 implementation (weir's Bucket
controller uses the same botocore; versitygw checks signatures with its own code)::

    with S3Server() as s3:
        s3.create_bucket("fleet")
        s3.put_objects("fleet", {"apps/app.yaml": "kind: ConfigMap\\n"})
        ... Bucket(spec.endpoint=s3.endpoint, spec.insecure=True, secretRef -> s3.credentials) ...
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import ssl
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from weir.devcluster.process import free_port
from weir.testing.certs import TLSMaterial
from weir.testing.peers import PeerProcess, peer_binary

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client


def versitygw_binary() -> Path:
    """The cached versitygw binary (``make tools`` builds it)."""
    return peer_binary("versitygw", "VERSITYGW_VERSION", "build-versitygw.sh")


@dataclass(frozen=True)
class S3Credentials:
    """Static keys, as a Flux Bucket's ``secretRef`` Secret carries them."""

    access_key: str
    secret_key: str

    def secret_data(self) -> dict[str, str]:
        """``stringData`` of the Secret a generic-provider Bucket's ``secretRef`` names."""
        return {"accesskey": self.access_key, "secretkey": self.secret_key}


def bucket_name(hint: str = "") -> str:
    """A unique, valid S3 bucket name (lowercase letters, digits and hyphens, <= 63 chars)."""
    stem = re.sub(r"[^a-z0-9-]+", "-", hint.lower()).strip("-")[:40].strip("-")
    return f"{stem or 'bucket'}-{uuid.uuid4().hex[:12]}"


class S3Server:
    """A versitygw process serving ``http(s)://127.0.0.1:<port>`` (use as a context manager)."""

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        credentials: S3Credentials | None = None,
        region: str = "us-east-1",
        tls: TLSMaterial | None = None,
    ) -> None:
        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="weir-s3-")
        self.root = Path(root) if root else Path(self._tmp.name)  # type: ignore[union-attr]
        self.credentials = credentials or S3Credentials(
            access_key="weir" + secrets.token_hex(6), secret_key=secrets.token_urlsafe(24)
        )
        self.region = region
        self.tls = tls
        self.port = 0
        self._process: PeerProcess | None = None
        self._client: S3Client | None = None

    # ----------------------------------------------------------------------- addresses
    @property
    def endpoint(self) -> str:
        """``127.0.0.1:<port>``: a Bucket's ``spec.endpoint`` (with ``insecure: true`` without
        TLS)."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.endpoint}"

    @property
    def ca_pem(self) -> bytes | None:
        """The CA that signed the serving certificate (a Bucket's ``certSecretRef`` ``ca.crt``)."""
        return self.tls.ca_pem if self.tls is not None else None

    @property
    def ca_file(self) -> Path | None:
        return self.root / "ca.crt" if self.tls is not None else None

    # ----------------------------------------------------------------------- lifecycle
    def _ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                if self.tls is not None:
                    ctx = ssl.create_default_context(cadata=self.tls.ca_pem.decode())
                    with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls_sock:
                        tls_sock.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                        return tls_sock.recv(12).startswith(b"HTTP/")
                sock.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return sock.recv(12).startswith(b"HTTP/")
        except OSError:
            return False

    def start(self) -> S3Server:
        binary = versitygw_binary()
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        argv = [str(binary), "--port", self.endpoint, "--region", self.region, "--quiet"]
        if self.tls is not None:
            cert, key = self.root / "tls.crt", self.root / "tls.key"
            cert.write_bytes(self.tls.cert_pem + self.tls.ca_pem)
            key.write_bytes(self.tls.key_pem)
            key.chmod(0o600)
            (self.root / "ca.crt").write_bytes(self.tls.ca_pem)
            argv += ["--cert", str(cert), "--key", str(key)]
        argv += ["posix", str(data)]
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(self.root),
            "ROOT_ACCESS_KEY": self.credentials.access_key,
            "ROOT_SECRET_KEY": self.credentials.secret_key,
        }
        self._process = PeerProcess("versitygw", argv, self.root / "versitygw.log", env=env)
        try:
            self._process.start(self._ready, timeout=30)
        except BaseException:
            self._cleanup()
            raise
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None
        if self._client is not None:
            self._client.close()
            self._client = None
        self._cleanup()

    def _cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------------- client
    def client(self, credentials: S3Credentials | None = None) -> S3Client:
        """A boto3 S3 client for this server (path-style addressing, SigV4)."""
        if credentials is None and self._client is not None:
            return self._client
        creds = credentials or self.credentials
        verify: str | bool = str(self.ca_file) if self.ca_file is not None else True
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=creds.access_key,
            aws_secret_access_key=creds.secret_key,
            region_name=self.region,
            verify=verify,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 2, "mode": "standard"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        if credentials is None:
            self._client = client
        return client

    def create_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a unique name when none is given) and return its name."""
        bucket = name or bucket_name()
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def put_object(
        self,
        bucket: str,
        key: str,
        data: str | bytes,
        *,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """Upload one object; returns its ETag (without quotes)."""
        body = data.encode() if isinstance(data, str) else data
        out = self.client().put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            Metadata=dict(metadata or {}),
        )
        return out["ETag"].strip('"')

    def put_objects(self, bucket: str, objects: Mapping[str, str | bytes]) -> dict[str, str]:
        """Upload several objects (key -> content); returns key -> ETag."""
        return {key: self.put_object(bucket, key, data) for key, data in objects.items()}

    def delete_object(self, bucket: str, key: str) -> None:
        self.client().delete_object(Bucket=bucket, Key=key)

    def get_object(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def list_keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key in ``bucket`` under ``prefix``, sorted (follows continuation tokens)."""
        keys: list[str] = []
        paginator = self.client().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            keys += [obj["Key"] for obj in page.get("Contents", []) if "Key" in obj]
        return sorted(keys)
