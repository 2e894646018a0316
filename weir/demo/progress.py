"""The live table ``make up`` shows until the fleet is Ready."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from typing import IO

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from weir.demo.status import Snapshot, short_revision
from weir.errors import WeirError

MESSAGE_WIDTH = 200
NARROW = 110
"""Below this many columns the REVISION column is left out."""
UNBOUNDED = 1000
"""The width of a console that is not a terminal (a file, a pipe, CI): lines are as long as
their content, never cut at rich's default of 80 columns."""


def make_console(*, stderr: bool = False, file: IO[str] | None = None) -> Console:
    """A console for ``make up``'s output: a terminal's own width, else :data:`UNBOUNDED`
    (unless ``$COLUMNS`` says otherwise), so a redirected status table keeps its messages."""
    console = Console(stderr=stderr, file=file)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(stderr=stderr, file=file, width=UNBOUNDED)
    return console


def _mark(ready: str, suspended: bool) -> Text:
    if suspended:
        return Text("suspended", style="yellow")
    return {
        "True": Text("✔ Ready", style="green"),
        "False": Text("✗ Failed", style="red"),
        "Unknown": Text("… Progressing", style="cyan"),
    }.get(ready, Text("· Pending", style="dim"))


def _clip(text: str, width: int = MESSAGE_WIDTH) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def render(snap: Snapshot, elapsed: float, note: str = "", width: int = 200) -> Group:
    """The table of GitOps objects plus a line on workloads, for a console ``width`` wide."""
    wide = width >= NARROW
    fit = width < UNBOUNDED  # a terminal: fill it, and cut long messages at its edge
    ready, total = snap.ready_count()
    title = f"etherwurst fleet: {ready}/{total} Kustomizations and HelmReleases Ready"
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, expand=fit
    )
    table.add_column("KIND", style="bold", no_wrap=True)
    table.add_column("NAMESPACE/NAME", no_wrap=True)
    table.add_column("STATUS", no_wrap=True)
    if wide:
        table.add_column("REVISION", no_wrap=True, style="dim")
    table.add_column(
        "MESSAGE", no_wrap=True, overflow="ellipsis", ratio=1 if fit else None, min_width=12
    )
    for row in snap.rows:
        revision = [short_revision(row.revision)] if wide else []
        table.add_row(
            row.kind,
            f"{row.namespace}/{row.name}",
            _mark(row.ready, row.suspended),
            *revision,
            _clip(row.message),
        )
    loads = snap.workloads
    available = sum(w.available for w in loads)
    footer = Text(f"workloads available: {available}/{len(loads)}", style="bold")
    waiting = [
        f"{w.kind}/{w.namespace}/{w.name} {w.ready}/{w.desired}" for w in loads if not w.available
    ]
    if waiting:
        footer.append("   waiting: " + _clip(", ".join(waiting), 100), style="dim")
    footer.append(f"   [{elapsed:.0f}s]", style="dim")
    parts: list[Table | Text] = [table, footer]
    if note:
        parts.append(Text(note, style="yellow"))
    return Group(*parts)


async def follow(
    poll: Callable[[], Awaitable[Snapshot]],
    done: Callable[[Snapshot], bool],
    console: Console,
    *,
    started: float | None = None,
    interval: float = 0.5,
    note: str = "",
) -> Snapshot:
    """Poll and redraw until ``done(snapshot)``; returns the last snapshot. Cancel to stop."""
    t0 = started if started is not None else time.monotonic()
    snap = await poll()
    first = render(snap, time.monotonic() - t0, note, console.width)
    with Live(first, console=console, refresh_per_second=4) as live:
        while not done(snap):
            await asyncio.sleep(interval)
            with contextlib.suppress(WeirError):  # an API hiccup: keep the last picture
                snap = await poll()
            live.update(render(snap, time.monotonic() - t0, note, console.width))
    return snap
