"""Who is using the web UI, and what they may do (ADR 0004).

Three modes (:class:`AuthSettings`):

- ``none`` (the default): no sign-in. Actions run as weir's own identity, and only when the UI
  listens on loopback; beyond loopback the UI is read-only, as the Flux Operator's UI is without
  authentication.
- ``token`` (``--web-users-file``): users sign in with a token listed, as its SHA-256, in a YAML
  file. The browser gets a signed, HttpOnly session cookie; scripts send ``Authorization: Bearer
  <token>``.
- ``proxy`` (``--web-auth-proxy-header``): an authenticating reverse proxy (oauth2-proxy, an
  ingress with external auth) says who the user is in a header, with groups in
  ``X-Forwarded-Groups``. Only for a UI that nothing but the proxy can reach.

When someone is signed in, actions impersonate them (``Impersonate-User`` and
``Impersonate-Group``), so the cluster's RBAC decides and a refusal comes back as the API server
said it; reads are filtered by what they may list (:mod:`weir.auth.rbac`, ADR 0013). The
``anonymous`` and ``oidc`` modes come from the Flux Operator's web config
(:mod:`weir.auth.webconfig`, :mod:`weir.auth.oidc`); :mod:`weir.auth.signin` resolves the
caller whatever the mode.

The users file::

    users:
      - name: alice
        groups: [platform-admins]
        tokenSHA256: 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from weir.auth.webconfig import WebConfig, load_web_config
from weir.errors import ConfigError, UsageError

AuthMode = Literal["none", "token", "proxy", "anonymous", "oidc"]
COOKIE = "weir_session"
GROUPS_HEADER = "X-Forwarded-Groups"
DEFAULT_SESSION_TTL = 12 * 3600.0
_HEX64 = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Identity:
    """A signed-in user, as the cluster will see them through impersonation."""

    user: str
    groups: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"user": self.user, "groups": list(self.groups)}


@dataclass(frozen=True)
class User:
    """One entry of the users file."""

    name: str
    token_sha256: str
    groups: tuple[str, ...] = ()


def token_digest(token: str) -> str:
    """What the users file stores for ``token``: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def load_users(path: str | Path) -> tuple[User, ...]:
    """Read a users file (see the module docstring); raises :class:`ConfigError` saying what
    is wrong with it."""
    where = str(path)
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except OSError as e:
        raise ConfigError(f"cannot read the web users file {where}: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"the web users file {where} is not valid YAML: {e}") from e
    entries = doc.get("users") if isinstance(doc, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"the web users file {where} needs a non-empty 'users:' list")
    users: list[User] = []
    for i, entry in enumerate(entries):
        at = f"{where}: users[{i}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{at} is not a map with name, groups and tokenSHA256")
        name, digest = entry.get("name"), str(entry.get("tokenSHA256") or "").lower()
        groups = entry.get("groups") or []
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{at} has no name")
        if len(digest) != 64 or not set(digest) <= _HEX64:
            raise ConfigError(
                f"{at} ({name}): tokenSHA256 must be 64 hex digits, e.g. the output of "
                '`printf %s "$TOKEN" | sha256sum`'
            )
        if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
            raise ConfigError(f"{at} ({name}): groups must be a list of names")
        users.append(User(name.strip(), digest, tuple(groups)))
    digests = [u.token_sha256 for u in users]
    if len(set(digests)) != len(digests):
        raise ConfigError(f"the web users file {where} gives two users the same token")
    return tuple(users)


