"""The change log behind live updates: every change the UI cares about gets an increasing id.

A client that reconnects with the id of the last change it saw (SSE ``Last-Event-ID``, or
``?since=`` when polling) gets exactly the changes after it, as long as they are still in the
log (``capacity`` entries). Otherwise, or when the id comes from another process (the ``epoch``
part differs: weir restarted), it is told to reset: reload what it shows and go on from the
head.

Event ids are ``<epoch>-<n>``.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_CAPACITY = 20_000


@dataclass(frozen=True)
class Change:
    """One change: an object ADDED, MODIFIED or DELETED (``group`` ``flux``, ``workload`` or
    ``event``), or the outcome of a UI action (type ``ACTION``)."""

    id: int
    type: str
    group: str
    key: str
    data: Mapping[str, Any]
    time: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "group": self.group,
            "key": self.key,
            "data": self.data,
            "time": self.time,
        }


class ChangeLog:
    """A bounded log of changes with ids, and waiting for new ones."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, epoch: str | None = None) -> None:
        self.capacity = capacity
        self.epoch = epoch or secrets.token_hex(4)
        self._entries: deque[Change] = deque(maxlen=capacity)
        self._head = 0
        self._wakeup = asyncio.Event()
        self.closed = False

    @property
    def head(self) -> int:
        """The id of the newest change (0 before the first)."""
        return self._head

    def event_id(self, n: int) -> str:
        return f"{self.epoch}-{n}"

    def parse_id(self, text: str | None) -> int | None:
        """The change number of an event id of this process; None when absent, malformed or
        from another process (then the client must reset)."""
        if not text:
            return None
        epoch, _, number = text.strip().rpartition("-")
        if epoch != self.epoch or not number.isdigit():
            return None
        return int(number)

    def append(self, type_: str, group: str, key: str, data: Mapping[str, Any]) -> Change:
        self._head += 1
        change = Change(self._head, type_, group, key, data, time.time())
        self._entries.append(change)
        self._wake()
        return change

    def since(self, after: int, limit: int | None = None) -> list[Change] | None:
        """The changes after ``after`` (oldest first, at most ``limit``); None when some of
        them are no longer kept or ``after`` is not an id of this log (reset)."""
        if after > self._head or after < 0:
            return None
        if after == self._head:
            return []
        oldest = self._entries[0].id if self._entries else self._head + 1
        if after + 1 < oldest:
            return None
        start = after + 1 - oldest
        end = len(self._entries) if limit is None else min(len(self._entries), start + limit)
        return list(itertools.islice(self._entries, start, end))

    async def wait(self, after: int, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until a change after ``after`` exists (True) or ``timeout`` passed (False)."""
        if self._head > after or self.closed:
            return self._head > after
        wakeup = self._wakeup
        try:
            async with asyncio.timeout(timeout):
                await wakeup.wait()
        except TimeoutError:
            return False
        return self._head > after

    def close(self) -> None:
        """Wake every waiter for good (the server is stopping)."""
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        wakeup, self._wakeup = self._wakeup, asyncio.Event()
        wakeup.set()
