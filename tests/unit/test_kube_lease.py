"""Leader election decisions that need no API server."""

from __future__ import annotations

from typing import Any, cast

import pytest
from kubernetes_asyncio.client import ApiClient

from weir.kube.lease import LeaderElector, Observation

NO_API = cast(ApiClient, None)  # these paths never reach the API


def test_expiry_is_judged_on_the_local_clock() -> None:
    obs = Observation(holder="other", duration=15.0, unchanged_since=100.0)
    assert obs.held_by_other("me", now=110.0)
    assert not obs.held_by_other("me", now=115.0)
    assert not obs.held_by_other("other", now=110.0)  # our own lease


def test_released_or_own_lease_is_free() -> None:
    assert not Observation("", 15.0, 100.0).held_by_other("me", now=101.0)
    assert not Observation("me", 15.0, 100.0).held_by_other("me", now=101.0)


@pytest.mark.parametrize(
    "timing",
    [
        {"lease_duration": 10.0, "renew_deadline": 10.0},
        {"renew_deadline": 2.0, "retry_period": 2.0},
        {"retry_period": 0.0},
    ],
)
def test_timings_are_checked(timing: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="lease_duration > renew_deadline"):
        LeaderElector(NO_API, "ns", "lease", "me", **timing)


def test_identity_required() -> None:
    with pytest.raises(ValueError, match="identity"):
        LeaderElector(NO_API, "ns", "lease", "")
