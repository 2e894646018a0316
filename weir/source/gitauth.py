"""Credentials for git, from a Secret's data as Flux documents it, handed to the git CLI without
ever appearing in argv.

Secret keys (``spec.secretRef``):

- HTTPS: ``username`` + ``password`` (Basic), or ``bearerToken`` (Bearer); ``ca.crt`` (or the
  older ``caFile``) to trust a private CA; ``tls.crt`` + ``tls.key`` for a client certificate.
- SSH: ``identity`` (private key, PEM or OpenSSH), ``known_hosts`` (required: host keys are
  always checked), ``password`` (the identity's passphrase, if it is encrypted).

:func:`git_environment` turns these into environment variables for one git invocation:
``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n`` for ``http.<origin>.extraHeader``,
``sslCAInfo``, ``sslCert`` and ``sslKey`` (scoped to the repository's origin so that submodules on
other hosts never see them), and ``GIT_SSH_COMMAND`` with a temporary identity and known_hosts file.
Files live in a private temporary directory that is removed afterwards.
"""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import SplitResult, quote, unquote, urlsplit, urlunsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from weir.source.errors import InvalidAuthError, InvalidRefError

SCHEMES = ("http", "https", "ssh")

# Environment variables passed through from weir's own environment (proxies, locale-free PATH).
_PASSTHROUGH = (
    "PATH",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
)


def decode_secret_data(data: Mapping[str, str] | None) -> dict[str, bytes]:
    """Decode a Secret's ``data`` (base64 strings, as the API returns them) to bytes."""
    return {k: base64.b64decode(v) for k, v in (data or {}).items()}


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else value


def _raw(value: bytes | str | None) -> bytes | None:
    if value is None:
        return None
    return value.encode() if isinstance(value, str) else value


@dataclass(frozen=True, repr=False)
class GitAuth:
    """Credentials for one repository. ``repr`` never shows secret values."""

    username: str | None = None
    password: str | None = None
    bearer_token: str | None = None
    ca_cert: bytes | None = None
    client_cert: bytes | None = None
    client_key: bytes | None = None
    identity: bytes | None = None
    identity_passphrase: str | None = None
    known_hosts: bytes | None = None
    proxy_url: str | None = None
    extra_redactions: tuple[str, ...] = field(default=())

    @classmethod
    def from_secret_data(
        cls, data: Mapping[str, bytes | str] | None, url: str, *, proxy_url: str | None = None
    ) -> GitAuth:
        """Read the keys that apply to ``url``'s scheme from decoded Secret data.

        Values are raw bytes (decode API responses with :func:`decode_secret_data`) or text.
        """
        data = data or {}
        scheme = urlsplit(url).scheme
        if scheme == "ssh":
            auth = cls(
                identity=_raw(data.get("identity")),
                identity_passphrase=_text(data.get("password")),
                known_hosts=_raw(data.get("known_hosts")),
                proxy_url=proxy_url,
            )
        else:
            auth = cls(
                username=_text(data.get("username")),
                password=_text(data.get("password")),
                bearer_token=_text(data.get("bearerToken")),
                ca_cert=_raw(data.get("ca.crt") or data.get("caFile")),
                client_cert=_raw(data.get("tls.crt")),
                client_key=_raw(data.get("tls.key")),
                proxy_url=proxy_url,
            )
        auth.validate(url)
        return auth

    def validate(self, url: str) -> None:
        """Raise :class:`InvalidAuthError` when the credentials cannot work for ``url``."""
        scheme = urlsplit(url).scheme
        if scheme == "ssh":
            if not self.known_hosts:
                raise InvalidAuthError(
                    "SSH needs the server's host keys: add 'known_hosts' (the output of "
                    "'ssh-keyscan <host>') to the Secret in spec.secretRef"
                )
            if not self.identity:
                raise InvalidAuthError(
                    "SSH needs a private key: add 'identity' to the Secret in spec.secretRef"
                )
        if (self.username or self.password) and self.bearer_token:
            raise InvalidAuthError(
                "the Secret has both username/password and bearerToken; keep only one of them"
            )
        if bool(self.client_cert) != bool(self.client_key):
            raise InvalidAuthError(
                "a client certificate needs both 'tls.crt' and 'tls.key' in the Secret"
            )

    @property
    def basic_header(self) -> str | None:
        if self.username is None and self.password is None:
            return None
        pair = f"{self.username or ''}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header value, if HTTP credentials are set."""
        if self.bearer_token:
            return f"Bearer {self.bearer_token}"
        return self.basic_header

    def redactions(self) -> list[str]:
        """Strings that must never appear in logs, errors or conditions."""
        values = [self.password, self.bearer_token, self.identity_passphrase, self.proxy_url]
        header = self.authorization
        if header:
            values.append(header.split(" ", 1)[1])
        values.extend(self.extra_redactions)
        return [v for v in values if v and len(v) >= 3]

    def __repr__(self) -> str:
        present = [k for k, v in self.__dict__.items() if v]
        return f"GitAuth({', '.join(present)})"


