"""How a run's :class:`~weir.runtime.result.Result` shows in status (pure functions).

========== ================================ ======================================== ==========
outcome    Ready                            Reconciling / Stalled                    obsGen
========== ================================ ======================================== ==========
succeeded  True, result reason/message      both removed                             updated
waiting    Unknown (reason Progressing) or  Reconciling=True (Progressing, or        kept
           False (any other reason)         ProgressingWithRetry when Ready=False);
                                            Stalled removed
stalled    False, result reason/message     Stalled=True; Reconciling removed        updated
failed     False, result reason/message     Reconciling=True/ProgressingWithRetry;   kept
                                            Stalled removed
========== ================================ ======================================== ==========

Every outcome copies ``reconcile.fluxcd.io/requestedAt`` into ``status.lastHandledReconcileAt``.
``observedGeneration`` moves on success and on stall, so that kstatus reports Current or Failed
for the spec that was actually looked at.
"""

from __future__ import annotations

from typing import Any

from weir.runtime import conditions, reasons
from weir.runtime.result import Outcome, Result
from weir.types import Obj


def requested_at(obj: Obj) -> str | None:
    """The ``reconcile.fluxcd.io/requestedAt`` annotation, if any."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(reasons.RECONCILE_REQUEST_ANNOTATION)
    return None if value is None else str(value)


def request_pending(obj: Obj) -> bool:
    """True when ``requestedAt`` differs from ``status.lastHandledReconcileAt``."""
    value = requested_at(obj)
    return value is not None and value != (obj.get("status") or {}).get("lastHandledReconcileAt")


def generation_pending(obj: Obj) -> bool:
    """True when the spec changed since the last finished run."""
    generation = (obj.get("metadata") or {}).get("generation")
    return generation != (obj.get("status") or {}).get("observedGeneration")


def needs_progress_report(obj: Obj) -> bool:
    """Whether to show ``Reconciling`` before a run: new spec, manual request, or not Ready.

    Routine interval runs of a Ready object skip it, so that Ready does not flap every interval.
    """
    return (
        generation_pending(obj)
        or request_pending(obj)
        or not conditions.is_true(obj, reasons.READY)
    )


def apply_outcome(obj: Obj, result: Result) -> None:
    """Write ``result`` into ``obj["status"]`` as the table in the module docstring says."""
    status = obj.setdefault("status", {})
    generation = (obj.get("metadata") or {}).get("generation")
    if result.outcome is Outcome.SUCCEEDED:
        conditions.mark_true(obj, reasons.READY, result.reason, result.message)
        conditions.delete(obj, reasons.RECONCILING)
        conditions.delete(obj, reasons.STALLED)
        _observe(status, generation)
    elif result.outcome is Outcome.WAITING:
        conditions.delete(obj, reasons.STALLED)
        if result.reason == reasons.PROGRESSING:
            conditions.mark_unknown(obj, reasons.READY, result.reason, result.message)
            conditions.mark_reconciling(obj, reasons.PROGRESSING, result.message)
        else:
            conditions.mark_false(obj, reasons.READY, result.reason, result.message)
            conditions.mark_reconciling(obj, reasons.PROGRESSING_WITH_RETRY, result.message)
    elif result.outcome is Outcome.STALLED:
        conditions.mark_false(obj, reasons.READY, result.reason, result.message)
        conditions.mark_stalled(obj, result.reason, result.message)
        conditions.delete(obj, reasons.RECONCILING)
        _observe(status, generation)
    else:
        conditions.mark_false(obj, reasons.READY, result.reason, result.message)
        conditions.mark_reconciling(obj, reasons.PROGRESSING_WITH_RETRY, result.message)
        conditions.delete(obj, reasons.STALLED)
    value = requested_at(obj)
    if value is not None:
        status["lastHandledReconcileAt"] = value


def _observe(status: dict[str, Any], generation: Any) -> None:
    if generation is not None:
        status["observedGeneration"] = generation
