"""Per-key exponential backoff and interval jitter, with Flux's defaults.

- :class:`Backoff` doubles the delay for every consecutive failure of a key, from
  ``min_delay`` (Flux ``--min-retry-delay``, 750ms) up to ``max_delay`` (``--max-retry-delay``,
  15m); :meth:`Backoff.forget` resets a key after a success.
- :func:`jittered` spreads a requeue interval by ``±percent`` (Flux
  ``--interval-jitter-percentage``, 5) so that objects created together do not stay in lockstep.
"""

from __future__ import annotations

import random
from collections.abc import Hashable
from dataclasses import dataclass

DEFAULT_MIN_RETRY_DELAY = 0.75
DEFAULT_MAX_RETRY_DELAY = 15 * 60.0
DEFAULT_JITTER_PERCENT = 5.0


@dataclass
class Backoff:
    """Exponential per-key delays: ``min_delay * 2**failures``, capped at ``max_delay``."""

    min_delay: float = DEFAULT_MIN_RETRY_DELAY
    """Delay after the first failure, in seconds."""
    max_delay: float = DEFAULT_MAX_RETRY_DELAY
    """Largest delay, in seconds."""

    def __post_init__(self) -> None:
        if self.min_delay <= 0 or self.max_delay < self.min_delay:
            raise ValueError("backoff needs 0 < min_delay <= max_delay")
        self._failures: dict[Hashable, int] = {}

    def next_delay(self, key: Hashable) -> float:
        """Record one more failure of ``key`` and return how long to wait before retrying it."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        if failures >= 64:  # 2**64 * anything positive is past every sane cap
            return self.max_delay
        return min(self.min_delay * (1 << failures), self.max_delay)

    def failures(self, key: Hashable) -> int:
        """How many consecutive failures ``key`` has had since it was last forgotten."""
        return self._failures.get(key, 0)

    def forget(self, key: Hashable) -> None:
        """Reset ``key``: its next failure waits ``min_delay`` again."""
        self._failures.pop(key, None)


def jittered(
    seconds: float, percent: float = DEFAULT_JITTER_PERCENT, rng: random.Random | None = None
) -> float:
    """``seconds`` moved uniformly at random by up to ``±percent`` %, never below zero."""
    if seconds <= 0 or percent <= 0:
        return max(seconds, 0.0)
    spread = seconds * percent / 100.0
    return max(0.0, seconds + (rng or random).uniform(-spread, spread))
