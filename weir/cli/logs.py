"""``weir logs``: weir's controller logs, filtered by object, level and time.

Lines come from ``--file PATH`` (``-`` for standard input), else from the weir pods of the
cluster (``--selector``, default ``app.kubernetes.io/name=weir``); when the cluster runs no weir
pod (or cannot be reached) and ``.weir/logs/weir.log`` exists (``make up`` writes it), from that
file.
"""

from __future__ import annotations

import asyncio
import enum
import math
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from weir.cli import options
from weir.cli.options import ContextOpt, KubeconfigOpt, KubeOptions
from weir.cli.output import line, write
from weir.errors import KubeError, UsageError

if TYPE_CHECKING:
    from kubernetes_asyncio.client import ApiClient

    from weir.actions.logs import Container, LogEntry, LogFilter


class LogFormat(enum.StrEnum):
    text = "text"
    json = "json"


class NoLogsError(KubeError):
    """No weir pod to read logs from."""


def _complete_levels(incomplete: str) -> list[str]:
    return [n for n in ("trace", "debug", "info", "warning", "error") if n.startswith(incomplete)]


# ----------------------------------------------------------------------------- printing
class Printer:
    """Filters entries and prints them as text or as the raw JSON lines."""

    def __init__(self, selection: LogFilter, output: LogFormat) -> None:
        self.selection = selection
        self.output = output

    def wanted(self, entry: LogEntry) -> bool:
        if self.output is LogFormat.json and entry.fields is None:
            return False
        return self.selection.matches(entry)

    def print(self, entry: LogEntry) -> None:
        from weir.actions.logs import format_entry  # noqa: PLC0415

        write((entry.raw if self.output is LogFormat.json else format_entry(entry)) + "\n")


# ----------------------------------------------------------------------------- files
async def _stdin_lines() -> AsyncIterator[str]:
    while raw := await asyncio.to_thread(sys.stdin.readline):
        yield raw.rstrip("\n")


async def from_file(path: str, printer: Printer, count: int | None, follow: bool) -> None:
    from weir.actions.logs import follow_file, parse_line, read_file, tail  # noqa: PLC0415

    if path == "-":
        if follow:  # a pipe follows by itself: print as lines come
            async for raw in _stdin_lines():
                if printer.wanted(entry := parse_line(raw)):
                    printer.print(entry)
            return
        entries = [parse_line(raw) async for raw in _stdin_lines()]
        for entry in tail([e for e in entries if printer.wanted(e)], count):
            printer.print(entry)
        return
    file = Path(path)
    try:
        lines, offset = await asyncio.to_thread(read_file, file)
    except FileNotFoundError:
        raise UsageError(
            f"log file {path} not found: give the file `weir run` writes its log to "
            "(`make up` writes .weir/logs/weir.log)"
        ) from None
    except OSError as e:
        raise UsageError(f"cannot read log file {path}: {e}") from e
    wanted = [entry for entry in map(parse_line, lines) if printer.wanted(entry)]
    for entry in tail(wanted, count):
        printer.print(entry)
    if follow:
        async for raw in follow_file(file, offset):
            if printer.wanted(entry := parse_line(raw)):
                printer.print(entry)


# ----------------------------------------------------------------------------- pods
async def _containers(api: ApiClient, selector: str, namespace: str | None) -> list[Container]:
    from weir.actions.logs import containers, find_pods  # noqa: PLC0415

    pods = await find_pods(api, selector, namespace)
    where = f"in namespace {namespace}" if namespace else "in any namespace"
    if not pods:
        raise NoLogsError(
            f"no weir pod matches {selector} {where}: check --selector and --weir-namespace; "
            "for a local `weir run`, read its log file with --file (`make up` writes "
            ".weir/logs/weir.log)"
        )
    found, skipped = containers(pods)
    for why in skipped:
        line(f"► skipping pod {why}", err=True)
    if not found:
        raise NoLogsError(f"no weir pod matching {selector} {where} has started yet")
    return found


