"""Structured logs: stdlib ``logging`` with a JSON (or console) formatter and object-bound loggers.

Messages are constant ("reconciliation finished"); what varies goes into key/value fields passed
with ``extra=`` or bound with :func:`object_logger` (``kind``, ``namespace``, ``name``,
``revision``, ``reconcileID``). Values whose key looks secret (password, token, ...) and
credentials embedded in URLs are redacted before they are written.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from typing import IO, Any, Literal

import orjson

LogEncoding = Literal["json", "console"]
LOG_LEVELS = ("trace", "debug", "info", "warning", "error")

_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)
_SECRET_KEY = re.compile(
    r"passw(or)?d|^pass$|secret|token|credential|api[-_]?key|private[-_]?key|bearer|authorization",
    re.I,
)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s:]+(:[^/@\s]*)?@")
REDACTED = "***"


def redact(text: str) -> str:
    """``text`` with ``user:password@`` in URLs replaced by ``***@``."""
    return _URL_CREDENTIALS.sub(rf"\g<scheme>{REDACTED}@", text)


def _clean(key: str, value: Any) -> Any:
    if _SECRET_KEY.search(key):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): _clean(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(key, v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


FIELDS_ATTR = "weir_fields"
"""Where :func:`kv` and :class:`BoundLogger` put their fields on a record: stdlib ``extra`` may
not use names such as ``name`` or ``msg`` (``KeyError: Attempt to overwrite 'name' in
LogRecord``), which object logs need."""


def kv(**fields: Any) -> dict[str, Any]:
    """The ``extra=`` of every log call: ``log.info("applied", extra=kv(name=n, revision=r))``.

    The fields travel under one private attribute of the record, so no field name can collide
    with a LogRecord attribute; ``tests/unit/test_log.py`` checks that every ``extra=`` in the
    code base is written this way."""
    return {FIELDS_ATTR: fields}


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The key/value fields of a record (its ``extra`` and bound fields), redacted."""
    raw = {
        k: v
        for k, v in record.__dict__.items()
        if k not in _STANDARD_ATTRS and k != FIELDS_ATTR and not k.startswith("_")
    }
    bound = record.__dict__.get(FIELDS_ATTR)
    if isinstance(bound, Mapping):
        raw.update(bound)
    return {str(k): _clean(str(k), v) for k, v in raw.items()}


def _timestamp(record: logging.LogRecord) -> str:
    ts = datetime.fromtimestamp(record.created, UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


class JSONFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg``, fields, ``error``."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for key, value in record_fields(record).items():
            out.setdefault(key, value)
        if record.exc_info:
            out["error"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(out, default=str).decode()


class ConsoleFormatter(logging.Formatter):
    """``ts LEVEL logger msg key=value ...`` for people reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in record_fields(record).items())
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name} {record.getMessage()}"
        line = redact(f"{line} {fields}" if fields else line)
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


def configure(
    level: str = "info",
    encoding: LogEncoding = "json",
    *,
    stream: IO[str] | None = None,
    replace: bool = True,
) -> logging.Handler:
    """Send the root logger to ``stream`` (stderr) with the chosen level and encoding; returns
    the handler. ``weir run`` replaces every other handler; tests that run the controllers
    in-process pass ``replace=False`` (keeping pytest's) and a file, and so log exactly as
    ``weir run`` does."""
    name = level.lower()
    if name not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}")
    numeric = logging.DEBUG if name in ("trace", "debug") else getattr(logging, name.upper())
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JSONFormatter() if encoding == "json" else ConsoleFormatter())
    root = logging.getLogger()
    if replace:
        for old in list(root.handlers):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for noisy in ("aiohttp.access", "asyncio"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    return handler


class BoundLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger that adds fixed fields to every record; ``bind`` adds more."""

    def __init__(self, logger: logging.Logger, fields: Mapping[str, Any]) -> None:
        super().__init__(logger, dict(fields))

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        given = kwargs.get("extra") or {}
        kwargs["extra"] = kv(**{**(self.extra or {}), **given.get(FIELDS_ATTR, given)})
        return msg, kwargs

    def bind(self, **fields: Any) -> BoundLogger:
        """A new logger with ``fields`` added (None values are dropped)."""
        merged = {**(self.extra or {}), **{k: v for k, v in fields.items() if v is not None}}
        return BoundLogger(self.logger, merged)


def object_logger(logger: logging.Logger, kind: str, obj: Mapping[str, Any]) -> BoundLogger:
    """A logger bound to one object: ``kind``, ``namespace``, ``name`` (never its content)."""
    meta = obj.get("metadata") or {}
    fields: dict[str, Any] = {"kind": kind, "name": meta.get("name")}
    if meta.get("namespace"):
        fields["namespace"] = meta["namespace"]
    return BoundLogger(logger, fields)
