"""``python -m weir.demo``: ``up`` (what ``make up`` runs), ``down`` (``make down``),
``status`` (the progress table once) and ``mcp`` (call an MCP tool, for the guided tour)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from weir.demo import mcpcall
from weir.demo.orchestrator import Demo, DemoError
from weir.demo.procs import runs, stop_pid
from weir.demo.progress import make_console, render
from weir.demo.settings import DemoSettings
from weir.demo.statefile import DemoState
from weir.demo.status import Snapshot, snapshot
from weir.devcluster import DevCluster
from weir.errors import UsageError, WeirError
from weir.kube.client import api_client

app = typer.Typer(
    name="python -m weir.demo",
    help="The etherwurst fleet on a local control plane: make up / make down.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
RootOpt = Annotated[
    Path, typer.Option("--root", help="State directory (cluster, repositories, logs).")
]


def _rel(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def print_endpoints(console: Console, demo: Demo) -> None:
    e, fleet = demo.endpoints, demo.fleet
    kubectl = Path(sys.executable).with_name("kubectl")
    weir = Path(sys.executable).with_name("weir")
    lines = [
        ("Web UI", e.ui_url or "(not in this build)"),
        ("MCP (HTTP)", e.mcp_url or "(not in this build)"),
        ("kubectl", f"export KUBECONFIG={e.kubeconfig}"),
        ("", f"{_rel(kubectl) if kubectl.exists() else 'kubectl'} get helmreleases -A"),
        ("weir CLI", f"{_rel(weir) if weir.exists() else 'weir'} get all -A"),
        ("Fleet repo", f"{_rel(fleet.work) if fleet else ''}  (git push -> {e.git_url})"),
        ("Charts", e.chart_url),
        ("Logs", "  ".join(_rel(p) for p in e.logs.values())),
        ("Guided tour", "docs/tour.md"),
    ]
    for label, value in lines:
        console.print(f"  [bold]{label:<12}[/] {value}", soft_wrap=True)


UP_STARTED_ENV = "WEIR_UP_STARTED"
"""Set by ``make up`` to the Unix time it started, so the summary can include the set-up
(installing what is missing, building binaries) as well as the demo itself."""


def since_make_up(now: float | None = None) -> float | None:
    """Seconds since ``make up`` started (None when not run by ``make up``)."""
    raw = os.environ.get(UP_STARTED_ENV)
    try:
        started = float(raw) if raw else None
    except ValueError:
        return None
    return None if started is None else (now if now is not None else time.time()) - started


def summary(snap: Snapshot, seconds: float, total: float | None = None) -> str:
    """``seconds``: since the demo started; ``total``: since ``make up`` started."""
    ready, count = snap.ready_count()
    loads = snap.workloads
    when = f"{seconds:.0f}s after the demo started"
    if total is not None and total - seconds >= 1:
        when += f" ({total:.0f}s after `make up` started, set-up included)"
    return (
        f"The etherwurst fleet is Ready: {ready}/{count} Kustomizations and HelmReleases, "
        f"{sum(w.available for w in loads)}/{len(loads)} workloads available, {when}."
    )


async def _up(settings: DemoSettings, console: Console) -> int:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    loop.add_signal_handler(signal.SIGTERM, task.cancel)  # `make down`
    demo = Demo(settings, console)
    try:
        await demo.start()
        console.print()
        print_endpoints(console, demo)
        console.print()
        snap = await demo.wait_ready()
        text = summary(snap, demo.ready_after or 0.0, since_make_up())
        console.print(f"\n[bold green]{text}[/]\n")
        print_endpoints(console, demo)
        console.print("\nPress Ctrl-C to stop everything (or run `make down` in another terminal).")
        await demo.run_until_stopped()
        return 1
    except asyncio.CancelledError:
        console.print("\nstopping …")
        return 0
    except WeirError as e:
        console.print(f"[red]error:[/] {e}")
        return 1
    finally:
        t0 = time.monotonic()
        active = demo.active
        await asyncio.shield(demo.stop())
        if active:
            console.print(f"stopped everything `make up` started ({time.monotonic() - t0:.1f}s)")
        loop.remove_signal_handler(signal.SIGTERM)


@app.command()
def up(
    root: RootOpt = Path(".weir"),
    nodes: Annotated[int, typer.Option("--nodes", min=1, help="kwok nodes.")] = 3,
    ui_addr: Annotated[
        str, typer.Option("--ui-addr", help="host:port of the web UI (0: off).")
    ] = "127.0.0.1:9080",
    mcp_addr: Annotated[
        str, typer.Option("--mcp-addr", help="host:port of the MCP server (0: off).")
    ] = "127.0.0.1:9081",
) -> None:
    """Start the control plane, serve the fleet, run weir, and show progress until Ready;
    Ctrl-C stops everything."""
    console = make_console(stderr=True)
    settings = DemoSettings(root=root, nodes=nodes, ui_addr=ui_addr, mcp_addr=mcp_addr)
    try:
        code = asyncio.run(_up(settings, console))
    except KeyboardInterrupt:  # Ctrl-C: asyncio cancelled _up, which cleaned up
        code = 0
    raise typer.Exit(code)


@app.command()
def down(root: RootOpt = Path(".weir")) -> None:
    """Stop a running `make up` (it cleans up after itself), its leftovers, and the cluster."""
    settings = DemoSettings(root=root)
    state = DemoState.load(settings.state_file)
    if state is not None and state.pid != os.getpid() and runs(state.pid, state.cmdline):
        print(f"stopping make up (pid {state.pid}) …", file=sys.stderr)
        stop_pid(state.pid, state.cmdline, timeout=120)
    if state is not None:
        for child in state.children:
            if stop_pid(child.pid, child.cmdline):
                print(f"stopped {child.name} (pid {child.pid})", file=sys.stderr)
    cluster = DevCluster(Path(state.cluster_dir) if state else settings.cluster_dir)
    for name in cluster.down():
        print(f"stopped {name}", file=sys.stderr)
    settings.state_file.unlink(missing_ok=True)


async def _status(kubeconfig: Path, console: Console) -> Snapshot:
    api = await api_client(str(kubeconfig))
    async with api:
        snap = await snapshot(api)
    console.print(render(snap, 0.0, width=console.width))
    return snap


@app.command()
def status(root: RootOpt = Path(".weir")) -> None:
    """Print the fleet's status table once (exit code 1 unless everything is Ready)."""
    settings = DemoSettings(root=root)
    state = DemoState.load(settings.state_file)
    kubeconfig = (
        Path(state.kubeconfig) if state else DevCluster(settings.cluster_dir).kubeconfig_path
    )
    console = make_console()
    if not kubeconfig.is_file():
        console.print("no local cluster: start one with `make up`")
        raise typer.Exit(1)
    if state is not None:
        for name, url in state.endpoints.items():
            console.print(f"  [bold]{name:<8}[/] {url}")
    snap = asyncio.run(_status(kubeconfig, console))
    raise typer.Exit(0 if snap.all_ready and snap.all_available else 1)


