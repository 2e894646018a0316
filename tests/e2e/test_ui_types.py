"""The UI's TypeScript types of the API are generated from the pydantic models
(scripts/gen-ui-types.sh, run by `make ui`); the committed file must be current."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "ui" / "src" / "generated" / "api-types.ts"


def test_generated_types_are_current(tmp_path: Path) -> None:
    out = tmp_path / "api-types.ts"
    subprocess.run([str(ROOT / "scripts" / "gen-ui-types.sh"), str(out)], check=True, cwd=ROOT)
    assert out.read_text() == GENERATED.read_text(), (
        "ui/src/generated/api-types.ts is stale: run scripts/gen-ui-types.sh (or make ui)"
    )
