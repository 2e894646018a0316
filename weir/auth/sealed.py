"""Stateless encrypted cookies: the browser holds the session, sealed so that it can neither
read nor change it, and any weir process with the same key can open it (no session store, and
a restart or a second replica signs nobody out).

- **Sealing**: AES-256-GCM with a random 96-bit nonce; the cookie's name is the associated
  data, so a value cannot be moved to another cookie. The key is derived by HKDF-SHA256 from a
  secret both sides share (the OIDC client secret) and a purpose label.
- **Expiry**: the payload carries ``exp`` (seconds since the epoch), checked on opening.
- **Chunks**: browsers keep about 4 KiB per cookie; a longer value is split into ``<name>``,
  ``<name>.1``, ``<name>.2``, ... and joined again on reading. Clearing deletes every chunk.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CHUNK = 3800
"""Characters of one cookie value (a cookie's name, value and attributes stay under 4096)."""
MAX_CHUNKS = 8
_NONCE = 12


def derive_key(secret: str | bytes, purpose: str) -> bytes:
    """A 256-bit key for ``purpose`` from ``secret`` (HKDF-SHA256, no salt)."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"weir/{purpose}".encode()
    ).derive(raw)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SetCookie:
    """One ``Set-Cookie`` to send: a value, or a deletion (``value`` None)."""

    name: str
    value: str | None
    max_age: int = 0


class Sealer:
    """Seals and opens payloads (JSON objects) under one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the sealing key must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)

    def seal(self, name: str, payload: Mapping[str, Any], ttl: float) -> str:
        """The sealed value of ``payload`` for cookie ``name``, valid for ``ttl`` seconds."""
        body = json.dumps({**payload, "exp": int(time.time() + ttl)}, separators=(",", ":"))
        nonce = os.urandom(_NONCE)
        return _b64(nonce + self._aead.encrypt(nonce, body.encode(), name.encode()))

    def open(self, name: str, value: str, now: float | None = None) -> dict[str, Any] | None:
        """The payload of a sealed value, or None when it is not ours, altered or expired."""
        try:
            raw = _unb64(value)
            plain = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], name.encode())
            data = json.loads(plain)
        except (ValueError, InvalidTag, UnicodeDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        if float(data.get("exp", 0)) < (time.time() if now is None else now):
            return None
        return data

    # --------------------------------------------------------------------- chunked cookies
    def to_cookies(
        self, name: str, payload: Mapping[str, Any], ttl: float, present: Mapping[str, str]
    ) -> list[SetCookie]:
        """The cookies that carry ``payload``, and deletions of chunks ``present`` no longer
        needs."""
        value = self.seal(name, payload, ttl)
        parts = [value[i : i + CHUNK] for i in range(0, len(value), CHUNK)]
        if len(parts) > MAX_CHUNKS:
            raise ValueError(f"the session is too large for {MAX_CHUNKS} cookies")
        out = [SetCookie(chunk_name(name, i), part, int(ttl)) for i, part in enumerate(parts)]
        out.extend(SetCookie(n, None) for n in chunk_names(name, present)[len(parts) :])
        return out

    def from_cookies(
        self, name: str, cookies: Mapping[str, str], now: float | None = None
    ) -> dict[str, Any] | None:
        """The payload carried by the chunks of ``name`` in ``cookies`` (None: none valid)."""
        names = chunk_names(name, cookies)
        if not names:
            return None
        return self.open(name, "".join(cookies[n] for n in names), now)


def chunk_name(name: str, index: int) -> str:
    return name if index == 0 else f"{name}.{index}"


def chunk_names(name: str, cookies: Mapping[str, str]) -> list[str]:
    """The chunks of ``name`` present in ``cookies``, in order (stops at the first gap)."""
    found = []
    for i in range(MAX_CHUNKS):
        n = chunk_name(name, i)
        if n not in cookies:
            break
        found.append(n)
    return found


def clear_cookies(name: str, cookies: Mapping[str, str]) -> list[SetCookie]:
    """Deletions of every chunk of ``name`` the browser sent (at least the first)."""
    return [SetCookie(n, None) for n in chunk_names(name, cookies) or [name]]
