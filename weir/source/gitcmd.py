"""Running the git CLI: one asyncio subprocess in its own process group, killed as a group on
timeout, with stderr scrubbed of credentials and failures mapped to :mod:`weir.source.errors`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from collections.abc import Sequence
from dataclasses import dataclass

from weir.source.errors import (
    GitAuthError,
    GitError,
    GitNetworkError,
    GitNotFoundError,
    GitTimeoutError,
    HostKeyError,
)

MAX_STDERR = 2000

_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]*@", re.IGNORECASE)
_AUTH_HEADER = re.compile(r"(authorization:\s*\w+\s+)\S+", re.IGNORECASE)


def sanitize(text: str, redact: Sequence[str] = ()) -> str:
    """Remove secrets, URL passwords and Authorization values from git's output."""
    for secret in sorted(redact, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    text = _USERINFO.sub(lambda m: m[1] + "***@", text)
    text = _AUTH_HEADER.sub(lambda m: m[1] + "***", text)
    return text


# (pattern, error class, advice); the first match wins, so specific patterns come first.
_RULES: list[tuple[re.Pattern[str], type[GitError], str]] = [
    (
        re.compile(
            r"Host key verification failed|host key is known for|REMOTE HOST IDENTIFICATION "
            r"HAS CHANGED|No \S+ host key is known",
            re.IGNORECASE,
        ),
        HostKeyError,
        "put the server's current host key (the output of 'ssh-keyscan') in the Secret's "
        "'known_hosts'",
    ),
    (
        re.compile(
            r"Authentication failed|could not read (Username|Password)|terminal prompts "
            r"disabled|Permission denied \(|returned error: 40[137]|HTTP Basic: Access denied|"
            r"Invalid username or password|access denied",
            re.IGNORECASE,
        ),
        GitAuthError,
        "check the credentials in the Secret named by spec.secretRef (username/password or "
        "bearerToken for HTTPS, identity for SSH) and that they may read this repository",
    ),
    (
        re.compile(
            r"SSL certificate|certificate verif|SSL_connect|SSL_ERROR|SSL routines|"
            r"gnutls_handshake|TLS connect|unable to get local issuer|self.signed certificate|"
            r"certificate has expired|wrong version number",
            re.IGNORECASE,
        ),
        GitNetworkError,
        "the TLS handshake failed: if the server uses a private CA, add its certificate as "
        "'ca.crt' to the Secret in spec.secretRef",
    ),
    (
        re.compile(
            r"Could not resolve host|Failed to connect|Couldn't connect|Connection refused|"
            r"Connection timed out|Connection reset|Operation timed out|Network is unreachable|"
            r"No route to host|Empty reply from server|early EOF|RPC failed|"
            r"Connection closed by|kex_exchange_identification|Could not resolve hostname|"
            r"transfer closed|unexpected disconnect|The requested URL returned error: 5\d\d",
            re.IGNORECASE,
        ),
        GitNetworkError,
        "check that the host in spec.url is reachable from weir and the port is right",
    ),
    (
        re.compile(
            r"not found|does not appear to be a git repository|couldn't find remote ref|"
            r"not our ref|unadvertised object|No such file or directory|does not exist|"
            r"returned error: 404|invalid refspec|bad object|no such remote ref",
            re.IGNORECASE,
        ),
        GitNotFoundError,
        "check spec.url and spec.ref",
    ),
]


def classify(stderr: str) -> tuple[type[GitError], str]:
    """The error class and the advice for a git failure, from its (sanitized) stderr."""
    for pattern, cls, advice in _RULES:
        if pattern.search(stderr):
            return cls, advice
    return GitError, "see git's message above"


_KEY_LINE = re.compile(
    r"^(fatal|error|remote|ERROR|ssh):|Host key|host key|Permission denied|Could not|"
    r"not found|denied|refused|timed out|certificate|SSL|unable to",
)


def _summary(stderr: str) -> str:
    """The lines of git's stderr that say what went wrong (not ssh's banners or git's hints)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith(("hint:", "warning: redirecting", "@"))]
    key = [ln for ln in lines if _KEY_LINE.search(ln)]
    text = "; ".join((key or lines)[-6:])
    return text if len(text) <= MAX_STDERR else text[: MAX_STDERR - 3] + "..."


@dataclass(frozen=True)
class GitResult:
    stdout: bytes
    stderr: str


async def run_git(
    args: Sequence[str],
    *,
    env: dict[str, str],
    timeout: float,  # noqa: ASYNC109 - the process group is killed when it runs out
    what: str,
    cwd: str | None = None,
    redact: Sequence[str] = (),
    budget: float | None = None,
) -> GitResult:
    """Run ``git <args>``; raise a classified :class:`GitError` when it fails.

    ``what`` describes the operation for messages (``"list references of https://..."``);
    ``budget`` is the whole operation's timeout, for messages (``timeout`` is what is left).
    """
    if timeout <= 0:
        raise GitTimeoutError(f"timed out before starting to {what}; raise spec.timeout")
    proc = await asyncio.create_subprocess_exec(
        "git",
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr_b = await asyncio.wait_for(proc.communicate(), timeout)
    except (TimeoutError, asyncio.CancelledError) as exc:
        _kill_group(proc)
        with contextlib.suppress(Exception):
            await asyncio.shield(proc.wait())
        if isinstance(exc, asyncio.CancelledError):
            raise
        raise GitTimeoutError(
            f"failed to {what}: git did not finish within {budget or timeout:g}s and was stopped; "
            "check that the remote is reachable, or raise spec.timeout for large repositories"
        ) from exc
    stderr = sanitize(stderr_b.decode(errors="replace"), redact)
    if proc.returncode != 0:
        cls, advice = classify(stderr)
        summary = _summary(stderr) or f"git exited with code {proc.returncode}"
        raise cls(f"failed to {what}: {summary}; {advice}")
    return GitResult(stdout=stdout, stderr=stderr)


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
