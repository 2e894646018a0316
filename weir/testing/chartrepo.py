"""A real Helm chart repository for tests and demos: chart archives plus an ``index.yaml``
served over HTTP(S) on 127.0.0.1, optionally behind Basic auth.

Charts are packaged the way ``helm package`` lays them out (``<name>/Chart.yaml``,
``<name>/templates/...`` in a gzipped tar), and the index lists every version with its
``digest`` (sha256 of the archive), ``created`` time and a relative URL::

    with ChartRepoServer(basic_auth=("u", "p")) as repo:
        repo.add_chart(write_chart(tmp_path / "podinfo", "podinfo", "6.5.3"))
        ... fetch_index(repo.url, RepoAuth(username="u", password="p")) ...

Every request is recorded in ``repo.requests`` (method, path, status, authorized).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import io
import os
import tarfile
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from weir.testing.certs import TLSMaterial

DEFAULT_TEMPLATES = {
    "configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\n"
        "data:\n  message: {{ .Values.message | quote }}\n"
    ),
}


def write_chart(
    directory: str | os.PathLike[str],
    name: str,
    version: str,
    *,
    app_version: str = "1.0.0",
    values: Mapping[str, Any] | None = None,
    templates: Mapping[str, str] | None = None,
    crds: Mapping[str, str] | None = None,
    extra_files: Mapping[str, str] | None = None,
) -> Path:
    """Write a chart directory (Chart.yaml, values.yaml, templates/, crds/) and return it."""
    root = Path(directory)
    (root / "templates").mkdir(parents=True, exist_ok=True)
    chart_yaml = {"apiVersion": "v2", "name": name, "version": version, "appVersion": app_version}
    (root / "Chart.yaml").write_text(yaml.safe_dump(chart_yaml, sort_keys=False))
    (root / "values.yaml").write_text(
        yaml.safe_dump(dict(values) if values is not None else {"message": "hello"})
    )
    for file, text in (templates if templates is not None else DEFAULT_TEMPLATES).items():
        (root / "templates" / file).write_text(text)
    for file, text in (crds or {}).items():
        (root / "crds").mkdir(exist_ok=True)
        (root / "crds" / file).write_text(text)
    for file, text in (extra_files or {}).items():
        path = root / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def package_chart(directory: str | os.PathLike[str]) -> tuple[bytes, dict[str, Any]]:
    """A chart directory as ``helm package`` lays it out: (archive bytes, Chart.yaml dict)."""
    root = Path(directory)
    meta = yaml.safe_load((root / "Chart.yaml").read_text())
    name = str(meta["name"])
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(root.rglob("*")):
            if not path.is_file():
                continue
            data = path.read_bytes()
            info = tarfile.TarInfo(f"{name}/{path.relative_to(root).as_posix()}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0), meta


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    status: int
    authorized: bool


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _authorized(self) -> bool:
        auth = self.server.owner.basic_auth
        if auth is None:
            return True
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, auth[0]) and hmac.compare_digest(password, auth[1])

    def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="charts"')
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        owner = self.server.owner
        path = unquote(urlsplit(self.path).path)
        authorized = self._authorized()
        status = 200
        if not authorized:
            status = 401
            self._reply(401, b"unauthorized\n")
        else:
            rel = path.removeprefix(owner.prefix).lstrip("/")
            file = (owner.root / rel).resolve()
            if not rel or owner.root.resolve() not in file.parents or not file.is_file():
                status = 404
                self._reply(404, b"not found\n")
            else:
                kind = "application/x-yaml" if file.suffix == ".yaml" else "application/gzip"
                self._reply(200, file.read_bytes(), kind)
        with owner.lock:
            owner.requests.append(RequestRecord(self.command, path, status, authorized))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ChartRepoServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: clients that drop the connection (a refused TLS handshake) are expected."""


class ChartRepoServer:
    """A Helm HTTP repository on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        basic_auth: tuple[str, str] | None = None,
        tls: TLSMaterial | None = None,
        prefix: str = "/charts",
    ) -> None:
        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="weir-charts-")
        self.root = Path(root) if root else Path(self._tmp.name)  # type: ignore[union-attr]
        self.root.mkdir(parents=True, exist_ok=True)
        self.basic_auth = basic_auth
        self.tls = tls
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.requests: list[RequestRecord] = []
        self.lock = threading.Lock()
        self.entries: dict[str, list[dict[str, Any]]] = {}
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the chart repository is not started")
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}{self.prefix}"

    def add_chart(
        self, chart_dir: str | os.PathLike[str], *, created: str | None = None
    ) -> dict[str, Any]:
        """Package ``chart_dir`` into the repository and rewrite ``index.yaml``; returns the
        index entry."""
        data, meta = package_chart(chart_dir)
        return self.add_archive(data, meta, created=created)

    def add_archive(
        self, data: bytes, meta: Mapping[str, Any], *, created: str | None = None
    ) -> dict[str, Any]:
        """Add an already packaged chart."""
        name, version = str(meta["name"]), str(meta["version"])
        file = f"{name}-{version}.tgz"
        (self.root / file).write_bytes(data)
        entry = {
            **{k: v for k, v in meta.items() if k not in ("name", "version")},
            "name": name,
            "version": version,
            "created": created or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "digest": hashlib.sha256(data).hexdigest(),
            "urls": [file],
        }
        versions = [e for e in self.entries.get(name, []) if e["version"] != version]
        self.entries[name] = [entry, *versions]
        self.write_index()
        return entry

    def write_index(self) -> Path:
        index = {
            "apiVersion": "v1",
            "entries": self.entries,
            "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        path = self.root / "index.yaml"
        path.write_text(yaml.safe_dump(index, sort_keys=True))
        return path

    def start(self) -> ChartRepoServer:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        if self.tls is not None:
            httpd.socket = self.tls.server_context().wrap_socket(
                httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self._httpd = httpd
        if not (self.root / "index.yaml").exists():
            self.write_index()
        self._thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> ChartRepoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
