"""A real OCI registry for tests: Debian's ``docker-registry`` (CNCF Distribution v2.8) bound to
127.0.0.1, optionally behind token auth served by a small JWT issuer of our own.

The binary is extracted (never installed) by ``scripts/install-registry.sh`` into
``$WEIR_CACHE_DIR/registry/<version>/``; :func:`registry_binary` runs the script when it is
missing.

With ``auth=("user", "password")`` the registry answers 401 with a ``Bearer`` challenge whose
realm is the issuer here; the issuer checks the Basic credentials and signs an ES256 JWT (with
its certificate in ``x5c``) granting the scopes asked for. That is the flow of real registries
(Docker Hub, GHCR, ...), so clients are tested end to end.
"""

from __future__ import annotations

import base64
import datetime
import hmac
import json
import os
import secrets
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from weir.devcluster.process import free_port

SERVICE = "weir-test-registry"
ISSUER = "weir-test-issuer"


def _cache_dir() -> Path:
    return Path(os.environ.get("WEIR_CACHE_DIR") or Path.home() / ".cache" / "weir")


def registry_binary() -> Path:
    """The cached docker-registry binary, extracting it first when missing."""
    found = sorted((_cache_dir() / "registry").glob("*/usr/bin/docker-registry"))
    if found:
        return found[-1]
    script = Path(__file__).resolve().parents[2] / "scripts" / "install-registry.sh"
    if not script.is_file():
        raise RuntimeError(
            "docker-registry is not cached and scripts/install-registry.sh is not next to the "
            "package: run it from a weir checkout"
        )
    out = subprocess.run([str(script)], check=True, capture_output=True, text=True, timeout=600)
    return Path(out.stdout.strip().splitlines()[-1])


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _Issuer:
    """Signs registry tokens with a throw-away EC key and self-signed certificate."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = time.time()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_dt(now - 300))
            .not_valid_after(_dt(now + 2 * 86400))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def token(self, subject: str, scopes: list[str]) -> str:
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) >= 3:
                access.append(
                    {
                        "type": parts[0],
                        "name": ":".join(parts[1:-1]),
                        "actions": parts[-1].split(","),
                    }
                )
        now = int(time.time())
        header = {
            "typ": "JWT",
            "alg": "ES256",
            "x5c": [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()],
        }
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        der = self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return signing_input + "." + _b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def _dt(ts: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC)


class _TokenHandler(BaseHTTPRequestHandler):
    server: _TokenServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        owner = self.server.owner
        owner.token_requests += 1
        header = self.headers.get("Authorization", "")
        ok = False
        if header.startswith("Basic ") and owner.auth is not None:
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, password = "", ""
            ok = hmac.compare_digest(user, owner.auth[0]) and hmac.compare_digest(
                password, owner.auth[1]
            )
        if not ok:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        query = parse_qs(urlsplit(self.path).query)
        token = owner.issuer.token(owner.auth[0] if owner.auth else "", query.get("scope", []))
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _TokenServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: Registry


class Registry:
    """A docker-registry process on 127.0.0.1 (use as a context manager)."""

    def __init__(
        self, root: str | os.PathLike[str] | None = None, *, auth: tuple[str, str] | None = None
    ) -> None:
        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="weir-registry-")
        self.root = Path(root) if root else Path(self._tmp.name)  # type: ignore[union-attr]
        self.auth = auth
        self.issuer = _Issuer()
        self.token_requests = 0
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._token_server: _TokenServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        """``127.0.0.1:<port>``: the registry part of references."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"oci://{self.host}"

    def _config(self) -> str:
        lines = [
            "version: 0.1",
            "log: {level: error, accesslog: {disabled: true}}",
            f"storage: {{filesystem: {{rootdirectory: {self.root / 'data'}}}, "
            "delete: {enabled: true}}",
            f"http: {{addr: '127.0.0.1:{self.port}', secret: {secrets.token_hex(16)}}}",
        ]
        if self.auth is not None and self._token_server is not None:
            bundle = self.root / "token-ca.pem"
            bundle.write_bytes(self.issuer.cert_pem())
            realm = f"http://127.0.0.1:{self._token_server.server_address[1]}/token"
            lines.append(
                f"auth: {{token: {{realm: '{realm}', service: {SERVICE}, issuer: {ISSUER}, "
                f"rootcertbundle: {bundle}}}}}"
            )
        return "\n".join(lines) + "\n"

    def start(self) -> Registry:
        binary = registry_binary()
        self.root.mkdir(parents=True, exist_ok=True)
        if self.auth is not None:
            self._token_server = _TokenServer(("127.0.0.1", 0), _TokenHandler)
            self._token_server.owner = self
            self._thread = threading.Thread(target=self._token_server.serve_forever, daemon=True)
            self._thread.start()
        self.port = free_port()
        config = self.root / "config.yml"
        config.write_text(self._config())
        log = open(self.root / "registry.log", "wb")  # noqa: SIM115 - closed in stop()
        self._log = log
        self._proc = subprocess.Popen(
            [str(binary), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self.stop()
                raise RuntimeError(
                    f"docker-registry exited: {(self.root / 'registry.log').read_text()[-2000:]}"
                )
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1).close()
                return self
            except urllib.error.HTTPError as e:
                if e.code == 401:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("docker-registry did not answer on /v2/ within 20 s")

    def stop(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._proc = None
            self._log.close()
        if self._token_server is not None:
            self._token_server.shutdown()
            self._token_server.server_close()
            self._token_server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Registry:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
