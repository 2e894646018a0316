"""Hypothesis settings of the fuzz tests (``tests/unit/test_*_fuzz.py``).

``make test`` runs each property with its short, bounded number of examples; ``make fuzz`` runs
longer campaigns by scaling every count with ``WEIR_FUZZ_SCALE`` (default 100 there) and
printing Hypothesis's statistics. No per-example deadline: a machine shared by several jobs
makes timings meaningless; a hang is caught by pytest's timeout instead.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = float(os.environ.get("WEIR_FUZZ_SCALE", "1"))


def fuzz(examples: int) -> settings:
    """Settings for a property run on ``examples`` examples (times ``WEIR_FUZZ_SCALE``)."""
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
