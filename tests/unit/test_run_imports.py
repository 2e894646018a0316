"""``weir run`` imports the web stack only when the UI is on (its memory is measured in
``docs/performance.md``: the Starlette/uvicorn/OIDC/CEL modules cost about 30 MiB)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("weir.web.app", "weir.web.service", "weir.auth.oidc", "authlib", "prompt_toolkit")


def test_weir_run_does_not_import_the_web_stack_until_the_ui_is_on() -> None:
    code = f"import sys, weir.cli.run\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"imported by `import weir.cli.run`: {out}"
