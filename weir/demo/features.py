"""What this build of weir can do: ``make up`` uses the web UI, the MCP server and the Helm
controller when they are there, and says so when they are not."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

import typer

from weir.runtime.factories import REGISTRY


def _commands() -> dict[str, Any]:
    """The ``weir`` subcommands by name (click command objects; typer vendors its click)."""
    from weir.cli.main import app  # noqa: PLC0415 -- the whole CLI only when asked

    return dict(getattr(typer.main.get_command(app), "commands", {}))


def _options(command: Any) -> set[str]:
    params = getattr(command, "params", None) or []
    return {opt for p in params for opt in getattr(p, "opts", [])}


@dataclass(frozen=True)
class Features:
    run_web_addr: bool
    """``weir run --web-addr`` serves the UI from the controllers' process."""
    ui_command: bool
    """``weir ui`` serves the UI on its own."""
    ui_module: bool
    """``weir.cli.ui`` exists (the same command, before it is part of ``weir``)."""
    mcp_command: bool
    """``weir mcp --transport http``."""
    mcp_module: bool
    """``python -m weir.cli.mcp`` (the same command, before it is part of ``weir``)."""
    controllers: tuple[str, ...]
    """Controllers ``weir run`` knows (``source``, ``kustomize``, ``helm``, ...)."""

    @property
    def helm(self) -> bool:
        return "helm" in self.controllers

    @property
    def ui(self) -> bool:
        return self.run_web_addr or self.ui_command or self.ui_module

    @property
    def mcp(self) -> bool:
        return self.mcp_command or self.mcp_module

    @classmethod
    def detect(cls) -> Features:
        commands = _commands()
        mcp = commands.get("mcp")
        return cls(
            run_web_addr="--web-addr" in _options(commands.get("run")),
            ui_command="ui" in commands,
            ui_module=importlib.util.find_spec("weir.cli.ui") is not None,
            mcp_command=mcp is not None and "--transport" in _options(mcp),
            mcp_module=importlib.util.find_spec("weir.cli.mcp") is not None,
            controllers=tuple(REGISTRY.names()),
        )
