"""The reconciler interface: one per kind, level-triggered (ARCHITECTURE.md principle 4).

A reconciler gets the object as the cache has it (a deep copy with a ``status`` map: mutate it
freely)
and ends each run as one :class:`~weir.runtime.result.Result` outcome. The controller owns the
rest: finalizers, deletion, suspend, the ``requestedAt`` handshake, ``Ready`` / ``Reconciling`` /
``Stalled``, ``observedGeneration``, the status patch, requeues, Events, metrics and logs.

Reconcilers may set other conditions and status fields on ``obj``; ``Ready``, ``Reconciling`` and
``Stalled`` are derived from the outcome and overwritten.
"""

from __future__ import annotations

import abc
from typing import ClassVar

from weir.runtime import reasons
from weir.runtime.durations import parse_duration
from weir.runtime.result import Result
from weir.types import Obj


class Reconciler(abc.ABC):
    """Subclass and implement :meth:`reconcile`; override :meth:`finalize` to clean up."""

    finalizer: ClassVar[str | None] = reasons.DEFAULT_FINALIZER
    """Added to every object before its first run and removed after :meth:`finalize` succeeds;
    None: no finalizer, deletion needs no cleanup."""

    defers_progress_report: ClassVar[bool] = False
    """True: the runtime does not write ``Reconciling`` before a run; the reconciler calls
    :func:`weir.runtime.progress.report` when real work starts, so that a no-op run costs one
    status write (see :mod:`weir.runtime.progress`)."""

    default_interval: ClassVar[float | None] = None
    """Seconds between successful runs when ``spec.interval`` is absent; None: no requeue."""

    @abc.abstractmethod
    async def reconcile(self, obj: Obj) -> Result:
        """Bring the world in line with ``obj``; raise ``Stalled`` for terminal errors and any
        other exception for transient ones."""

    async def finalize(self, obj: Obj) -> Result | None:
        """Clean up before ``obj`` is deleted. Return None or a success to let the deletion
        proceed; raise (or return a waiting result) to keep the finalizer and try again."""
        return None

    async def close(self) -> None:
        """Release what the reconciler holds (clients, caches) when the process stops."""
        return None

    def is_suspended(self, obj: Obj) -> bool:
        """Whether runs are suspended: ``spec.suspend: true`` (Flux's kinds; the operator's
        kinds and ArtifactGenerators use an annotation instead)."""
        return (obj.get("spec") or {}).get("suspend") is True

    def interval(self, obj: Obj) -> float | None:
        """Seconds until the next run after a success: ``spec.interval`` (a Flux duration)."""
        raw = (obj.get("spec") or {}).get("interval")
        if raw is None:
            return self.default_interval
        return parse_duration(str(raw))
