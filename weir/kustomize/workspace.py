"""The private workspace a build works in: a copy of only what ``spec.path`` reaches.

Flux builds in a directory it just extracted from the artifact tarball, so it may write the
generated ``kustomization.yaml`` there. weir shares one extracted artifact between the builds of
every Kustomization of a source (read-only), so :func:`materialize` copies the files of the
build's :class:`~weir.kustomize.confine.Closure` -- the path's kustomizations, manifests,
patches, generator inputs, and the symlinks on the way, at their places relative to the root --
into a fresh directory. The cost of a build therefore follows its own path, not the size of the
repository, and kustomize (confined to the workspace by :mod:`weir.kustomize.sandbox`) cannot
even see the rest of the artifact.

Safety: ``spec.path`` must resolve inside the artifact root (:func:`resolve_path`), and so must
every symlink the build passes through (checked by :mod:`weir.kustomize.confine`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from weir.kustomize.confine import Closure
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
            f"spec.path {shown!r} points outside the source artifact: "
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
    """Refuse any symlink under ``root`` whose target resolves outside ``root`` (for tools that
    vet a whole artifact; builds check the links their path passes through)."""
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


def materialize(found: Closure, dest: Path) -> Path:
    """Copy the files of ``found`` to ``dest`` (created; must not exist) at the same relative
    places, recreate its symlinks as relative links into ``dest``, and return ``dest``."""
    dest.mkdir(parents=True)
    made: set[Path] = {dest}
    for rel in sorted(found.files):
        target = dest / rel
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        shutil.copyfile(found.root / rel, target)
    for rel, points_to in sorted(found.links.items()):
        link = dest / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        goal = dest / points_to
        if not goal.exists():  # a directory link whose files were all copied through it
            goal.mkdir(parents=True, exist_ok=True)
        if not os.path.lexists(link):
            link.symlink_to(os.path.relpath(goal, link.parent))
    return dest