async def from_pods(
    api: ApiClient,
    found: Sequence[Container],
    printer: Printer,
    count: int | None,
    follow: bool,
) -> None:
    from weir.actions.logs import (  # noqa: PLC0415
        follow_pod,
        parse_line,
        parse_time,
        pod_lines,
        tail,
    )

    since = printer.selection.since
    seconds = None
    if since is not None:
        seconds = max(1, math.ceil((datetime.now(UTC) - since).total_seconds()))
    reads = await asyncio.gather(*(pod_lines(api, c, seconds) for c in found))
    oldest = datetime.min.replace(tzinfo=UTC)
    stamped = sorted(
        (
            (parse_time(stamp) or oldest, i, parse_line(raw))
            for i, lines in enumerate(reads)
            for stamp, raw in lines
        ),
        key=lambda t: t[:2],
    )
    for entry in tail([e for _, _, e in stamped if printer.wanted(e)], count):
        printer.print(entry)
    if not follow:
        return
    last = {i: lines[-1][0] if lines else None for i, lines in enumerate(reads)}
    queue: asyncio.Queue[str] = asyncio.Queue()

    async def pump(i: int, container: Container) -> None:
        async for _, raw in follow_pod(api, container, last[i]):
            await queue.put(raw)

    tasks = [asyncio.create_task(pump(i, c)) for i, c in enumerate(found)]
    try:
        while not all(t.done() for t in tasks) or not queue.empty():
            try:
                raw = await asyncio.wait_for(queue.get(), 0.5)
            except TimeoutError:
                continue
            if printer.wanted(entry := parse_line(raw)):
                printer.print(entry)
        for t in tasks:
            t.result()  # a stream that failed
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _main(  # noqa: PLR0917
    opts: KubeOptions,
    file: str | None,
    selector: str,
    weir_namespace: str | None,
    printer: Printer,
    count: int | None,
    follow: bool,
) -> None:
    from weir.actions.logs import LOCAL_LOG_FILE  # noqa: PLC0415
    from weir.kubeconfig import KubeconfigError  # noqa: PLC0415

    if file is not None:
        await from_file(file, printer, count, follow)
        return
    try:
        async with options.connect(opts) as session:
            found = await _containers(session.api, selector, weir_namespace)
            await from_pods(session.api, found, printer, count, follow)
            return
    except (NoLogsError, options.ClusterUnreachableError, KubeconfigError) as e:
        if not LOCAL_LOG_FILE.is_file():
            raise
        if isinstance(e, NoLogsError):
            why = f"no running weir pod matches {selector}"
        elif isinstance(e, options.ClusterUnreachableError):
            why = "the cluster cannot be reached"
        else:
            why = "no kubeconfig"
        line(f"► {why}: reading the local log file {LOCAL_LOG_FILE}", err=True)
    await from_file(str(LOCAL_LOG_FILE), printer, count, follow)


def command(  # noqa: PLR0917 -- typer maps each parameter to an argument or flag
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help="Only lines about this kind (ks, hr, gitrepo, ...).", show_default=False
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Only lines about objects of this name.", show_default=False),
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option(
            "-n",
            "--namespace",
            help="Only lines about objects in this namespace (default: every namespace).",
            show_default=False,
        ),
    ] = None,
    level: Annotated[
        str | None,
        typer.Option(
            "--level",
            help="Lowest level shown: trace, debug, info, warning or error.",
            autocompletion=_complete_levels,
            show_default=False,
        ),
    ] = None,
    follow: Annotated[
        bool, typer.Option("-f", "--follow", help="Keep printing new lines until Ctrl-C.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Only lines newer than this, e.g. 10m or 1h.", show_default=False
        ),
    ] = None,
    tail_lines: Annotated[
        int,
        typer.Option("--tail", help="Only the last N matching lines (-1: all)."),
    ] = -1,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            help="Read this log file of `weir run` (- for standard input) instead of the pods.",
            show_default=False,
        ),
    ] = None,
    selector: Annotated[
        str,
        typer.Option("-l", "--selector", help="Label selector of the weir pods."),
    ] = "app.kubernetes.io/name=weir",
    weir_namespace: Annotated[
        str | None,
        typer.Option(
            "--weir-namespace",
            help="Namespace of the weir pods (default: any).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        LogFormat, typer.Option("-o", "--output", help="text, or json (the lines as written).")
    ] = LogFormat.text,
    kubeconfig: KubeconfigOpt = None,
    context: ContextOpt = None,
) -> None:
    """Show weir's controller logs, filtered by object, level and time.

    Example: weir logs --kind ks --name apps -n flux-system --level error --since 1h
    """
    from weir.actions.logs import LEVEL_NAMES, LEVELS, LogFilter  # noqa: PLC0415

    level_name = level.lower() if level else None
    if level_name is not None and level_name not in LEVELS:
        raise UsageError(f"--level {level!r}: use one of {', '.join(LEVEL_NAMES)}")
    if tail_lines < -1:
        raise UsageError(f"--tail {tail_lines}: give a number of lines, or -1 for all")
    cutoff = None
    if since is not None:
        cutoff = datetime.now(UTC) - timedelta(seconds=options.parse_duration(since, "--since"))
    kind_name = options.kinds_of(kind, single=True)[0].kind if kind else None
    selection = LogFilter(kind_name, namespace, name, level_name, cutoff)
    printer = Printer(selection, output)
    opts = KubeOptions(kubeconfig, context)
    count = None if tail_lines < 0 else tail_lines
    try:
        options.run(_main(opts, file, selector, weir_namespace, printer, count, follow))
    except KeyboardInterrupt:
        if not follow:
            raise
        raise typer.Exit(0) from None
