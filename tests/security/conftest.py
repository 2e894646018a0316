"""Fixtures of the attack suite (the shared ones come from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

SECRET = "TOP-SECRET-of-the-controller"


@pytest.fixture
def controller_secret(tmp_path: Path) -> Path:
    """A file of the controller's, outside every artifact (stands for its kubeconfig)."""
    path = tmp_path / "controller" / "kubeconfig"
    path.parent.mkdir()
    path.write_text(f"token: {SECRET}\n")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An extracted artifact with one harmless manifest."""
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: harmless\n"
    )
    return root
