"""Errors of the source layer (Git fetches, artifact storage, artifact downloads).

::

    SourceError (weir.errors.WeirError)           .reason is the Flux condition reason
    ├── GitError                                  reason GitOperationFailed
    │   ├── GitAuthError                          reason AuthenticationFailed
    │   │   └── InvalidAuthError                  the Secret's data is unusable
    │   ├── GitNotFoundError                      repository or reference does not exist
    │   │   └── EmptyRepositoryError              reason EmptyGitRepository
    │   ├── GitNetworkError                       cannot connect, DNS, TLS, connection reset
    │   │   └── GitTimeoutError                   the git process ran past its timeout
    │   ├── HostKeyError                          the SSH host key is not in known_hosts
    │   └── InvalidRefError                       spec.ref is malformed (bad semver range, sha)
    └── StorageError                              reason StorageOperationFailed family

    ArtifactError (weir.artifact.errors)          a consumer could not use an artifact

Every class carries ``reason`` (a Flux reason string for conditions) and, where it helps the
reconciler decide between retrying and stalling, ``retryable``.
"""

from __future__ import annotations

from weir.artifact.errors import (  # re-exported: the consumer-side half of the tree
    ArtifactError,
    ArtifactFetchError,
    DigestMismatchError,
    UnsafeArchiveError,
)
from weir.errors import WeirError

__all__ = [
    "ArtifactError",
    "ArtifactFetchError",
    "DigestMismatchError",
    "UnsafeArchiveError",
]

GIT_OPERATION_FAILED = "GitOperationFailed"
GIT_OPERATION_SUCCEEDED = "GitOperationSucceeded"
AUTHENTICATION_FAILED = "AuthenticationFailed"
EMPTY_GIT_REPOSITORY = "EmptyGitRepository"
URL_INVALID = "URLInvalid"
ARCHIVE_OPERATION_FAILED = "ArchiveOperationFailed"
STORAGE_OPERATION_FAILED = "StorageOperationFailed"
ARTIFACT_FETCH_FAILED = "ArtifactFailed"


class SourceError(WeirError):
    """Base of every source-layer error."""

    reason: str = GIT_OPERATION_FAILED
    retryable: bool = True


# ----------------------------------------------------------------------------------- Git
class GitError(SourceError):
    """A git operation failed."""

    reason = GIT_OPERATION_FAILED


class GitAuthError(GitError):
    """The remote rejected the credentials, or none were given and it needs some."""

    reason = AUTHENTICATION_FAILED


class InvalidAuthError(GitAuthError):
    """The Secret's data cannot be turned into credentials (missing or malformed keys)."""

    retryable = False


class GitNotFoundError(GitError):
    """The repository, or the branch/tag/ref asked for, does not exist on the remote."""


class EmptyRepositoryError(GitNotFoundError):
    """The repository exists but has no commits yet."""

    reason = EMPTY_GIT_REPOSITORY


class GitNetworkError(GitError):
    """The remote could not be reached: DNS, refused connection, TLS failure, reset."""


class GitTimeoutError(GitNetworkError):
    """The git process did not finish within the timeout and was killed."""


class HostKeyError(GitError):
    """The SSH server's host key is not the one in the Secret's ``known_hosts``."""


class InvalidRefError(GitError):
    """``spec.ref`` cannot be used: a malformed semver range, commit sha or URL."""

    retryable = False


# ------------------------------------------------------------------------------- Storage
class StorageError(SourceError):
    """Writing, reading or collecting artifacts in the storage directory failed."""

    reason = ARCHIVE_OPERATION_FAILED
