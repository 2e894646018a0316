"""Errors of artifacts as consumers and producers handle them (download, digest, unpack).

::

    ArtifactError (weir.errors.WeirError)         reason ArtifactFailed
    ├── ArtifactFetchError                        HTTP download failed
    │   └── ArtifactNotFoundError                 the artifact server has no such file (404)
    ├── DigestMismatchError                       the bytes do not hash to the advertised digest
    ├── UnsafeArchiveError                        the tarball tries to escape or is too large
    └── InvalidVersionError                       a malformed semver version or range

Every class carries ``reason`` (a Flux condition reason) and ``retryable``.
"""

from __future__ import annotations

from weir.errors import WeirError

ARTIFACT_FETCH_FAILED = "ArtifactFailed"


class ArtifactError(WeirError):
    """A consumer could not download or unpack an artifact."""

    reason: str = ARTIFACT_FETCH_FAILED
    retryable: bool = True


class ArtifactFetchError(ArtifactError):
    """The artifact could not be downloaded (HTTP error status, connection failure)."""


class ArtifactNotFoundError(ArtifactFetchError):
    """The artifact server answered 404: the source has not stored the artifact there (yet), as
    after a leader failover before the new leader's source controller stored it again."""


class DigestMismatchError(ArtifactError):
    """The artifact's bytes do not hash to the digest advertised in ``status.artifact``."""


class UnsafeArchiveError(ArtifactError):
    """The tarball holds an entry that would escape the destination, or is too large."""

    retryable = False


class InvalidVersionError(ArtifactError):
    """A version or version range does not parse (``spec.ref.semver``, ``spec.version``)."""

    retryable = False
