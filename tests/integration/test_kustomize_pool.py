"""Build workers: results and errors come back, a stuck job kills its worker, a dead worker is
replaced."""

from __future__ import annotations

import os
import time

import pytest

from weir.kustomize.errors import BuildError
from weir.kustomize.pool import BuildPool


def fail(message: str) -> None:
    raise BuildError(message)


def die() -> None:
    os._exit(3)


async def test_results_errors_and_dead_workers() -> None:
    pool = BuildPool(1)
    try:
        assert await pool.call(sorted, [3, 1, 2], timeout=30) == [1, 2, 3]
        with pytest.raises(BuildError, match=r"^no good$"):
            await pool.call(fail, "no good", timeout=30)
        with pytest.raises(BuildError, match="the build worker died"):
            await pool.call(die, timeout=30)
        assert await pool.call(len, "abc", timeout=30) == 3  # a new worker
    finally:
        pool.close()


async def test_a_job_past_its_deadline_kills_its_worker() -> None:
    pool = BuildPool(1)
    try:
        with pytest.raises(BuildError, match=r"did not finish in 0\.1s"):
            await pool.call(time.sleep, 60, timeout=0.1)
        assert await pool.call(len, "ab", timeout=30) == 2
    finally:
        pool.close()
