"""Shared output helpers: ``-o table|json|yaml``, plain kubectl-style tables, ages, status
lines (``✔``/``✗``/``►``/``◎``) and one-line errors.

Tables and data go to stdout as plain text (no wrapping, no colour), so that they can be piped
and grepped; progress and errors go to stderr.
"""

from __future__ import annotations

import enum
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import yaml
from rich.console import Console
from rich.text import Text

console = Console()
err_console = Console(stderr=True)

COLUMN_GAP = "   "
OK, FAILED, ACTION, WAITING = "✔", "✗", "►", "◎"


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n"


def json_line(data: Any) -> str:
    """Compact JSON on one line (watch events, one per line)."""
    return json.dumps(data, default=str, ensure_ascii=False, separators=(",", ":")) + "\n"


def emit_event(event_type: str, obj: Any, fmt: OutputFormat) -> None:
    """One watch event: a JSON line, or a YAML document ending with ``---``."""
    event = {"type": event_type, "object": obj}
    if fmt is OutputFormat.json:
        write(json_line(event))
    else:
        write(yaml.safe_dump(event, sort_keys=False, allow_unicode=True) + "---\n")


def emit(data: Any, fmt: OutputFormat) -> bool:
    """Print ``data`` as JSON or YAML; returns False for ``table`` (the caller renders it)."""
    if fmt is OutputFormat.json:
        write(to_json(data))
        return True
    if fmt is OutputFormat.yaml:
        write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        return True
    return False


def as_list(items: Sequence[Any]) -> dict[str, Any]:
    """A ``v1 List`` around objects, as ``kubectl get -o json`` prints several objects."""
    return {"apiVersion": "v1", "kind": "List", "items": list(items), "metadata": {}}


def write(text: str, *, err: bool = False) -> None:
    """Write and flush (watch output must appear at once, also through a pipe)."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text)
    stream.flush()


def line(text: str, *, err: bool = False) -> None:
    write(text + "\n", err=err)


def status_line(symbol: str, text: str) -> None:
    """``✔ text`` on stdout; ``✗``, ``►`` and ``◎`` lines on stderr (like the flux CLI)."""
    line(f"{symbol} {text}", err=symbol != OK)


def fail(message: str) -> None:
    """Print one ``error:`` line to stderr."""
    err_console.print(
        Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True
    )


# ----------------------------------------------------------------------------------- tables
_SPACE = re.compile(r"\s+")


def cell(value: Any) -> str:
    """A table cell: text on one line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    return _SPACE.sub(" ", str(value)).strip()


class Table:
    """A kubectl-style table: upper-case headers, columns padded with three spaces, the last
    column unpadded. Rows added after :meth:`render` (watch output) keep the widths."""

    def __init__(self, headers: Sequence[str]) -> None:
        self.headers = [h.upper() for h in headers]
        self.widths = [len(h) for h in self.headers]

    def _format(self, values: Sequence[str]) -> str:
        padded = [v.ljust(w) for v, w in zip(values[:-1], self.widths[:-1], strict=True)]
        return COLUMN_GAP.join([*padded, values[-1]]).rstrip()

    def render(self, rows: Sequence[Sequence[Any]]) -> str:
        cells = [[cell(v) for v in r] for r in rows]
        for r in cells:
            self.widths = [max(w, len(v)) for w, v in zip(self.widths, r, strict=True)]
        return "".join(self._format(r) + "\n" for r in [self.headers, *cells])

    def row(self, values: Sequence[Any]) -> str:
        """One more row in the widths of the rendered table."""
        return self._format([cell(v) for v in values]) + "\n"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    return Table(headers).render(rows)


# ----------------------------------------------------------------------------------- ages
def human_duration(seconds: float) -> str:
    """A short duration as kubectl prints ages: ``45s``, ``3m20s``, ``25m``, ``5h10m``,
    ``20h``, ``3d4h``, ``45d``, ``2y30d``."""
    if seconds < -1:
        return "<invalid>"
    s = max(int(seconds), 0)
    m, h, d = s // 60, s // 3600, s // 86400
    y = d // 365
    if s < 120:
        return f"{s}s"
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{d}d{h % 24}h" if h % 24 else f"{d}d"
    if d < 365 * 2:
        return f"{d}d"
    if d < 365 * 8:
        return f"{y}y{d % 365}d" if d % 365 else f"{y}y"
    return f"{y}y"


def age(since: datetime | None, now: datetime | None = None) -> str:
    """How long ago ``since`` was (``<unknown>`` when unset)."""
    if since is None:
        return "<unknown>"
    now = now or datetime.now(UTC)
    return human_duration((now - since).total_seconds())


class Spinner:
    """A rich status spinner on stderr while waiting; silent when stderr is not a terminal
    (the ``►``/``◎`` lines tell the story there)."""

    def __init__(self, text: str = "") -> None:
        self._status = err_console.status(text) if err_console.is_terminal else None

    def __enter__(self) -> Spinner:
        if self._status is not None:
            self._status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.stop()

    def update(self, text: str) -> None:
        if self._status is not None:
            self._status.update(Text(text))
