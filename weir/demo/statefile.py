"""What a running ``make up`` records in ``.weir/demo.json``: its own pid and those of its child
processes (with their command lines, so that a reused pid is never signalled), whether it started
the cluster, and the addresses it serves."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from weir.demo.procs import runs, stop_pid
from weir.errors import WeirError


@dataclass
class ChildRecord:
    name: str
    pid: int
    cmdline: list[str]


@dataclass
class DemoState:
    pid: int
    cmdline: list[str]
    cluster_dir: str
    cluster_started: bool = False
    kubeconfig: str = ""
    endpoints: dict[str, str] = field(default_factory=dict)
    children: list[ChildRecord] = field(default_factory=list)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> DemoState | None:
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        raw["children"] = [ChildRecord(**c) for c in raw.get("children", [])]
        return cls(**raw)


class AlreadyRunningError(WeirError):
    """Another ``make up`` runs from the same state directory."""


def stop_stale(state_file: Path, own_pid: int) -> DemoState | None:
    """Refuse to start next to a live ``make up``; stop the leftover processes of a dead one
    (killed without cleaning up). Returns the stale state, if there was one."""
    state = DemoState.load(state_file)
    if state is None:
        return None
    if state.pid != own_pid and runs(state.pid, state.cmdline):
        raise AlreadyRunningError(
            f"`make up` is already running (pid {state.pid}): use it, or stop it with `make down`"
        )
    for child in state.children:
        stop_pid(child.pid, child.cmdline)
    state_file.unlink(missing_ok=True)
    return state
