"""The private copy of an artifact a build works on, and the rule that nothing escapes it.

Flux builds in a directory it just extracted from the artifact tarball, so it may write the
generated ``kustomization.yaml`` there. weir gets a directory that may be shared between builds,
so :func:`private_copy` copies it first, and every edit happens in the copy, which is removed
after the build.

Safety: ``spec.path`` must resolve inside the artifact root, and so must every symlink in the
artifact (kustomize would follow a link to ``/etc`` as happily as one to ``../base``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from weir.kustomize.errors import ArtifactPathError


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def resolve_path(root: Path, path: str | None) -> Path:
    """The directory ``spec.path`` names inside ``root`` (the root when empty).

    A leading ``/`` is relative to the root, as in Flux. Raises :class:`ArtifactPathError` when
    the path (after resolving symlinks) points outside the root, is missing, or is not a directory.
    """
    real_root = root.resolve(strict=True)
    shown = path or "./"
    target = (real_root / (path or "").lstrip("/")).resolve()
    if not _inside(target, real_root):
        raise ArtifactPathError(
            f"spec.path {shown!r} points outside the source artifact (to {target}): "
            "use a path inside the repository"
        )
    if not target.exists():
        raise ArtifactPathError(
            f"kustomization path not found: {shown!r} does not exist in the source artifact; "
            "check spec.path"
        )
    if not target.is_dir():
        raise ArtifactPathError(f"kustomization path {shown!r} is not a directory; check spec.path")
    return target


def check_symlinks(root: Path) -> None:
    """Refuse any symlink under ``root`` whose target resolves outside ``root``."""
    real_root = root.resolve(strict=True)
    for current, dirs, files in os.walk(real_root):
        for name in (*dirs, *files):
            entry = Path(current, name)
            if entry.is_symlink() and not _inside(entry.resolve(), real_root):
                rel = entry.relative_to(real_root)
                raise ArtifactPathError(
                    f"symlink {str(rel)!r} points outside the source artifact "
                    f"(to {os.readlink(entry)!r}): remove it or make it point inside the repository"
                )


def private_copy(root: Path, dest: Path) -> Path:
    """Copy the artifact at ``root`` to ``dest`` (which must not exist) and return ``dest``.

    Symlinks are copied as symlinks; absolute ones (checked to point inside ``root`` by
    :func:`check_symlinks`) are rewritten relative, so that they point into the copy.
    """
    real_root = root.resolve(strict=True)
    shutil.copytree(real_root, dest, symlinks=True)
    for current, dirs, files in os.walk(dest):
        for name in (*dirs, *files):
            link = Path(current, name)
            if link.is_symlink() and os.path.isabs(target := os.readlink(link)):
                inside = Path(target).resolve().relative_to(real_root)
                link.unlink()
                link.symlink_to(os.path.relpath(dest / inside, link.parent))
    return dest
