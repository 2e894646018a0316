"""The real Helm CLI for tests that install weir's chart as users do (``helm lint``, ``helm
package``, ``helm push``, ``helm install oci://...``). weir runs Helm in process
(helm-python-sdk, ADR 0002); this binary is the user's tool, built from its Go module and cached
by ``scripts/build-helm.sh`` (``make tools``; :func:`helm_binary` runs it when missing)."""

from __future__ import annotations

import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-helm.sh"


def helm_binary() -> Path:
    """The cached helm binary, building it first when missing."""
    if not SCRIPT.is_file():
        raise RuntimeError("scripts/build-helm.sh is not next to the package: run from a checkout")
    out = subprocess.run([str(SCRIPT)], check=True, capture_output=True, text=True, timeout=1800)
    return Path(out.stdout.strip().splitlines()[-1])


def helm(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``helm ARGS`` (not checked: the caller reads returncode, stdout and stderr)."""
    return subprocess.run(
        [str(helm_binary()), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
