"""When a run's trigger was observed: what a run may reuse from reads made by other runs.

A run is caused by something the controller saw: an informer event (a new ``requestedAt``, a
spec change, a source's new artifact) or its interval elapsing. Every write that caused it, or
that happened before it, was done by then. A read of the cluster that *started* after that
moment therefore sees all of them, even if it was made for another run -- it is as good for this
run as a read of its own. :mod:`weir.kustomize.unchanged` relies on it to let every drift check
of a burst of runs share one LIST.

The work queue stamps a key each time it is added (:meth:`weir.runtime.workqueue.WorkQueue.add`
and the delayed adds); of several adds before the key is taken, the latest stamp counts, so a
new trigger is never answered with a read older than itself. The controller installs a
:class:`Trigger` for each run (a context variable, like :mod:`weir.runtime.progress`); code
outside a controller's run (tests, the CLI) gets one stamped when it asks, i.e. only reads that
start after that moment qualify. Stamps come from :func:`stamp`, a strictly increasing clock,
so "started after" is a plain comparison with no ties.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass


class _Clock:
    last = 0


def stamp() -> int:
    """A strictly increasing time (monotonic nanoseconds; never the same value twice)."""
    _Clock.last = max(time.monotonic_ns(), _Clock.last + 1)
    return _Clock.last


def _no_keys() -> Collection[str]:
    return ()


@dataclass(frozen=True)
class Trigger:
    """The current run's trigger."""

    at: int
    """The :func:`stamp` of the latest trigger of this run."""
    waiting: Callable[[], Collection[str]] = _no_keys
    """The keys (``namespace/name``) of the same controller whose runs are queued or running
    now: their triggers were observed already, so a read started later serves them too."""


_current: contextvars.ContextVar[Trigger | None] = contextvars.ContextVar(
    "weir_run_trigger", default=None
)


def current() -> Trigger:
    """The trigger of the run in progress, or one stamped now outside a controller's run."""
    trigger = _current.get()
    return trigger if trigger is not None else Trigger(stamp())


def install(trigger: Trigger | None) -> contextvars.Token[Trigger | None]:
    """Make ``trigger`` the current run's (the runtime's job)."""
    return _current.set(trigger)


def reset(token: contextvars.Token[Trigger | None]) -> None:
    _current.reset(token)
