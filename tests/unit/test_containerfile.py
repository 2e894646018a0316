"""The Containerfile, checked without a container engine (none on this machine): a non-root
numeric user, nothing written to the root filesystem at run time, ``weir`` as the entry point
with a default command ``weir run`` accepts, and every file it copies exists in the tree. The
wheel it installs is tested in tests/integration/test_wheel.py; the flags the chart passes in
tests/integration/test_chart.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from weir.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
LINES = [
    line.strip()
    for line in (ROOT / "Containerfile").read_text().replace("\\\n", " ").splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]


def _final_stage() -> list[str]:
    starts = [i for i, line in enumerate(LINES) if line.startswith("FROM ")]
    return LINES[starts[-1] :]


def _instruction(name: str) -> list[str]:
    return [line.split(" ", 1)[1] for line in _final_stage() if line.startswith(name + " ")]


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    (user,) = _instruction("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit()
    assert int(uid) != 0
    assert gid.isdigit()
    assert int(gid) != 0


def test_nothing_is_written_to_the_root_filesystem_at_run_time() -> None:
    env = " ".join(_instruction("ENV"))
    assert "HOME=/tmp" in env  # git's and the Helm engine's caches go to the /tmp emptyDir
    assert "PYTHONDONTWRITEBYTECODE=1" in env


def test_the_entry_point_is_weir_and_its_default_command_is_one_weir_run_takes() -> None:
    (entry,) = _instruction("ENTRYPOINT")
    assert json.loads(entry) == ["weir"]
    (cmd,) = _instruction("CMD")
    command, *args = json.loads(cmd)
    assert command == "run"
    commands: dict[str, Any] = getattr(typer.main.get_command(app), "commands", {})
    commands[command].make_context(command, list(args))


def test_every_file_it_copies_from_the_tree_exists() -> None:
    for line in LINES:
        if line.startswith("COPY ") and "--from=" not in line:
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), source


def test_the_image_ships_the_pinned_kustomize_where_weir_looks_first() -> None:
    """weir builds with the kustomize CLI next to its Python (weir.kustomize.engine): the image
    builds it with the script `make setup` runs, at the version scripts/versions.env pins."""
    stage = LINES[LINES.index("FROM docker.io/library/golang:1.26-bookworm AS kustomize") :]
    stage = stage[: next(i for i, line in enumerate(stage[1:], 1) if line.startswith("FROM "))]
    assert "COPY scripts/versions.env scripts/build-kustomize.sh scripts/" in stage
    assert any("scripts/build-kustomize.sh" in line for line in stage if line.startswith("RUN "))
    assert "COPY --from=kustomize /out/kustomize /opt/weir/bin/kustomize" in _final_stage()
    assert "/opt/weir/bin" in " ".join(_instruction("ENV"))  # its Python is /opt/weir/bin/python
