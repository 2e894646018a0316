"""Condition types and reasons shared by every controller (``fluxcd/pkg/apis/meta``)."""

from __future__ import annotations

READY = "Ready"
RECONCILING = "Reconciling"
STALLED = "Stalled"
HEALTHY = "Healthy"

TRUE = "True"
FALSE = "False"
UNKNOWN = "Unknown"

SUCCEEDED = "Succeeded"
FAILED = "Failed"
PROGRESSING = "Progressing"
PROGRESSING_WITH_RETRY = "ProgressingWithRetry"
SUSPENDED = "Suspended"
DEPENDENCY_NOT_READY = "DependencyNotReady"
RECONCILIATION_SUCCEEDED = "ReconciliationSucceeded"
RECONCILIATION_FAILED = "ReconciliationFailed"
DELETION_FAILED = "DeletionFailed"

RECONCILE_REQUEST_ANNOTATION = "reconcile.fluxcd.io/requestedAt"
"""Set by ``flux reconcile`` and webhook Receivers; any new value asks for a run now."""
DEFAULT_FINALIZER = "finalizers.fluxcd.io"
