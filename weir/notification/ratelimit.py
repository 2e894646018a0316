"""De-duplication of events, as notification-controller's event server does it.

Flux passes the first event of each key (:func:`~weir.notification.event.event_key`: object,
message, revision, origin revision, token) and answers ``429`` to repeats until
``--rate-limit-interval`` (5m) has passed since the first one. The same message about a *new*
revision has another key, so it always passes.

Keys are kept for one interval; the table is bounded (oldest keys go first) so a flood of
distinct events cannot grow it without limit.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

MAX_KEYS = 65536


class RateLimiter:
    """``allow(key)`` is True for the first call per key in each ``interval`` seconds."""

    def __init__(
        self,
        interval: float,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.max_keys = max_keys
        self._clock = clock
        self._first: OrderedDict[str, float] = OrderedDict()

    def allow(self, key: str) -> bool:
        now = self._clock()
        self._expire(now)
        started = self._first.get(key)
        if started is not None and now - started < self.interval:
            return False
        self._first.pop(key, None)
        self._first[key] = now
        while len(self._first) > self.max_keys:
            self._first.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._first)

    def _expire(self, now: float) -> None:
        # keys are in insertion order, and each is re-inserted when its window restarts
        while self._first:
            key, started = next(iter(self._first.items()))
            if now - started < self.interval:
                return
            del self._first[key]
