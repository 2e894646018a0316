"""Registry credentials: from a ``kubernetes.io/dockerconfigjson`` Secret or username/password,
and the ``WWW-Authenticate`` challenges of the distribution API (Basic, Bearer token).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from weir.oci.errors import OCIAuthError

DOCKERCONFIG_KEY = ".dockerconfigjson"

_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True)
class Credentials:
    """Basic credentials, or an identity/refresh token."""

    username: str = ""
    password: str = ""
    identity_token: str = ""

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def __repr__(self) -> str:  # never print secrets
        return f"Credentials(username={self.username!r}, password=***)"


def _host_of(key: str) -> str:
    key = key.removeprefix("https://").removeprefix("http://")
    host = key.split("/", 1)[0]
    return "docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host


def credentials_from_dockerconfig(data: bytes | str, registry: str) -> Credentials | None:
    """The credentials for ``registry`` (``host[:port]``) in a ``.dockerconfigjson`` document."""
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise OCIAuthError(
            f"the Secret's {DOCKERCONFIG_KEY} is not JSON: {e}; recreate it with "
            "`kubectl create secret docker-registry`"
        ) from e
    auths = doc.get("auths") if isinstance(doc, Mapping) else None
    if not isinstance(auths, Mapping):
        raise OCIAuthError(f"the Secret's {DOCKERCONFIG_KEY} has no 'auths' map")
    wanted = _host_of(registry)
    for key, entry in auths.items():
        if _host_of(str(key)) != wanted or not isinstance(entry, Mapping):
            continue
        username = str(entry.get("username") or "")
        password = str(entry.get("password") or "")
        if entry.get("auth"):
            try:
                decoded = base64.b64decode(str(entry["auth"])).decode()
            except (ValueError, UnicodeDecodeError) as e:
                raise OCIAuthError(
                    f"the 'auth' of {key} in {DOCKERCONFIG_KEY} is not base64"
                ) from e
            username, _, password = decoded.partition(":")
        return Credentials(username, password, str(entry.get("identitytoken") or ""))
    return None


def credentials_from_secret(data: Mapping[str, bytes], registry: str) -> Credentials | None:
    """Credentials from decoded Secret data: ``.dockerconfigjson`` or username/password."""
    if DOCKERCONFIG_KEY in data:
        return credentials_from_dockerconfig(data[DOCKERCONFIG_KEY], registry)
    if "username" in data or "password" in data:
        return Credentials(data.get("username", b"").decode(), data.get("password", b"").decode())
    return None


@dataclass(frozen=True)
class Challenge:
    """A parsed ``WWW-Authenticate`` header."""

    scheme: str  # lower case: "basic" or "bearer"
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """``Bearer realm="...",service="...",scope="..."`` -> Challenge; None if empty."""
    header = header.strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(rest):
        value = match[2] if match[2] is not None else match[3]
        params[match[1].lower()] = re.sub(r"\\(.)", r"\1", value)
    return Challenge(scheme.lower(), params)