@dataclass(frozen=True)
class AuthSettings:
    """How the UI authenticates (the ``--web-*`` auth flags; see the module docstring)."""

    mode: AuthMode = "none"
    users: tuple[User, ...] = ()
    """``token`` mode: who may sign in."""
    proxy_user_header: str = "X-Forwarded-User"
    """``proxy`` mode: the header with the user name (``--web-auth-proxy-header``)."""
    session_ttl: float = DEFAULT_SESSION_TTL
    """How long a browser session lasts (seconds)."""
    config: WebConfig | None = None
    """``--web-config``: the Flux Operator's web config (``anonymous`` and ``oidc`` modes)."""

    @property
    def user_cache_size(self) -> int:
        """How many users' access and API clients are kept (``userCacheSize``)."""
        auth = self.config.authentication if self.config is not None else None
        return auth.user_cache_size if auth is not None else 100

    @classmethod
    def from_config(cls, config: WebConfig) -> AuthSettings:
        """The mode a web config asks for (none when it has no ``authentication``)."""
        auth = config.authentication
        if auth is None:
            return cls(config=config)
        mode: AuthMode = "anonymous" if auth.type == "Anonymous" else "oidc"
        return cls(mode=mode, session_ttl=auth.session_seconds, config=config)

    @classmethod
    def from_flags(
        cls, users_file: str | None, proxy_header: str | None, web_config: str | None = None
    ) -> AuthSettings:
        given = [
            flag
            for flag, value in (
                ("--web-users-file", users_file),
                ("--web-auth-proxy-header", proxy_header),
                ("--web-config", web_config),
            )
            if value
        ]
        if len(given) > 1:
            raise UsageError(f"{' and '.join(given)} exclude each other: pick one")
        if users_file:
            return cls(mode="token", users=load_users(users_file))
        if proxy_header:
            return cls(mode="proxy", proxy_user_header=proxy_header)
        if web_config:
            return cls.from_config(load_web_config(web_config))
        return cls()


def is_loopback(addr: str) -> bool:
    """Whether ``host:port`` listens on loopback only (``:port`` listens everywhere)."""
    host = addr.rsplit(":", 1)[0].strip("[]") if ":" in addr else addr
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Authenticator:
    """Resolves the identity of a request and issues browser sessions."""

    settings: AuthSettings
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    """Signs session cookies; per process, so a restart signs everyone out."""

    @property
    def enabled(self) -> bool:
        return self.settings.mode != "none"

    def identify(self, headers: Mapping[str, str], cookies: Mapping[str, str]) -> Identity | None:
        """The request's identity (None: anonymous)."""
        mode = self.settings.mode
        if mode == "proxy":
            user = (headers.get(self.settings.proxy_user_header) or "").strip()
            if not user:
                return None
            groups = (headers.get(GROUPS_HEADER) or "").split(",")
            return Identity(user, tuple(g.strip() for g in groups if g.strip()))
        if mode == "token":
            auth = headers.get("authorization") or ""
            scheme, _, token = auth.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return self.login(token.strip())
            return self.verify(cookies.get(COOKIE) or "")
        return None

    def login(self, token: str) -> Identity | None:
        """The user whose token this is (constant-time comparison of the digests)."""
        digest = token_digest(token)
        found = None
        for user in self.settings.users:
            if hmac.compare_digest(user.token_sha256, digest):
                found = Identity(user.name, user.groups)
        return found

    def session(self, identity: Identity, now: float | None = None) -> str:
        """A cookie value for ``identity``: payload and HMAC, both base64url."""
        expires = (now if now is not None else time.time()) + self.settings.session_ttl
        payload = json.dumps({**identity.to_dict(), "exp": int(expires)}, separators=(",", ":"))
        body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def verify(self, value: str, now: float | None = None) -> Identity | None:
        """The identity of a session cookie, if it is ours and not expired."""
        body, _, signature = value.partition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or float(data.get("exp", 0)) < (now or time.time()):
            return None
        user = data.get("user")
        known = {u.name for u in self.settings.users}
        if not isinstance(user, str) or user not in known:  # removed from the file since
            return None
        return Identity(user, tuple(str(g) for g in data.get("groups") or ()))

    def _sign(self, body: str) -> str:
        mac = hmac.new(self.key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def actions_refusal(settings: AuthSettings, addr: str) -> str | None:
    """Why actions are off for a UI with these settings at ``addr`` (None: they are on)."""
    if settings.mode == "none" and not is_loopback(addr):
        return (
            "actions are disabled: the UI listens beyond loopback without authentication; "
            "start it with --web-config, --web-users-file or --web-auth-proxy-header"
        )
    return None
