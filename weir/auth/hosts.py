"""DNS-rebinding protection shared by the web UI and the MCP server: which ``Host`` and
``Origin`` headers a front end answers.

The attack: a web page the user visits at ``http://attacker.example:9080`` re-points its DNS name
at ``127.0.0.1``; the browser then treats weir's UI as the attacker's own origin, so the page
can read the fleet and send actions (the ``X-Weir-Request`` header is no obstacle to a
same-origin request). The browser still sends ``Host: attacker.example:9080``, so a server
that answers only the names it is reached by defeats it.

A :class:`HostRule` accepts a ``Host`` header when its name is

- an IP address literal (``127.0.0.1``, ``[::1]``, a pod IP): a page can only have an IP
  origin when it was served from that address, so rebinding needs a name;
- ``localhost``;
- the host name the server was told to listen on (``--web-addr myhost:9080``);
- one of the allowed hosts (``--web-allowed-hosts`` of the UI, ``--allowed-host`` of ``weir
  mcp``): ``name``, ``name:port`` (that port only), ``*.example.com`` (any sub-domain) or ``*``
  (any host: switches the protection off; only behind a proxy that checks ``Host`` itself).

An ``Origin`` header, which browsers send with every unsafe request and every cross-origin
one, must name the origin being requested (the same ``host[:port]`` as ``Host``) or an allowed
host (a proxy may rewrite ``Host``); loopback names and addresses count as allowed. Anything
else gets ``421 Misdirected Request`` (``Host``, as the MCP SDK answers) or ``403`` (``Origin``).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from weir.errors import UsageError
from weir.log import kv

log = logging.getLogger("weir.auth")

LOOPBACK_NAMES = ("localhost",)
_WILDCARD_ADDRESSES = ("", "0.0.0.0", "::")


def split_host(value: str) -> tuple[str, int | None] | None:
    """``name[:port]`` or ``[v6][:port]`` -> (lower-case name without a trailing dot, port);
    None when it is not a host."""
    text = value.strip().lower()
    if not text:
        return None
    port: int | None = None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        name, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                return None
            port = int(rest[1:])
        return (name, port) if _is_ip(name) else None
    if text.count(":") > 1:  # a bare IPv6 address
        return (text, None) if _is_ip(text) else None
    name, sep, port_text = text.partition(":")
    if sep:
        if not port_text.isdigit():
            return None
        port = int(port_text)
    name = name.rstrip(".")
    if not name or any(c in name for c in "/@\\?#% "):
        return None
    return name, port


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _is_loopback(name: str) -> bool:
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class _Pattern:
    name: str
    """A host name, ``*.suffix``, or ``*``."""
    port: int | None

    def matches(self, name: str, port: int | None) -> bool:
        if self.port is not None and port != self.port:
            return False
        if self.name == "*":
            return True
        if self.name.startswith("*."):
            return name.endswith(self.name[1:]) and len(name) > len(self.name) - 1
        return name == self.name


def parse_allowed(values: Iterable[str], flag: str) -> tuple[str, ...]:
    """The allowed hosts of a flag (repeatable, or comma-separated), checked; raises
    :class:`UsageError` naming the bad entry."""
    out: list[str] = []
    for value in values:
        for entry in value.split(","):
            text = entry.strip()
            if not text:
                continue
            if "://" in text or "/" in text:
                raise UsageError(
                    f"{flag}={text}: give a host name (weir.example.com, "
                    "weir.example.com:8443, *.example.com), not a URL"
                )
            if text != "*" and split_host(text.removeprefix("*.")) is None:
                raise UsageError(f"{flag}={text}: not a host name (e.g. weir.example.com)")
            out.append(text.lower())
    return tuple(out)


@dataclass(frozen=True)
class HostRule:
    """Which ``Host`` and ``Origin`` headers a front end answers (see the module docstring)."""

    patterns: tuple[_Pattern, ...]
    any_host: bool = False

    @classmethod
    def for_listener(cls, listen_host: str, allowed: Iterable[str] = ()) -> HostRule:
        """The rule of a server bound to ``listen_host`` with extra ``allowed`` hosts."""
        patterns: list[_Pattern] = [_Pattern(n, None) for n in LOOPBACK_NAMES]
        bound = split_host(listen_host) if listen_host not in _WILDCARD_ADDRESSES else None
        if bound is not None and not _is_ip(bound[0]):
            patterns.append(_Pattern(bound[0], None))
        any_host = False
        for entry in allowed:
            if entry.strip() == "*":
                any_host = True
                continue
            wildcard = entry.startswith("*.")
            found = split_host(entry.removeprefix("*.") if wildcard else entry)
            if found is None:
                raise UsageError(f"allowed host {entry!r} is not a host name")
            name, port = found
            patterns.append(_Pattern(f"*.{name}" if wildcard else name, port))
        return cls(tuple(patterns), any_host)

    def _listed(self, name: str, port: int | None) -> bool:
        return self.any_host or any(p.matches(name, port) for p in self.patterns)

    def host_allowed(self, host: str | None) -> bool:
        """Whether a ``Host`` header names this server."""
        found = split_host(host or "")
        if found is None:
            return False
        name, port = found
        return _is_ip(name) or self._listed(name, port)

    def origin_allowed(self, origin: str, host: str | None) -> bool:
        """Whether an ``Origin`` header is this server's own origin or an allowed one."""
        if self.any_host:
            return True
        parts = urlsplit(origin.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # "null" (sandboxed frames, file: pages) and other schemes
        found = split_host(parts.netloc)
        if found is None:
            return False
        same = split_host(host or "")
        if same is not None and found == same:
            return True
        name, port = found
        return _is_loopback(name) or self._listed(name, port)

    def refusal(self, headers: Headers) -> tuple[int, str] | None:
        """``(status, message)`` when a request must be refused; None when it may proceed."""
        host = headers.get("host")
        if not self.host_allowed(host):
            return 421, (
                f"this server does not answer to the host {host!r}: open it by an address it "
                "listens on, or add the name to the allowed hosts (--web-allowed-hosts for the "
                "web UI, --allowed-host for weir mcp)"
            )
        origin = headers.get("origin")
        if origin is not None and not self.origin_allowed(origin, host):
            return 403, (
                f"cross-origin request from {origin!r} refused: only pages of this server (or of "
                "an allowed host) may call it"
            )
        return None


class HostGate:
    """ASGI middleware refusing HTTP requests whose ``Host`` or ``Origin`` the rule does not
    accept, with a JSON ``{"error": ..., "status": ...}`` body."""

    def __init__(self, app: ASGIApp, rule: HostRule, component: str) -> None:
        self.app = app
        self.rule = rule
        self.component = component

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refused = self.rule.refusal(Headers(scope=scope))
        if refused is None:
            await self.app(scope, receive, send)
            return
        status, message = refused
        log.warning(
            "request refused (DNS-rebinding protection)",
            extra=kv(
                component=self.component,
                status=status,
                host=Headers(scope=scope).get("host"),
                path=str(scope.get("path", "")),
            ),
        )
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = orjson.dumps({"error": message, "status": status})
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
