"""Errors of applying, pruning and health-checking, each carrying the Flux condition reason it
stands for.

::

    WeirError (weir.errors)
    └── SSAError                       reason ReconciliationFailed
        ├── ApplyError                 ReconciliationFailed: dry-run or apply refused
        ├── PruneError                 PruneFailed: garbage collection could not delete
        ├── HealthCheckError           HealthCheckFailed: timeout or failed objects
        └── InvalidCELExpressionError  InvalidCELExpression (terminal: retrying cannot help)

The Kustomization's own errors (:mod:`weir.kustomize.errors`) derive from :class:`SSAError`.
"""

from __future__ import annotations

from typing import ClassVar

from weir.errors import WeirError


class SSAError(WeirError):
    """Base of the errors raised while applying, pruning or checking objects."""

    reason: ClassVar[str] = "ReconciliationFailed"
    """The ``Ready`` condition reason Flux uses for this failure."""
    terminal: ClassVar[bool] = False
    """True when retrying cannot help until the object changes (Flux: Stalled)."""


class ApplyError(SSAError):
    """The API server refused a dry-run or an apply."""


class PruneError(SSAError):
    """Garbage collection could not delete some stale objects."""

    reason = "PruneFailed"


class HealthCheckError(SSAError):
    """Objects did not become healthy in time, or failed."""

    reason = "HealthCheckFailed"


class InvalidCELExpressionError(SSAError):
    """A CEL expression (``healthCheckExprs``, ``readyExpr``) does not parse."""

    reason = "InvalidCELExpression"
    terminal = True
