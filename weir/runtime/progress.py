"""The deferred progress report: a reconciler that can tell a no-op run from a real one writes
``Reconciling`` only when the real work starts.

The runtime shows ``Reconciling=True/Progressing`` and ``Ready=Unknown/Progressing`` before a
run that needs a progress report (:func:`weir.runtime.outcome.needs_progress_report`). For a
run that turns out to change nothing (weir's no-op skip, see :mod:`weir.kustomize.unchanged`)
that write is wasted: the final status patch follows milliseconds later. A reconciler that sets
:attr:`weir.runtime.reconciler.Reconciler.defers_progress_report` gets no progress write before
its run; it calls :func:`report` when it starts work worth showing (a build, an apply, a slow
download). A run that never calls it ends with one status write. Calling it more than once, or
when no report is needed, writes nothing more.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable

Reporter = Callable[[], Awaitable[None]]

_current: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar(
    "weir_progress_reporter", default=None
)


async def report() -> None:
    """Write the progress report of the current run now, if it needs one and has none yet."""
    reporter = _current.get()
    if reporter is not None:
        await reporter()


def install(reporter: Reporter | None) -> contextvars.Token[Reporter | None]:
    """Make ``reporter`` the one :func:`report` calls in this task (the runtime's job)."""
    return _current.set(reporter)


def reset(token: contextvars.Token[Reporter | None]) -> None:
    _current.reset(token)
