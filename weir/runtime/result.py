"""How a reconcile run ends: exactly one of four outcomes.

- **succeeded**: ``return Result.success(message=...)``. Ready=True; the next run comes after
  ``spec.interval`` (with jitter), or ``requeue_after`` when given.
- **waiting**: ``return Result.requeue_after(30, message=...)``. Ready=Unknown (reason
  ``Progressing``) or False (any other reason, e.g. ``DependencyNotReady``); the next run comes
  after the delay, with jitter.
- **stalled** (terminal): ``raise Stalled(reason, message)`` or ``return Result.stalled(...)``.
  Stalled=True, Ready=False; no retry until the object changes.
- **failed** (transient): any other exception (``ReconcileError`` chooses the reason).
  Ready=False; retried with per-key exponential backoff.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from weir.errors import WeirError
from weir.runtime import reasons


class Outcome(enum.StrEnum):
    SUCCEEDED = "success"
    WAITING = "waiting"
    STALLED = "stalled"
    FAILED = "error"


@dataclass(frozen=True)
class Result:
    """What a finished run reports; build it with the class methods."""

    outcome: Outcome
    reason: str
    message: str
    delay: float | None = None
    """Requeue delay in seconds (waiting: required; succeeded: overrides ``spec.interval``)."""
    revision: str | None = None
    """The revision the run worked on: bound to logs and added to the Event's annotations."""

    @classmethod
    def success(
        cls,
        message: str = "Reconciliation succeeded",
        *,
        reason: str = reasons.SUCCEEDED,
        revision: str | None = None,
        requeue_after: float | None = None,
    ) -> Result:
        """The object is in sync: Ready=True; next run after ``requeue_after`` or the interval."""
        return cls(Outcome.SUCCEEDED, reason, message, requeue_after, revision)

    @classmethod
    def requeue_after(
        cls,
        seconds: float,
        message: str = "Reconciliation in progress",
        *,
        reason: str = reasons.PROGRESSING,
        revision: str | None = None,
    ) -> Result:
        """Not done yet and not an error (a dependency or health check to wait for).

        Ready becomes Unknown with reason ``Progressing``, or False with any other reason
        (Flux's ``DependencyNotReady``); Reconciling stays True.
        """
        if seconds < 0:
            raise ValueError("requeue_after needs a delay of zero or more seconds")
        return cls(Outcome.WAITING, reason, message, seconds, revision)

    @classmethod
    def stalled(cls, reason: str, message: str, *, revision: str | None = None) -> Result:
        """Terminal: retrying cannot help until the object changes."""
        return cls(Outcome.STALLED, reason, message, None, revision)

    @classmethod
    def failed(
        cls,
        reason: str,
        message: str,
        *,
        revision: str | None = None,
        retry_after: float | None = None,
    ) -> Result:
        """Transient failure (what the runtime makes of an exception): retried with per-key
        backoff, or after ``retry_after`` seconds when given (Flux's ``spec.retryInterval``)."""
        return cls(Outcome.FAILED, reason, message, retry_after, revision)


class Stalled(WeirError):
    """Raise from a reconciler for a terminal error: the object is Stalled until it changes."""

    def __init__(self, reason: str, message: str, *, revision: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.revision = revision


class ReconcileError(WeirError):
    """A transient failure with a chosen condition reason; retried with backoff.

    Any other exception is transient too, with reason ``ReconciliationFailed``. With
    ``retry_after`` the next run comes after that many seconds instead of the backoff delay
    (Flux retries Kustomizations and HelmReleases after ``spec.retryInterval``).
    """

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        revision: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.revision = revision
        self.retry_after = retry_after


def result_from_exception(exc: BaseException, max_message: int = 4096) -> Result:
    """The outcome an exception stands for: Stalled is terminal, anything else is transient."""
    if isinstance(exc, Stalled):
        return Result.stalled(exc.reason, _clip(exc.message, max_message), revision=exc.revision)
    if isinstance(exc, ReconcileError):
        return Result.failed(
            exc.reason,
            _clip(exc.message, max_message),
            revision=exc.revision,
            retry_after=exc.retry_after,
        )
    text = str(exc) or type(exc).__name__
    return Result.failed(reasons.RECONCILIATION_FAILED, _clip(text, max_message))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
