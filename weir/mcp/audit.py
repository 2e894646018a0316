"""The tool-call log: one structured record per call, never with secret values.

Each record has ``tool``, ``arguments`` (sanitized), ``identity`` (who the API calls were made
as), ``readOnly``, ``outcome`` (``ok`` or ``error``), ``error`` (its message), ``durationMs`` and
``resultChars``. It goes to the ``weir.mcp.calls`` logger (JSON lines on stderr with ``weir mcp``)
and, with ``--tool-log FILE``, is appended to that file as a JSON line.

Sanitizing: a ``manifest`` argument is replaced by the kinds and names it holds and its size
(a manifest may carry Secret data); values under secret-looking keys become ``***``; URLs lose
their ``user:password@``; long strings are cut.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import yaml

from weir.log import kv, redact

log = logging.getLogger("weir.mcp.calls")

MAX_ARGUMENT = 200
_SECRET_KEY = re.compile(r"passw(or)?d|secret|token|credential|api[-_]?key|private[-_]?key", re.I)


def _objects_of(manifest: str) -> list[str]:
    try:
        docs = list(yaml.safe_load_all(manifest))
    except yaml.YAMLError:
        return ["<unparsable YAML>"]
    out = []
    for doc in docs:
        if isinstance(doc, Mapping):
            meta = doc.get("metadata") if isinstance(doc.get("metadata"), Mapping) else {}
            assert isinstance(meta, Mapping)
            parts = [doc.get("kind"), meta.get("namespace"), meta.get("name")]
            out.append("/".join(str(p) for p in parts if p))
    return out


def _clean(key: str, value: Any) -> Any:
    if value is None:
        return None
    if _SECRET_KEY.search(key):
        return "***"
    if isinstance(value, str):
        text = redact(value)
        return text if len(text) <= MAX_ARGUMENT else text[:MAX_ARGUMENT] + "…"
    if isinstance(value, Mapping):
        return {str(k): _clean(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(key, v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _clean(key, str(value))


def sanitize(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments of a call as they may be logged (see the module docstring)."""
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        if key == "manifest" and isinstance(value, str):
            out[key] = {"objects": _objects_of(value), "chars": len(value)}
        else:
            out[key] = _clean(key, value)
    return out


class CallLog:
    """Writes tool-call records (see the module docstring)."""

    def __init__(self, identity: str, read_only: bool, path: str | None = None) -> None:
        self.identity = identity
        self.read_only = read_only
        self.path = Path(path) if path else None
        self._lock = threading.Lock()

    def record(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        error: str | None,
        duration: float,
        result_chars: int,
        identity: str | None = None,
    ) -> dict[str, Any]:
        """Log one call; ``identity``: the caller's, when it is not the server's own."""
        entry: dict[str, Any] = {
            "tool": tool,
            "arguments": sanitize(arguments),
            "identity": identity or self.identity,
            "readOnly": self.read_only,
            "outcome": "error" if error is not None else "ok",
            "durationMs": round(duration * 1000, 1),
            "resultChars": result_chars,
        }
        if error is not None:
            entry["error"] = redact(error)[:2000]
        log.info("tool call", extra=kv(**entry))
        if self.path is not None:
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            line = orjson.dumps({"ts": now, "msg": "tool call", **entry}, default=str) + b"\n"
            with self._lock, self.path.open("ab") as out:
                out.write(line)
        return entry
