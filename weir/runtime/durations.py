"""Flux (Go ``time.Duration``) durations: ``1h30m``, ``10m``, ``500ms``, ``1.5s``.

Flux's CRDs validate durations with ``^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$``; Go also accepts ``ns``,
``us`` and ``µs``, so :func:`parse_duration` does too. Values are seconds as ``float``.
"""

from __future__ import annotations

import re

from weir.errors import ConfigError

_UNITS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_WHOLE = re.compile(rf"(?:{_PART.pattern})+")


def parse_duration(text: str) -> float:
    """Seconds in a Go duration string; ``0`` is accepted alone, signs are not.

    Raises :class:`~weir.errors.ConfigError` for anything else.
    """
    s = text.strip()
    if s == "0":
        return 0.0
    if not s or not _WHOLE.fullmatch(s):
        raise ConfigError(
            f"invalid duration {text!r}: use a number and a unit (ms, s, m, h), "
            "for example 30s, 10m or 1h30m"
        )
    return sum(float(num) * _UNITS[unit] for num, unit in _PART.findall(s))


def format_duration(seconds: float) -> str:
    """Go's ``Duration.String()``: ``1h30m0s``, ``10m0s``, ``1.5s``, ``500ms``, ``0s``."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds == 0:
        return "0s"
    if seconds < 1:
        for unit, scale in (("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
            if seconds >= scale:
                return f"{_trim(seconds / scale)}{unit}"
        return "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = ""
    if hours:
        out += f"{int(hours)}h"
    if hours or minutes:
        out += f"{int(minutes)}m"
    return out + f"{_trim(secs)}s"


def _trim(value: float) -> str:
    """A number without trailing zeros, at most millisecond-ish precision."""
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"
