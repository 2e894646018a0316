"""Shared output helpers: ``-o table|json|yaml`` and one-line errors."""

from __future__ import annotations

import enum
import json
import sys
from typing import Any

import yaml
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


class OutputFormat(enum.StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


def emit(data: Any, fmt: OutputFormat) -> bool:
    """Print ``data`` as JSON or YAML; returns False for ``table`` (the caller renders it)."""
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return True
    if fmt is OutputFormat.yaml:
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False))
        return True
    return False


def fail(message: str) -> None:
    """Print one ``error:`` line to stderr."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
