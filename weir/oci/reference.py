"""OCI references: ``oci://host[:port]/path`` URLs, tags, digests, and which tag a ref selects.

- :func:`parse_url` splits an ``OCIRepository``/``HelmRepository`` URL (``oci://`` required,
  no tag or digest) into registry host and repository path.
- :func:`parse_reference` reads a full reference ``[oci://]host/repo[:tag][@digest]``.
- :func:`select_tag` applies ``spec.ref.semver`` (+ ``semverFilter``) to a tag list. OCI tags
  cannot hold ``+``, so a tag's ``_`` is read as ``+`` (Helm pushes ``1.0.0+a`` as ``1.0.0_a``).
- :func:`revision` formats Flux's OCI revision: ``<tag>@sha256:<hex>``, or the digest alone.

``docker.io`` names get Docker Hub's API host and ``library/`` prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from weir.artifact.errors import InvalidVersionError
from weir.artifact.semver import Constraint, Version
from weir.oci.errors import OCINotFoundError, OCIReferenceError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"

_HOST = re.compile(
    r"^(?:localhost|\[[0-9a-fA-F:]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::[0-9]{1,5})?$"
)
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")


@dataclass(frozen=True)
class Reference:
    """``registry/repository`` plus an optional tag and digest."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def api_host(self) -> str:
        """Host (and port) the distribution API is served on."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def name(self) -> str:
        """``registry/repository``."""
        return f"{self.registry}/{self.repository}"

    @property
    def ref(self) -> str:
        """What to ask the manifests endpoint for: the digest if set, else the tag."""
        if self.digest:
            return self.digest
        if self.tag:
            return self.tag
        raise OCIReferenceError(f"{self.name} has neither a tag nor a digest: add one")

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.registry, self.repository, tag, None)

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.registry, self.repository, self.tag, digest)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _check_repository(text: str, repository: str) -> None:
    if not repository:
        raise OCIReferenceError(f"{text!r} has no repository path: use oci://<host>/<path>")
    for part in repository.split("/"):
        if not _PATH_COMPONENT.match(part):
            raise OCIReferenceError(
                f"{text!r}: repository path component {part!r} is invalid "
                "(lowercase letters, digits and . _ - separators only)"
            )


def _split_host(text: str, rest: str) -> tuple[str, str]:
    host, sep, path = rest.partition("/")
    if not sep or not _HOST.match(host) or not ("." in host or ":" in host or host == "localhost"):
        raise OCIReferenceError(
            f"{text!r} does not start with a registry host: use oci://<host>[:<port>]/<path>"
        )
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return host.lower(), path


def parse_url(url: str) -> Reference:
    """``oci://host/path`` -> Reference without tag/digest; refuses tags, digests, other schemes."""
    if not url.startswith("oci://"):
        raise OCIReferenceError(f"URL {url!r} must start with oci://")
    rest = url[len("oci://") :].rstrip("/")
    host, path = _split_host(url, rest)
    if "@" in path or ":" in path:
        raise OCIReferenceError(
            f"URL {url!r} must not carry a tag or digest: put it in spec.ref instead"
        )
    _check_repository(url, path)
    return Reference(host, path)


def parse_reference(text: str) -> Reference:
    """``[oci://]host/repo[:tag][@algo:hex]``."""
    rest = text.removeprefix("oci://")
    host, path = _split_host(text, rest)
    digest = None
    if "@" in path:
        path, digest = path.split("@", 1)
        if not _DIGEST.match(digest):
            raise OCIReferenceError(f"{text!r}: {digest!r} is not a digest (algorithm:hex)")
    tag = None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = path.rsplit(":", 1)
        if not _TAG.match(tag):
            raise OCIReferenceError(f"{text!r}: {tag!r} is not a valid tag")
    _check_repository(text, path)
    return Reference(host, path, tag, digest)


def tag_version(tag: str) -> Version | None:
    """The semantic version a tag stands for (``_`` read as ``+``), or None."""
    try:
        return Version.parse(tag.replace("_", "+"))
    except ValueError:
        return None


def select_tag(tags: Iterable[str], semver: str, semver_filter: str | None = None) -> str:
    """The tag with the highest version in ``semver`` (after ``semver_filter``, a regex on the
    tag). Raises :class:`OCIReferenceError` for a bad range or regex and
    :class:`~weir.oci.errors.OCINotFoundError` when nothing matches."""
    try:
        constraint = Constraint(semver)
    except InvalidVersionError as e:
        raise OCIReferenceError(str(e)) from e
    pattern = None
    if semver_filter:
        try:
            pattern = re.compile(semver_filter)
        except re.error as e:
            raise OCIReferenceError(f"invalid semverFilter {semver_filter!r}: {e}") from e
    best: tuple[Version, str] | None = None
    for tag in tags:
        if pattern is not None and not pattern.search(tag):
            continue
        version = tag_version(tag)
        if version is None or not constraint.check(version):
            continue
        if best is None or version > best[0] or (version == best[0] and tag > best[1]):
            best = (version, tag)
    if best is None:
        extra = f" and filter {semver_filter!r}" if semver_filter else ""
        raise OCINotFoundError(
            f"no tag matches semver range {semver!r}{extra}: push a matching tag or widen the range"
        )
    return best[1]


def revision(tag: str | None, digest: str) -> str:
    """Flux's OCIRepository revision: ``<tag>@<digest>``, or ``<digest>`` without a tag."""
    return f"{tag}@{digest}" if tag else digest
