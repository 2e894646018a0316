"""Errors of the Kustomization building blocks, each carrying the Flux condition reason it stands
for, so that the reconciler can put it into ``Ready`` as is.

::

    WeirError (weir.errors)
    └── SSAError (weir.ssa.errors)     reason ReconciliationFailed
        ├── ApplyError, PruneError, HealthCheckError, InvalidCELExpressionError
        │                              (weir.ssa.errors, re-exported here)
        └── KustomizeError             reason ReconciliationFailed
            ├── ArtifactPathError      ArtifactFailed: spec.path missing, or a path/symlink escaping
            └── BuildError             BuildFailed: generation, kustomize build, bad YAML
                ├── SubstitutionError  BuildFailed: postBuild variable substitution
                └── DecryptionError    BuildFailed: SOPS decryption (keys, MAC, no decryption set)

A reconciler catches :class:`~weir.ssa.errors.SSAError` to get all of them.
"""

from __future__ import annotations

from weir.ssa.errors import (
    ApplyError,
    HealthCheckError,
    InvalidCELExpressionError,
    PruneError,
    SSAError,
)

__all__ = [
    "ApplyError",
    "ArtifactPathError",
    "BuildError",
    "DecryptionError",
    "HealthCheckError",
    "InvalidCELExpressionError",
    "KustomizeError",
    "PruneError",
    "SubstitutionError",
]


class KustomizeError(SSAError):
    """Base of the errors raised while building a Kustomization (applying, pruning and
    checking raise the :class:`~weir.ssa.errors.SSAError` subclasses)."""


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
