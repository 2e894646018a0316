"""Keep kustomize inside the artifact: refuse kustomization files that name local files outside.

Flux builds with ``LoadRestrictionsNone`` (so ``../base`` and shared patch files work) but on a
file system rooted at the artifact, so that a repository cannot make the controller read, say,
its service-account token through a ``configMapGenerator``. ``kubectl kustomize`` has no such
file system; :func:`check_kustomizations` gives the same guarantee by reading every kustomization
file of the workspace before the build and refusing any local path (absolute, or ``..`` too many)
that leaves the root. Remote bases (URLs) are allowed unless ``allow_remote`` is False (Flux's
``--no-remote-bases``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from weir import yamlio
from weir.kustomize.errors import BuildError

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

_LIST_FIELDS = (
    "resources",
    "bases",
    "components",
    "crds",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "patchesStrategicMerge",
)
_PATH_LIST_FIELDS = ("patches", "patchesJson6902", "replacements")
_GENERATOR_FIELDS = ("configMapGenerator", "secretGenerator")
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|[a-z0-9-]+(?:\.[a-z0-9-]+)+/)", re.I)


def find_kustomization(directory: Path) -> Path | None:
    """The kustomization file of ``directory``, if it has one."""
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _referenced(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(field, path-or-url) pairs a kustomization refers to (inline documents skipped)."""
    for field in _LIST_FIELDS:
        for value in _strings(doc.get(field)):
            if "\n" not in value:
                yield field, value
    for field in _PATH_LIST_FIELDS:
        for item in doc.get(field) or []:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                yield f"{field}.path", item["path"]
    for field in _GENERATOR_FIELDS:
        for gen in doc.get(field) or []:
            if not isinstance(gen, dict):
                continue
            for value in _strings(gen.get("files")):
                yield f"{field}.files", value.split("=", 1)[-1]
            for value in _strings(gen.get("envs")):
                yield f"{field}.envs", value
            if isinstance(gen.get("env"), str):
                yield f"{field}.env", gen["env"]
    openapi = doc.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield "openapi.path", openapi["path"]
    for chart in doc.get("helmCharts") or []:
        if isinstance(chart, dict):
            values_files = [chart.get("valuesFile"), *(chart.get("additionalValuesFiles") or [])]
            for item in values_files:
                if isinstance(item, str):
                    yield "helmCharts.valuesFile", item


def _check_file(kfile: Path, root: Path, allow_remote: bool) -> None:
    try:
        doc = yamlio.load(kfile.read_text())
    except (OSError, UnicodeDecodeError, yamlio.YAMLError):
        return  # kustomize reports unreadable kustomizations itself, with better context
    if not isinstance(doc, dict):
        return
    shown = kfile.relative_to(root)
    for field, value in _referenced(doc):
        local = kfile.parent / value
        if not os.path.isabs(value) and _REMOTE.match(value) and not local.exists():
            if allow_remote:
                continue
            raise BuildError(
                f"{shown}: {field} {value!r} is a remote base, and remote bases are disabled: "
                "vendor it into the repository"
            )
        resolved = local.resolve()
        if resolved != root and not resolved.is_relative_to(root):
            raise BuildError(
                f"{shown}: {field} {value!r} points outside the source artifact; "
                "kustomize may only read files of the source (use a path inside the repository)"
            )


def check_kustomizations(root: Path, *, allow_remote: bool = True) -> None:
    """Read every kustomization file under ``root`` and refuse local references leaving it."""
    real_root = root.resolve(strict=True)
    for current, _dirs, files in os.walk(real_root):
        for name in KUSTOMIZATION_FILES:
            if name in files:
                _check_file(Path(current, name), real_root, allow_remote)
