"""Deployment windows: ``spec.schedule`` of a ResourceSetInputProvider, as the Flux Operator
reads it.

Each entry is a cron expression (5 fields, or a descriptor: ``@yearly``, ``@monthly``,
``@weekly``, ``@daily``, ``@hourly``, ``@every <duration>``) in a time zone (IANA name,
default UTC) and a ``window`` (a duration, default 0).

- **A window** (``window > 0``) is open from a cron trigger for ``window``; a run may start
  when it can finish inside it: ``now + reconcileTimeout`` before ``trigger + window``. A
  window must be at least twice the timeout.
- **No window** (``0s``): best effort at the cron time; any schedule without a window lets
  every run through (creation, spec changes, requests).
- Several entries: a run may start when **any** lets it; the next window is the earliest of
  their next triggers.

Cron arithmetic is cronsim's (a maintained cron evaluator, reverse iteration included); the
previous trigger is found with it, not by search. A bad expression, time zone or window is
:class:`ScheduleError` (the provider's ``InvalidSchedule``, terminal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from weir.errors import ConfigError
from weir.runtime.durations import format_duration, parse_duration

DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
"""robfig/cron's descriptors (what the Flux Operator accepts) as 5-field expressions."""


class ScheduleError(ConfigError):
    """A schedule entry that cannot be used: its cron expression, time zone or window."""


@dataclass(frozen=True)
class Entry:
    """One ``spec.schedule`` entry, as written (for ``status.nextSchedule``)."""

    cron: str
    time_zone: str = "UTC"
    window: str = "0s"


class _Cron:
    """One parsed entry: its triggers before and after a moment."""

    def __init__(self, entry: Entry, index: int) -> None:
        self.entry = entry
        where = f"schedule[{index}]"
        try:
            self.zone = ZoneInfo(entry.time_zone or "UTC")
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ScheduleError(
                f"failed to validate {where}: unknown time zone {entry.time_zone!r}: use an "
                "IANA name such as Europe/London"
            ) from e
        try:
            self.window = parse_duration(entry.window or "0s")
        except (ValueError, ConfigError) as e:
            raise ScheduleError(f"failed to validate {where}: window: {e}") from e
        spec = entry.cron.strip()
        self.every: float | None = None
        self.expr = DESCRIPTORS.get(spec.lower(), spec)
        if spec.lower().startswith("@every "):
            try:
                self.every = parse_duration(spec.split(None, 1)[1])
            except (ValueError, ConfigError) as e:
                raise ScheduleError(f"failed to validate {where}: {spec!r}: {e}") from e
            if self.every <= 0:
                raise ScheduleError(f"failed to validate {where}: {spec!r}: must be positive")
            return
        try:
            CronSim(self.expr, datetime.now(self.zone))
        except (CronSimError, ValueError) as e:
            zone = f" with timezone '{entry.time_zone}'" if entry.time_zone else ""
            raise ScheduleError(
                f"failed to validate {where}: failed to parse cron spec '{spec}'{zone}: {e}"
            ) from e

    def next(self, now: datetime) -> datetime:
        """The first trigger strictly after ``now``."""
        if self.every is not None:
            # @every: a constant delay from now, rounded to the second (robfig's rule)
            step = max(1.0, round(self.every))
            return (now + timedelta(seconds=step)).replace(microsecond=0)
        local = now.astimezone(self.zone).replace(microsecond=0)
        return next(iter(CronSim(self.expr, local))).astimezone(now.tzinfo)

    def previous(self, now: datetime) -> datetime | None:
        """The last trigger at or before ``now`` (None: none in reach)."""
        if self.every is not None:
            return now
        local = now.astimezone(self.zone)
        start = local.replace(microsecond=0) + timedelta(seconds=1)
        try:
            found = next(iter(CronSim(self.expr, start, reverse=True)))
        except StopIteration:
            return None
        return found.astimezone(now.tzinfo)


@dataclass(frozen=True)
class NextWindow:
    """``status.nextSchedule``: the entry and when its window opens."""

    entry: Entry
    when: datetime


class Scheduler:
    """The provider's schedule (see the module docstring)."""

    def __init__(self, entries: Sequence[Entry], timeout: float) -> None:
        self.timeout = timeout
        self.crons: list[_Cron] = []
        for index, entry in enumerate(entries):
            cron = _Cron(entry, index)
            if cron.window < 0:
                raise ScheduleError(f"failed to validate schedule[{index}]: negative window")
            if 0 < cron.window < 2 * timeout:
                raise ScheduleError(
                    f"failed to validate schedule[{index}]: a non-zero window "
                    f"({format_duration(cron.window)}) must always be at least twice the "
                    f"timeout ({format_duration(timeout)})"
                )
            self.crons.append(cron)

    def _inside(self, cron: _Cron, at: datetime) -> bool:
        prev = cron.previous(at)
        if prev is None:
            return False
        return at + timedelta(seconds=self.timeout) < prev + timedelta(seconds=cron.window)

    def should_reconcile(self, now: datetime) -> bool:
        """Whether a run may start now."""
        if not self.crons:
            return True
        return any(cron.window == 0 or self._inside(cron, now) for cron in self.crons)

    def should_schedule_interval(self, at: datetime) -> bool:
        """Whether a run planned for ``at`` would fall inside a window (entries without a
        window do not count)."""
        return any(c.window > 0 and self._inside(c, at) for c in self.crons)

    def next(self, now: datetime) -> NextWindow | None:
        """The earliest next trigger of all entries."""
        found: NextWindow | None = None
        for cron in self.crons:
            when = cron.next(now)
            if found is None or when < found.when:
                found = NextWindow(cron.entry, when)
        return found

    def requeue_after(self, end: datetime, interval: float) -> tuple[float, NextWindow | None]:
        """Seconds until the next run after a run that ended at ``end``, and the next window
        to report: the interval, unless the next interval falls outside every window or the
        next trigger comes first."""
        if not self.crons:
            return interval, None
        next_interval = end + timedelta(seconds=interval)
        upcoming = self.next(end)
        assert upcoming is not None
        if not self.should_schedule_interval(next_interval) or upcoming.when < next_interval:
            return max(0.0, (upcoming.when - end).total_seconds()), upcoming
        return interval, None
