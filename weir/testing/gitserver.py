"""A real Git HTTP(S) server for tests and demos: ``git http-backend`` (the CGI shipped with git)
behind a small threaded HTTP handler, bound to 127.0.0.1.

- optional Basic (``basic_auth=(user, password)``) or Bearer (``bearer_token=...``) auth;
- optional TLS (``tls=make_tls()``), with the CA in ``server.ca_pem`` for clients;
- pushes enabled (``http.receivepack``), protocol v2 (the ``Git-Protocol`` header is passed on);
- every request is recorded in ``server.requests`` so that tests can count, e.g., how many
  ``git-upload-pack`` POSTs (object downloads) a fetch made.

It runs in a background thread, so synchronous and asynchronous callers alike can use it::

    with GitHttpServer(tmp_path) as server:
        repo = server.create_repo("app.git")
        repo.commit({"a.yaml": "x: 1\\n"})
        ... git clone {repo.url} ...

``python -m weir.testing.gitserver --root DIR [--port N]`` serves a directory of bare
repositories until interrupted.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hmac
import os
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from weir.testing.certs import TLSMaterial
from weir.testing.gitrepo import GitRepoFixture, run_git


@dataclass(frozen=True)
class RequestRecord:
    """One HTTP request the server answered."""

    method: str
    path: str
    query: str
    status: int
    authorized: bool
    command: str = ""
    """Protocol v2 command of an upload-pack POST (``ls-refs``, ``fetch``), "" otherwise."""
    response_bytes: int = 0

    @property
    def service(self) -> str:
        """``git-upload-pack`` / ``git-receive-pack`` (from the path or the query), or ""."""
        for svc in ("git-upload-pack", "git-receive-pack"):
            if self.path.endswith("/" + svc) or f"service={svc}" in self.query:
                return svc
        return ""


def _v2_command(body: bytes, encoding: str | None) -> str:
    if encoding == "gzip":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            return ""
    if len(body) > 4 and body[4:12] == b"command=":
        return body[12 : int(body[:4], 16)].decode(errors="replace").strip()
    return ""


def _http_backend() -> str:
    return str(Path(run_git("--exec-path")) / "git-http-backend")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._cgi()

    def do_POST(self) -> None:
        self._cgi()

    def _authorized(self) -> bool:
        owner = self.server.owner
        header = self.headers.get("Authorization", "")
        if owner.bearer_token is not None:
            return hmac.compare_digest(header, f"Bearer {owner.bearer_token}")
        if owner.basic_auth is not None:
            user, password = owner.basic_auth
            want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            return hmac.compare_digest(header, want)
        return True

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _cgi(self) -> None:
        owner = self.server.owner
        parts = urlsplit(self.path)
        body = self._read_body()
        authorized = self._authorized()
        if not authorized:
            owner.record(RequestRecord(self.command, parts.path, parts.query, 401, False))
            self._send(
                401,
                [("WWW-Authenticate", 'Basic realm="weir-test"'), ("Content-Type", "text/plain")],
                b"authentication required\n",
            )
            return
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "GIT_PROJECT_ROOT": str(owner.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "http.receivepack",
            "GIT_CONFIG_VALUE_0": "true",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": unquote(parts.path),
            "QUERY_STRING": parts.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_USER": "weir" if (owner.basic_auth or owner.bearer_token) else "",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "GATEWAY_INTERFACE": "CGI/1.1",
        }
        if proto := self.headers.get("Git-Protocol"):
            env["HTTP_GIT_PROTOCOL"] = proto
        if encoding := self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = encoding
        proc = subprocess.run(
            [owner.backend], input=body, capture_output=True, env=env, check=False
        )
        raw = proc.stdout
        head, sep, payload = raw.partition(b"\r\n\r\n")
        if not sep:
            head, sep, payload = raw.partition(b"\n\n")
        status = 200
        headers: list[tuple[str, str]] = []
        for line in head.decode("latin-1").splitlines():
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.strip().split(" ", 1)[0])
            elif key:
                headers.append((key.strip(), value.strip()))
        if not sep:
            status, headers, payload = 500, [("Content-Type", "text/plain")], proc.stderr
        command = ""
        if self.command == "POST":
            command = _v2_command(body, self.headers.get("Content-Encoding"))
        owner.record(
            RequestRecord(
                self.command, parts.path, parts.query, status, True, command, len(payload)
            )
        )
        self._send(status, headers, payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: GitHttpServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up (or fail TLS) are not the server's problem


class GitHttpServer:
    """Serve the bare repositories under ``root`` at ``http(s)://127.0.0.1:<port>/<name>``."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        basic_auth: tuple[str, str] | None = None,
        bearer_token: str | None = None,
        tls: TLSMaterial | None = None,
        port: int = 0,
    ) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.basic_auth = basic_auth
        self.bearer_token = bearer_token
        self.tls = tls
        self.backend = _http_backend()
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------------- lifecycle
    def start(self) -> GitHttpServer:
        httpd = _Server(("127.0.0.1", self._port), _Handler)
        httpd.owner = self
        if self.tls is not None:
            httpd.socket = self.tls.server_context().wrap_socket(
                httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self._httpd = httpd
        self._port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
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

    def __enter__(self) -> GitHttpServer:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --------------------------------------------------------------------------- info
    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self._port}"

    @property
    def ca_pem(self) -> bytes | None:
        return self.tls.ca_pem if self.tls is not None else None

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def record(self, rec: RequestRecord) -> None:
        with self._lock:
            self.requests.append(rec)

    def requests_for(self, name: str, service: str | None = None) -> list[RequestRecord]:
        """Requests to repository ``name`` (optionally one service), oldest first."""
        prefix = f"/{name}/"
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path.startswith(prefix) and (service is None or r.service == service)
            ]

    def upload_pack_posts(self, name: str) -> int:
        """How many object negotiations/downloads (``POST .../git-upload-pack``) ``name`` had.

        ``git ls-remote`` over protocol v2 makes one such POST (the ``ls-refs`` command) and a
        fetch makes at least one more; protocol v0 ``ls-remote`` makes none.
        """
        return sum(1 for r in self.requests_for(name, "git-upload-pack") if r.method == "POST")

    def fetches(self, name: str) -> int:
        """How many upload-pack POSTs of ``name`` asked for objects (v2 ``fetch``, or any v0
        POST): zero after a ``git ls-remote``, one or more after a fetch or clone."""
        return sum(
            1
            for r in self.requests_for(name, "git-upload-pack")
            if r.method == "POST" and r.command in ("fetch", "")
        )

    # ---------------------------------------------------------------------- repositories
    def create_repo(self, name: str, default_branch: str = "master") -> GitRepoFixture:
        """A new bare repository served at ``url(name)``."""
        return GitRepoFixture.create(self.root / name, self.url(name), default_branch)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weir.testing.gitserver")
    parser.add_argument("--root", required=True, help="directory of bare repositories")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = GitHttpServer(args.root, port=args.port).start()
    print(f"serving {args.root} at {server.base_url}/<repo>", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
