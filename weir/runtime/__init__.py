"""The controller runtime: work queue, backoff and jitter, the reconcile loop, conditions,
metrics, structured logs, leader election and shutdown. See docs/runtime.md.

What a feature package needs to write a controller is re-exported here.
"""

from weir.runtime.controller import Controller, ControllerSettings
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import Outcome, ReconcileError, Result, Stalled

__all__ = [
    "Controller",
    "ControllerSettings",
    "Outcome",
    "ReconcileError",
    "Reconciler",
    "Result",
    "Stalled",
]
