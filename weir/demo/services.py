"""weir's processes for ``make up``: the chart's operator container command (run here as its
ServiceAccount; it serves the web UI too) or ``weir run`` with every controller, and the web UI
and the MCP server when this build has them. The controllers are required; the UI and MCP are
not: if one of them fails to start, ``make up`` says so and goes on without it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from weir.demo import commands
from weir.demo.features import Features
from weir.demo.procs import ManagedProcess, ProcessError, resolve_addr
from weir.demo.settings import DemoSettings
from weir.errors import WeirError
from weir.testing.podrunner import PodCommand

START_TIMEOUT = 120.0
OPERATOR_NAMESPACE = "flux-system"

OperatorLauncher = Callable[[dict[str, str]], Awaitable[PodCommand]]
"""Listener flag -> ``host:port`` in, the chart's operator container command out
(:func:`weir.demo.install.operator_command`)."""


class ServiceExited(WeirError):
    """One of weir's processes exited while ``make up`` runs."""


@dataclass
class ServiceUrls:
    health: str = ""
    ui: str = ""
    mcp: str = ""
    logs: dict[str, Path] = field(default_factory=dict)


class WeirServices:
    """Start, watch and stop weir's processes."""

    def __init__(self, settings: DemoSettings, features: Features, console: Console) -> None:
        self.settings = settings
        self.features = features
        self.console = console
        self.processes: list[ManagedProcess] = []
        self.urls = ServiceUrls()
        self.identity = ""
        """Whom the controllers authenticate as, when not the admin (the chart's
        ServiceAccount)."""

    def _process(self, name: str, argv: list[str]) -> ManagedProcess:
        log_file = self.settings.log_dir / f"{name}.log"
        proc = ManagedProcess(name, argv, log_file)
        self.processes.append(proc)
        self.urls.logs[name] = log_file
        return proc

    def uses_operator(self) -> bool:
        """Whether weir runs as the operator (asked for, and this build has it)."""
        return self.settings.operator and "operator" in self.features.controllers

    def describe(self) -> str:
        """What will be started, e.g. ``controllers, web UI, MCP``."""
        f, s = self.features, self.settings
        parts = ["operator and its controllers" if self.uses_operator() else "controllers"]
        if f.ui and s.ui_addr.strip() not in ("", "0"):
            parts.append("web UI")
        if f.mcp and s.mcp_addr.strip() not in ("", "0"):
            parts.append("MCP")
        return ", ".join(parts)

    async def start(
        self,
        kubeconfig: Path,
        lease_namespace: str,
        on_spawned: Callable[[], None] | None = None,
        operator: OperatorLauncher | None = None,
    ) -> None:
        """Start every process at once (then call ``on_spawned``, to record their pids), and
        wait until each serves; ``weir run``'s leader-election Lease is in ``lease_namespace``
        (which must exist). With ``operator``, weir is the chart's operator container (its
        command, environment and ServiceAccount identity), given this run's addresses."""
        s, f = self.settings, self.features
        health = resolve_addr("127.0.0.1:0")
        metrics = resolve_addr("127.0.0.1:0")
        assert health is not None
        assert metrics is not None
        ui = resolve_addr(s.ui_addr) if f.ui else None
        mcp = resolve_addr(s.mcp_addr) if f.mcp else None
        if operator is not None:
            ports = {
                "--health-addr": f"{health[0]}:{health[1]}",
                "--metrics-addr": f"{metrics[0]}:{metrics[1]}",
            }
            if ui is not None:
                ports["--web-addr"] = f"{ui[0]}:{ui[1]}"
            command = await operator(ports)
            self.identity = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{command.service_account}"
            weir = self._process("weir", command.argv)
            weir.environ = command.env
        else:
            weir = self._process(
                "weir",
                commands.run_argv(
                    kubeconfig=kubeconfig,
                    controllers="operator" if self.uses_operator() else s.controllers,
                    storage_path=s.storage_dir,
                    health=health,
                    metrics=metrics,
                    requeue_dependency=s.requeue_dependency,
                    log_level=s.log_level,
                    lease_namespace=lease_namespace,
                    web=ui if f.run_web_addr else None,
                    operator_namespace=OPERATOR_NAMESPACE if self.uses_operator() else None,
                ),
            )
        ui_proc = None
        if ui is not None and not f.run_web_addr and operator is None:
            argv = commands.ui_argv(kubeconfig=kubeconfig, addr=ui, subcommand=f.ui_command)
            ui_proc = self._process("ui", argv)
        mcp_proc = None
        if mcp is not None:
            tool_log = s.log_dir / "mcp-tools.jsonl"
            argv = commands.mcp_argv(
                kubeconfig=kubeconfig, addr=mcp, tool_log=tool_log, subcommand=f.mcp_command
            )
            mcp_proc = self._process("mcp", argv)
        for proc in self.processes:
            await proc.start()
        if on_spawned is not None:
            on_spawned()
        self.urls.health = f"http://{health[0]}:{health[1]}/readyz"
        waits = [weir.wait_http(self.urls.health, timeout=START_TIMEOUT)]
        if ui is not None:
            url = f"http://{ui[0]}:{ui[1]}/"
            probe = (ui_proc or weir).wait_http(url + "api/healthz", timeout=START_TIMEOUT)
            waits.append(self._optional("web UI", ui_proc, probe, "ui", url))
        if mcp is not None and mcp_proc is not None:
            url = f"http://{mcp[0]}:{mcp[1]}/mcp"
            probe = mcp_proc.wait_port(mcp[0], mcp[1], timeout=START_TIMEOUT)
            waits.append(self._optional("MCP server", mcp_proc, probe, "mcp", url))
        await asyncio.gather(*waits)

    async def _optional(
        self,
        what: str,
        proc: ManagedProcess | None,
        probe: Coroutine[Any, Any, None],
        attr: str,
        url: str,
    ) -> None:
        try:
            await probe
        except ProcessError as e:
            self.console.print(f"[yellow]![/] the {what} did not start, continuing without it: {e}")
            if proc is not None:
                await proc.stop()
                self.processes.remove(proc)
            return
        setattr(self.urls, attr, url)

    def check(self) -> None:
        """Raise :class:`ServiceExited` if a process has exited."""
        for proc in self.processes:
            if proc.proc is not None and proc.proc.returncode is not None:
                raise ServiceExited(
                    f"{proc.name} exited with code {proc.proc.returncode}; see {proc.log}"
                )

    async def stop(self) -> None:
        await asyncio.gather(*(p.stop() for p in reversed(self.processes)))
