"""Git references and Flux's revision strings.

A revision names what an artifact was built from, exactly as Flux writes it:

======================  ==========================================
``spec.ref``            revision
======================  ==========================================
branch ``main``         ``main@sha1:<40 hex>``
tag ``v1.0.0``          ``v1.0.0@sha1:<hex>`` (the commit, peeled)
semver ``>=1.0.0``      ``<chosen tag>@sha1:<hex>``
name ``refs/heads/x``   ``refs/heads/x@sha1:<hex>`` (absolute)
commit only             ``sha1:<hex>``
commit + branch         ``<branch>@sha1:<commit>``
======================  ==========================================

SHA-256 repositories use ``sha256:<64 hex>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from weir.source.errors import InvalidRefError

DEFAULT_BRANCH = "master"
"""Flux checks out ``master`` when ``spec.ref`` is empty."""

_HEX = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")

RefKind = Literal["commit", "name", "semver", "tag", "branch"]


def hash_digest(sha: str) -> str:
    """``sha1:<hex>`` for a 40-character hash, ``sha256:<hex>`` for a 64-character one."""
    if len(sha) == 40:
        return f"sha1:{sha}"
    if len(sha) == 64:
        return f"sha256:{sha}"
    raise ValueError(f"{sha!r} is not a full git object id")


def short_ref(reference: str) -> str:
    """``refs/heads/feature/x`` -> ``feature/x``; unchanged unless of the form ``refs/<t>/<x>``."""
    parts = reference.split("/", 2)
    return parts[2] if len(parts) == 3 else reference


def format_revision(reference: str, sha: str, *, absolute: bool = False) -> str:
    """The Flux revision of ``sha`` reached through ``reference`` (a full ref name or "")."""
    digest = hash_digest(sha)
    if not reference:
        return digest
    if absolute:
        return f"{reference}@{digest}"
    parts = reference.split("/", 2)
    if len(parts) == 3:
        return f"{parts[2]}@{digest}"
    return digest


def revision_hash(revision: str) -> str:
    """The hex hash in a revision: ``main@sha1:abc`` -> ``abc``; also reads legacy ``main/abc``."""
    tail = revision.rsplit("@", 1)[-1]
    if ":" in tail:
        return tail.split(":", 1)[1]
    return tail.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class GitRef:
    """``spec.ref`` of a GitRepository. Precedence: commit > name > semver > tag > branch."""

    branch: str | None = None
    tag: str | None = None
    semver: str | None = None
    name: str | None = None
    commit: str | None = None

    @classmethod
    def from_spec(cls, ref: Mapping[str, Any] | object | None) -> GitRef:
        """Build from ``spec.ref`` given as a camelCase dict, an API model or None."""
        if ref is None:
            return cls()
        get = ref.get if isinstance(ref, Mapping) else lambda k: getattr(ref, k, None)
        values = {k: get(k) or None for k in ("branch", "tag", "semver", "name", "commit")}
        return cls(**values)

    @property
    def kind(self) -> RefKind:
        """Which field decides the checkout, after Flux's precedence."""
        if self.commit:
            return "commit"
        if self.name:
            return "name"
        if self.semver:
            return "semver"
        if self.tag:
            return "tag"
        return "branch"

    @property
    def effective_branch(self) -> str:
        return self.branch or DEFAULT_BRANCH

    def validate(self) -> None:
        """Raise :class:`InvalidRefError` for a ref that can never resolve."""
        if self.commit is not None and not _HEX.match(self.commit):
            raise InvalidRefError(
                f"spec.ref.commit {self.commit!r} is not a full commit sha "
                "(40 or 64 lowercase hex characters); use the complete hash"
            )
        if self.name is not None and not self.name.startswith("refs/"):
            raise InvalidRefError(
                f"spec.ref.name {self.name!r} must be a full reference name starting with "
                "'refs/', e.g. 'refs/heads/main' or 'refs/pull/42/head'"
            )

    def __str__(self) -> str:
        kind = self.kind
        if kind == "branch":
            return f"branch '{self.effective_branch}'"
        if kind == "commit" and self.branch:
            return f"commit '{self.commit}' on branch '{self.branch}'"
        return f"{kind} '{getattr(self, kind)}'"


@dataclass(frozen=True)
class RemoteRevision:
    """What a ref points at on the remote right now (from ``git ls-remote``)."""

    reference: str
    """Full ref name (``refs/heads/main``, ``refs/tags/v1.0.0``), or "" for a bare commit."""
    hash: str
    """Commit id (tags are peeled to their commit)."""
    revision: str
    """The Flux revision string; compare it with ``status.artifact.revision``."""


@dataclass(frozen=True)
class Signature:
    """Author or committer of a commit."""

    name: str
    email: str
    when: datetime


@dataclass(frozen=True)
class Commit:
    """The commit checked out into a directory."""

    hash: str
    reference: str
    revision: str
    message: str = ""
    author: Signature | None = None
    committer: Signature | None = None
    signature: str = ""
    """The commit's ``gpgsig`` header (PGP or SSH signature), "" when unsigned."""
    encoded: bytes = field(default=b"", repr=False)
    """The raw commit object without the signature header, as signatures are computed over."""
    tag_object: bytes = field(default=b"", repr=False)
    """The annotated tag object the reference names (``checkout(..., tag_object=True)``), raw;
    b"" for a lightweight tag or when not asked for."""

    @property
    def short_message(self) -> str:
        """First line of the message, cut at 50 characters like Flux's events."""
        subject = self.message.split("\n", 1)[0]
        return subject if len(subject) <= 50 else subject[:50] + "..."
