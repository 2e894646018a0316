"""``--log-level`` and ``--log-encoding``, checked the same way by every long-running command
(``weir run``, ``weir mcp``)."""

from __future__ import annotations

from weir import log as runtime_logging
from weir.errors import UsageError
from weir.log import LogEncoding


def checked_logging(level: str, encoding: str) -> tuple[str, LogEncoding]:
    """The level (lower case) and encoding, or a :class:`UsageError` naming the choices."""
    if encoding not in ("json", "console"):
        raise UsageError(f"--log-encoding={encoding}: use json or console")
    if level.lower() not in runtime_logging.LOG_LEVELS:
        levels = ", ".join(runtime_logging.LOG_LEVELS)
        raise UsageError(f"--log-level={level}: use one of {levels}")
    return level.lower(), "json" if encoding == "json" else "console"
