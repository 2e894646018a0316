"""Errors of the OCI distribution client.

::

    OCIError (weir.errors.WeirError)     .reason is a Flux condition reason
    ├── OCIReferenceError                the URL/reference is malformed (not retryable)
    ├── OCIAuthError                     401/403, or a token could not be obtained
    ├── OCINotFoundError                 repository, tag, manifest or blob does not exist
    ├── OCIProtocolError                 the registry answered something unexpected
    └── OCIArtifactError                 the artifact's layout is not what the consumer wants
"""

from __future__ import annotations

from weir.errors import WeirError

OCI_PULL_FAILED = "OCIArtifactPullFailed"
AUTHENTICATION_FAILED = "AuthenticationFailed"
URL_INVALID = "URLInvalid"


class OCIError(WeirError):
    """Base of every OCI client error."""

    reason: str = OCI_PULL_FAILED
    retryable: bool = True


class OCIReferenceError(OCIError):
    """An ``oci://`` URL or a tag/digest reference cannot be parsed."""

    reason = URL_INVALID
    retryable = False


class OCIAuthError(OCIError):
    """The registry refused the credentials, or no token could be obtained."""

    reason = AUTHENTICATION_FAILED


class OCINotFoundError(OCIError, LookupError):
    """The repository, tag, manifest or blob does not exist."""


class OCIProtocolError(OCIError):
    """The registry answered with an unexpected status or body."""


class OCIArtifactError(OCIError):
    """The artifact does not have the expected layout (no matching layer, wrong media type)."""

    retryable = False
