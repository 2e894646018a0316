"""Git repository addresses and commit revisions, for the commit status providers.

A Provider's ``address`` names the repository: ``https://github.com/org/repo``,
``https://gitea.example.com/org/repo.git``, ``ssh://git@host/org/repo`` or
``git@host:org/repo.git``. :func:`parse_git_address` splits it into the forge's base URL
(``https://host``; SSH becomes HTTPS, the API is HTTPS) and the repository id (``org/repo``).

Events carry Flux revisions (``main@sha1:<hex>``, ``sha1:<hex>``, legacy ``main/<hex>``);
:func:`commit_sha` takes the commit out of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from weir.errors import ConfigError

_SCP = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>(?!//)[^\s]+)$")
_HEX = re.compile(r"^[0-9a-fA-F]{7,64}$")


class InvalidAddressError(ConfigError):
    """A Provider address that does not name what the provider type needs."""


@dataclass(frozen=True)
class GitAddress:
    base_url: str
    """``https://host[:port]`` of the forge."""
    repo_id: str
    """The path of the repository without ``.git`` (``org/repo``, ``group/sub/repo``)."""
    host: str

    @property
    def owner(self) -> str:
        return self.repo_id.rpartition("/")[0]

    @property
    def repo(self) -> str:
        return self.repo_id.rpartition("/")[2]


def parse_git_address(address: str, *, what: str = "repository") -> GitAddress:
    """Split a repository address; raises :class:`InvalidAddressError`."""
    text = address.strip()
    if not text:
        raise InvalidAddressError(f"the {what} address is empty: set spec.address")
    scp = None if "://" in text else _SCP.match(text)
    if scp is not None:
        scheme, host, path = "https", scp["host"], scp["path"]
    else:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https", "ssh") or not parts.hostname:
            raise InvalidAddressError(
                f"invalid {what} address {address!r}: use https://<host>/<owner>/<repo>"
            )
        scheme = "https" if parts.scheme == "ssh" else parts.scheme
        host = parts.hostname if parts.scheme == "ssh" else parts.netloc.rpartition("@")[2]
        path = parts.path
    repo_id = path.strip("/").removesuffix(".git").strip("/")
    if "/" not in repo_id:
        raise InvalidAddressError(
            f"invalid {what} address {address!r}: the path must name <owner>/<repo>"
        )
    return GitAddress(f"{scheme}://{host}", repo_id, host.partition(":")[0])


def commit_sha(revision: str) -> str:
    """The commit of a Flux revision; raises :class:`InvalidAddressError` (a ConfigError) when
    the revision names none."""
    text = revision.strip()
    _, at, tail = text.rpartition("@")
    candidate = tail if at else text
    algo, colon, digest = candidate.partition(":")
    if colon and algo in ("sha1", "sha256"):
        candidate = digest
    elif "/" in candidate:  # legacy <branch>/<sha>
        candidate = candidate.rpartition("/")[2]
    if not _HEX.match(candidate):
        raise InvalidAddressError(f"revision {revision!r} does not name a commit")
    return candidate.lower()
