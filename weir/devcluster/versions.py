"""The pinned versions of the Go-built binaries (single source: ``scripts/versions.env``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# In a source checkout the file lives in scripts/; wheels carry a copy next to this module.
_CANDIDATES = (_HERE.parents[1] / "scripts" / "versions.env", _HERE / "versions.env")


@dataclass(frozen=True)
class Versions:
    """Versions of the binaries the development control plane runs, and of the kustomize CLI
    weir builds with."""

    kubernetes: str
    kwok: str
    etcd: str  # empty: whatever k8s.io/kubernetes pins
    kustomize: str = ""  # scripts/build-kustomize.sh; weir.kustomize.engine finds it by it


def parse_env_file(text: str) -> dict[str, str]:
    """Parse ``KEY=value`` lines, ignoring comments and blank lines."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


@cache
def pinned_versions() -> Versions:
    """Read ``versions.env`` from the source tree or the installed package."""
    for path in _CANDIDATES:
        if path.is_file():
            env = parse_env_file(path.read_text())
            return Versions(
                kubernetes=env["K8S_VERSION"],
                kwok=env["KWOK_VERSION"],
                etcd=env.get("ETCD_VERSION", ""),
                kustomize=env.get("KUSTOMIZE_VERSION", ""),
            )
    raise FileNotFoundError(f"versions.env not found in {', '.join(map(str, _CANDIDATES))}")
