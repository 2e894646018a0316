"""A loopback HTTP sink: records every request it receives (webhooks from Gitea, notification
payloads, OAuth2 redirects) so that tests can wait for one and inspect it::

    with HttpSink() as sink:
        gitea.create_webhook(repo, sink.url("/hook"))
        repo.commit({"a": "1"})
        delivery = sink.wait_for(lambda r: r.headers.get("X-Gitea-Event") == "push")
        assert delivery.json()["after"] == sha

It answers ``status`` (200 by default) with an empty body to every method, and binds 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class SinkRequest:
    """One request the sink received."""

    method: str
    path: str
    """The path without the query string."""
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Header names as sent (lookups are case-sensitive: use :meth:`header`)."""
    body: bytes = b""
    received_at: float = field(default_factory=time.time)

    def header(self, name: str, default: str = "") -> str:
        """A header's value, matching the name case-insensitively."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), default)

    def json(self) -> Any:
        return json.loads(self.body)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        owner = self.server.owner
        owner.add(
            SinkRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers=dict(self.headers.items()),
                body=body,
            )
        )
        self.send_response(owner.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _record


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: HttpSink


class HttpSink:
    """Record the requests sent to ``http://127.0.0.1:<port>/...``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self._requests: list[SinkRequest] = []
        self._cond = threading.Condition()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> HttpSink:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
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

    def __enter__(self) -> HttpSink:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the sink is not started")
        return int(self._httpd.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, request: SinkRequest) -> None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()

    @property
    def requests(self) -> list[SinkRequest]:
        """Every request so far, oldest first."""
        with self._cond:
            return list(self._requests)

    def wait_for(
        self, predicate: Callable[[SinkRequest], bool] = lambda _r: True, timeout: float = 30.0
    ) -> SinkRequest:
        """The first request (received before or after the call) that matches ``predicate``;
        ``TimeoutError`` naming what did arrive when none does within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for request in self._requests:
                    if predicate(request):
                        return request
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [f"{r.method} {r.path}" for r in self._requests]
                    raise TimeoutError(
                        f"no matching request within {timeout:.0f} s; received: {seen or 'none'}"
                    )
                self._cond.wait(left)
