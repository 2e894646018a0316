"""``weir cluster up | down | status | kubeconfig``: the local development control plane."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from weir.cli.output import OutputFormat, console, emit
from weir.devcluster import DevCluster
from weir.devcluster.cluster import DEFAULT_STATE_DIR
from weir.errors import ClusterError

app = typer.Typer(
    help="Run a local Kubernetes control plane (etcd + kube-apiserver, optional kwok nodes).",
    no_args_is_help=True,
)

StateDir = Annotated[
    Path,
    typer.Option(
        "--state-dir", envvar="WEIR_CLUSTER_DIR", help="Where the cluster keeps its state."
    ),
]


@app.command()
def up(
    nodes: Annotated[
        int,
        typer.Option(
            "--nodes",
            min=0,
            help="Fake kwok nodes to start "
            "(also starts kube-controller-manager and kube-scheduler).",
        ),
    ] = 0,
    apiserver_port: Annotated[
        int | None,
        typer.Option(
            "--apiserver-port",
            min=1,
            max=65535,
            help="Port for kube-apiserver (default: a free one).",
        ),
    ] = None,
    state_dir: StateDir = DEFAULT_STATE_DIR,
) -> None:
    """Start the control plane; a second `up` reuses the running one."""
    cluster = DevCluster(state_dir)
    already = cluster.is_up()
    t0 = time.monotonic()
    with console.status("starting the control plane..."):
        st = cluster.up(nodes=nodes, apiserver_port=apiserver_port)
    took = time.monotonic() - t0
    verb = "already running" if already else f"started in {took:.1f}s"
    console.print(
        f"cluster {verb}: https://127.0.0.1:{st.apiserver_port} "
        f"(Kubernetes {st.version}, {len(st.nodes)} node(s))"
    )
    console.print(f"kubeconfig: {st.kubeconfig}")


@app.command()
def down(state_dir: StateDir = DEFAULT_STATE_DIR) -> None:
    """Stop every process the cluster started and remove its state."""
    stopped = DevCluster(state_dir).down()
    console.print(f"stopped {', '.join(stopped)}" if stopped else "no cluster was running")


@app.command()
def status(
    state_dir: StateDir = DEFAULT_STATE_DIR,
    output: Annotated[OutputFormat, typer.Option("-o", "--output")] = OutputFormat.table,
) -> None:
    """Show the cluster's processes. Exit code 1 if it is not running."""
    cluster = DevCluster(state_dir)
    st = cluster.state()
    alive = cluster.running()
    up_ = cluster.is_up()
    data = {
        "running": up_,
        "version": st.version if st else None,
        "server": f"https://127.0.0.1:{st.apiserver_port}" if st else None,
        "kubeconfig": st.kubeconfig if st else None,
        "nodes": st.nodes if st else [],
        "processes": {
            n: {"pid": p.pid, "port": p.port, "running": alive.get(n, False)}
            for n, p in (st.processes.items() if st else [])
        },
    }
    if not emit(data, output):
        if st is None:
            console.print("no cluster: start one with `weir cluster up`")
        else:
            console.print(
                f"server {data['server']}  Kubernetes {st.version}  nodes {len(st.nodes)}"
            )
            table = Table("COMPONENT", "PID", "PORT", "STATUS", box=None)
            for n, p in st.processes.items():
                table.add_row(n, str(p.pid), str(p.port), "running" if alive.get(n) else "stopped")
            console.print(table)
    if not up_:
        raise typer.Exit(1)


@app.command()
def kubeconfig(state_dir: StateDir = DEFAULT_STATE_DIR) -> None:
    """Print the path of the admin kubeconfig.

    Use it as `kubectl --kubeconfig "$(weir cluster kubeconfig)"`."""
    cluster = DevCluster(state_dir)
    if not cluster.is_up():
        raise ClusterError("no development cluster is running: start one with `weir cluster up`")
    typer.echo(str(cluster.kubeconfig_path))
