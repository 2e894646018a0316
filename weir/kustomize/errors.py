"""Errors of the Kustomization building blocks, each carrying the Flux condition reason it stands
for, so that the reconciler can put it into ``Ready`` as is.

::

    WeirError (weir.errors)
    └── KustomizeError                 reason ReconciliationFailed
        ├── ArtifactPathError          ArtifactFailed: spec.path missing, or a path/symlink escaping
        ├── BuildError                 BuildFailed: generation, kustomize build, bad YAML
        │   ├── SubstitutionError      BuildFailed: postBuild variable substitution
        │   └── DecryptionError        BuildFailed: SOPS decryption (keys, MAC, no decryption set)
        ├── ApplyError                 ReconciliationFailed: dry-run or apply refused
        ├── PruneError                 PruneFailed: garbage collection could not delete
        ├── HealthCheckError           HealthCheckFailed: timeout or failed objects
        └── InvalidCELExpressionError  InvalidCELExpression (terminal: retrying cannot help)
"""

from __future__ import annotations

from typing import ClassVar

from weir.errors import WeirError


class KustomizeError(WeirError):
    """Base of the errors raised while building, applying, pruning or checking a Kustomization."""

    reason: ClassVar[str] = "ReconciliationFailed"
    """The ``Ready`` condition reason Flux uses for this failure."""
    terminal: ClassVar[bool] = False
    """True when retrying cannot help until the Kustomization changes (Flux: Stalled)."""


class ArtifactPathError(KustomizeError):
    """``spec.path`` does not exist, or a path or symlink in the artifact points outside it."""

    reason = "ArtifactFailed"


class BuildError(KustomizeError):
    """A kustomization could not be generated or built."""

    reason = "BuildFailed"


class SubstitutionError(BuildError):
    """Post-build variable substitution failed (syntax, undefined variable, bad name)."""


class DecryptionError(BuildError):
    """A SOPS-encrypted object could not be decrypted, or the Kustomization has no
    ``spec.decryption`` for it."""


class ApplyError(KustomizeError):
    """The API server refused a dry-run or an apply."""


class PruneError(KustomizeError):
    """Garbage collection could not delete some stale objects."""

    reason = "PruneFailed"


class HealthCheckError(KustomizeError):
    """Objects did not become healthy in time, or failed."""

    reason = "HealthCheckFailed"


class InvalidCELExpressionError(KustomizeError):
    """A ``healthCheckExprs`` expression does not parse."""

    reason = "InvalidCELExpression"
    terminal = True
