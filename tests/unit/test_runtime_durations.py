"""Flux/Go durations."""

from __future__ import annotations

import pytest

from weir.errors import ConfigError
from weir.runtime.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h30m", 5400.0),
        ("10m", 600.0),
        ("500ms", 0.5),
        ("1.5s", 1.5),
        ("2h", 7200.0),
        ("1m30s", 90.0),
        ("0", 0.0),
        ("0s", 0.0),
        ("100us", 1e-4),
        ("250ns", 2.5e-7),
        ("1h0m0s", 3600.0),
        (" 5m ", 300.0),
    ],
)
def test_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "10", "m", "-5m", "5 m", "1d", "1h30", "abc", "1.2.3s"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.5, "500ms"),
        (1.5, "1.5s"),
        (60, "1m0s"),
        (90, "1m30s"),
        (600, "10m0s"),
        (5400, "1h30m0s"),
        (3600, "1h0m0s"),
        (0.00025, "250µs"),
        (-2, "-2s"),
    ],
)
def test_format_like_go(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_round_trip() -> None:
    for text in ("1h30m0s", "10m0s", "500ms", "1.5s"):
        assert format_duration(parse_duration(text)) == text