@app.command(name="mcp")
def mcp_tool(
    tool: Annotated[str, typer.Argument(help="Tool name; `list` shows them all.")] = "list",
    arguments: Annotated[
        list[str] | None, typer.Argument(help="Tool arguments as key=value.")
    ] = None,
    root: RootOpt = Path(".weir"),
) -> None:
    """Call a tool of make up's MCP server, as an AI assistant would (e.g. `explain_failure
    kind=Kustomization name=apps namespace=flux-system`)."""
    state = DemoState.load(DemoSettings(root=root).state_file)
    url = state.endpoints.get("mcp") if state else None
    if not url:
        raise DemoError("no MCP server is running: start `make up` (with a build that has one)")
    if tool == "list":
        for name, description in asyncio.run(mcpcall.list_tools(url)):
            print(f"{name:<28} {description}")
        return
    is_error, text = asyncio.run(
        mcpcall.call_tool(url, tool, mcpcall.parse_arguments(arguments or []))
    )
    print(text)
    if is_error:
        raise typer.Exit(1)


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except typer.TyperException as e:  # click's usage errors: unknown command, bad value
        if type(e).__name__ != "NoArgsIsHelpError":
            print(f"error: {e.format_message()}", file=sys.stderr)
        sys.exit(e.exit_code)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except WeirError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