def split_url_credentials(url: str) -> tuple[str, GitAuth | None]:
    """Move ``user:password@`` out of an HTTP(S) URL into a :class:`GitAuth`, so that they are
    never passed in argv. SSH URLs keep their user name (it is not secret) and lose any password.
    """
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise InvalidRefError(
            f"unsupported URL {safe_url(url)!r}: spec.url must start with http://, https:// or "
            "ssh://"
        )
    if not parts.hostname:
        raise InvalidRefError(f"URL {safe_url(url)!r} has no host")
    if parts.password is None and (parts.username is None or parts.scheme == "ssh"):
        return url, None
    host = _netloc_host(parts)
    if parts.scheme == "ssh":
        user = quote(unquote(parts.username or ""), safe="")
        netloc = f"{user}@{host}" if user else host
        return urlunsplit(parts._replace(netloc=netloc)), None
    auth = GitAuth(
        username=unquote(parts.username or ""),
        password=unquote(parts.password) if parts.password is not None else None,
    )
    return urlunsplit(parts._replace(netloc=host)), auth


def _netloc_host(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


def origin(url: str) -> str:
    """``scheme://host[:port]/`` of a URL, the scope for ``http.<url>.*`` settings."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{_netloc_host(parts)}/"


def safe_url(url: str) -> str:
    """The URL without any password, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{_netloc_host(parts)}"))


@dataclass
class GitEnvironment:
    """Environment for one git process, and the strings to scrub from its output."""

    env: dict[str, str]
    redact: list[str]
    tmpdir: str


def _write(directory: str, name: str, content: bytes) -> str:
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    return path


def _identity_bytes(auth: GitAuth) -> bytes:
    """The identity as an unencrypted OpenSSH key (ssh cannot be given a passphrase)."""
    assert auth.identity is not None
    key_bytes = auth.identity
    passphrase = auth.identity_passphrase.encode() if auth.identity_passphrase else None
    if passphrase is None:
        return key_bytes if key_bytes.endswith(b"\n") else key_bytes + b"\n"
    try:
        key: PrivateKeyTypes
        if b"OPENSSH PRIVATE KEY" in key_bytes:
            key = serialization.load_ssh_private_key(key_bytes, passphrase)
        else:
            key = serialization.load_pem_private_key(key_bytes, passphrase)
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    except UnsupportedAlgorithm as exc:
        raise InvalidAuthError(
            f"cannot decrypt the SSH 'identity': {exc}; store the key unencrypted or as an "
            "encrypted PKCS#8 PEM (ssh-keygen -m PKCS8)"
        ) from exc
    except (ValueError, TypeError) as exc:
        raise InvalidAuthError(
            "cannot decrypt the SSH 'identity' with the Secret's 'password'; check both keys"
        ) from exc


@contextmanager
def git_environment(
    url: str, auth: GitAuth | None, *, connect_timeout: int = 30
) -> Iterator[GitEnvironment]:
    """Environment variables and temporary files for running git against ``url``."""
    tmpdir = tempfile.mkdtemp(prefix="weir-git-")
    try:
        env = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
        env.setdefault("PATH", os.defpath)
        home = os.path.join(tmpdir, "home")
        os.mkdir(home, 0o700)
        env.update(
            {
                "HOME": home,
                "LC_ALL": "C",
                "LANG": "C",
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_ASKPASS": "",
                "SSH_ASKPASS": "",
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_OPTIONAL_LOCKS": "0",
            }
        )
        scope = f"http.{origin(url)}"
        config: list[tuple[str, str]] = [
            ("credential.helper", ""),
            ("protocol.allow", "never"),
            ("protocol.http.allow", "always"),
            ("protocol.https.allow", "always"),
            ("protocol.ssh.allow", "always"),
            ("http.lowSpeedLimit", "1"),
            ("http.lowSpeedTime", str(connect_timeout)),
            ("advice.detachedHead", "false"),
            ("init.defaultBranch", "master"),
        ]
        redact: list[str] = []
        if auth is not None:
            redact = auth.redactions()
            header = auth.authorization
            if header:
                config.append((f"{scope}.extraHeader", f"Authorization: {header}"))
            if auth.ca_cert:
                config.append((f"{scope}.sslCAInfo", _write(tmpdir, "ca.crt", auth.ca_cert)))
            if auth.client_cert and auth.client_key:
                config.append((f"{scope}.sslCert", _write(tmpdir, "tls.crt", auth.client_cert)))
                config.append((f"{scope}.sslKey", _write(tmpdir, "tls.key", auth.client_key)))
            if auth.proxy_url:
                config.append(("http.proxy", auth.proxy_url))
        if urlsplit(url).scheme == "ssh":
            if auth is None or not auth.identity or not auth.known_hosts:
                raise InvalidAuthError(
                    "SSH URLs need spec.secretRef with 'identity' and 'known_hosts'"
                )
            identity = _write(tmpdir, "identity", _identity_bytes(auth))
            known_hosts = _write(tmpdir, "known_hosts", auth.known_hosts)
            ssh = [
                shutil.which("ssh", path=env["PATH"]) or "ssh",
                "-F",
                os.devnull,
                "-i",
                identity,
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                f"UserKnownHostsFile={known_hosts}",
                "-o",
                f"GlobalKnownHostsFile={os.devnull}",
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "UpdateHostKeys=no",
                "-o",
                "BatchMode=yes",
                "-o",
                f"ConnectTimeout={connect_timeout}",
            ]
            env["GIT_SSH_COMMAND"] = shlex.join(ssh)
            env["GIT_SSH_VARIANT"] = "ssh"
        env["GIT_CONFIG_COUNT"] = str(len(config))
        for i, (key, value) in enumerate(config):
            env[f"GIT_CONFIG_KEY_{i}"] = key
            env[f"GIT_CONFIG_VALUE_{i}"] = value
        yield GitEnvironment(env=env, redact=redact, tmpdir=tmpdir)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
