"""The ``kustomization.yaml`` a build runs on: the user's, or one generated as Flux does, with the
Kustomization spec's build settings merged in.

Generation (no kustomization file in ``spec.path``): every ``*.yaml``/``*.yml`` file under the
path, in lexical walk order, becomes a resource; a sub-directory holding a kustomization file is
added as one resource and not descended into. Each file must decode as Kubernetes objects, else
the build fails with ``failed to decode Kubernetes YAML from <file>: <why>`` -- as in Flux, a
stray ``values.yaml`` fails the build instead of being skipped silently.

Merge (:func:`merge_spec`): ``targetNamespace`` -> ``namespace``; ``namePrefix``/``nameSuffix``
set; ``patches`` and ``components`` appended (missing components dropped with
``ignoreMissingComponents``); ``images`` merged by name (an entry replaces the user's entry of
the same name as a whole); ``buildMetadata`` set. ``commonMetadata`` is not a kustomize setting
in Flux: it is applied to the built objects (:func:`weir.kustomize.metadata.set_common_metadata`).

Order: Flux runs kustomize as a library without a reorder option, so the objects come out in
the order of the resources (depth first), unless the kustomization sets ``sortOptions``.
``kustomize build`` (like ``kubectl kustomize``) sorts them (kustomize's legacy kind order)
unless told otherwise, so :func:`merge_spec` sets ``sortOptions: {order: fifo}`` when the
kustomization has none: the output (and ``flux build``'s text, and the history digest) is in
Flux's order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir import yamlio
from weir.kustomize.confine import find_kustomization
from weir.kustomize.errors import BuildError

if TYPE_CHECKING:
    from weir.api.kustomize import KustomizationSpec

KUSTOMIZE_API_VERSION = "kustomize.config.k8s.io/v1beta1"


@dataclass(frozen=True)
class BuildSpec:
    """The build settings of a Kustomization spec, in kustomize's wire form."""

    path: str | None = None
    target_namespace: str | None = None
    name_prefix: str | None = None
    name_suffix: str | None = None
    patches: tuple[dict[str, Any], ...] = ()
    """``{"patch": "...", "target": {"kind": ..., "labelSelector": ...}}`` entries."""
    images: tuple[dict[str, Any], ...] = ()
    """``{"name", "newName", "newTag", "digest"}`` entries."""
    components: tuple[str, ...] = ()
    ignore_missing_components: bool = False
    build_metadata: tuple[str, ...] = ()

    @classmethod
    def from_spec(cls, spec: KustomizationSpec) -> BuildSpec:
        """The build settings of a parsed Kustomization spec."""

        def wire(items: Any) -> tuple[dict[str, Any], ...]:
            return tuple(i.model_dump(by_alias=True, exclude_none=True) for i in items or ())

        return cls(
            path=spec.path,
            target_namespace=spec.target_namespace,
            name_prefix=spec.name_prefix,
            name_suffix=spec.name_suffix,
            patches=wire(spec.patches),
            images=wire(spec.images),
            components=tuple(spec.components or ()),
            ignore_missing_components=bool(spec.ignore_missing_components),
            build_metadata=tuple(spec.build_metadata or ()),
        )


def _walk(directory: Path) -> Iterator[Path]:
    """Files and kustomization directories under ``directory``, like Go's ``filepath.Walk``:
    lexical order, symlinked directories not followed."""
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            if find_kustomization(path) is not None:
                yield path
            else:
                yield from _walk(path)
        elif path.suffix in (".yaml", ".yml"):
            yield path


def _object_problem(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return "not a Kubernetes object (a mapping with apiVersion, kind and metadata)"
    if not any(key in doc for key in ("apiVersion", "kind", "metadata")):
        return "missing Resource metadata"
    for key in ("apiVersion", "kind"):
        if not doc.get(key):
            return f"missing {key}"
    if str(doc["kind"]).endswith("List") and isinstance(doc.get("items"), list):
        return None
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or not (meta.get("name") or meta.get("generateName")):
        return "missing metadata.name"
    return None


def check_manifest_file(path: Path, shown: str) -> None:
    """Refuse a file that is not YAML of Kubernetes objects, naming it and the YAML error."""
    hint = (
        "fix the file, move it out of spec.path, or add a kustomization.yaml listing the manifests"
    )
    try:
        docs = list(yamlio.load_all(path.read_bytes().decode("utf-8-sig")))
    except (yamlio.YAMLError, UnicodeDecodeError) as e:
        raise BuildError(f"failed to decode Kubernetes YAML from {shown}: {e}; {hint}") from e
    for doc in docs:
        if doc is not None and (problem := _object_problem(doc)):
            raise BuildError(f"failed to decode Kubernetes YAML from {shown}: {problem}; {hint}")


def generate_kustomization(directory: Path, root: Path) -> dict[str, Any]:
    """A kustomization listing the manifests under ``directory`` (see the module docstring).

    File names in errors are shown relative to ``root`` (the artifact).
    """
    resources = []
    for path in _walk(directory):
        if path.is_file():
            check_manifest_file(path, str(path.relative_to(root)))
        resources.append("./" + path.relative_to(directory).as_posix())
    return {"apiVersion": KUSTOMIZE_API_VERSION, "kind": "Kustomization", "resources": resources}


def _merge_images(current: Any, extra: tuple[dict[str, Any], ...]) -> list[Any]:
    images: list[Any] = list(current) if isinstance(current, list) else []
    for image in extra:
        names = [i.get("name") if isinstance(i, dict) else None for i in images]
        if image.get("name") in names:
            images[names.index(image.get("name"))] = dict(image)
        else:
            images.append(dict(image))
    return images


def merge_spec(kustomization: dict[str, Any], spec: BuildSpec, directory: Path) -> dict[str, Any]:
    """``kustomization`` with the Kustomization spec's build settings merged in (a new dict)."""
    out = dict(kustomization)
    if spec.target_namespace:
        out["namespace"] = spec.target_namespace
    if spec.name_prefix:
        out["namePrefix"] = spec.name_prefix
    if spec.name_suffix:
        out["nameSuffix"] = spec.name_suffix
    if spec.patches:
        out["patches"] = [*(out.get("patches") or []), *(dict(p) for p in spec.patches)]
    if spec.images:
        out["images"] = _merge_images(out.get("images"), spec.images)
    components = list(spec.components)
    if spec.ignore_missing_components:
        components = [c for c in components if (directory / c).exists()]
    if components:
        out["components"] = [*(out.get("components") or []), *components]
    if spec.build_metadata:
        out["buildMetadata"] = list(spec.build_metadata)
    if not out.get("sortOptions"):
        out["sortOptions"] = {"order": "fifo"}  # Flux's order (see the module docstring)
    if not out.get("resources") and not out.get("components"):
        out["resources"] = []  # kustomize refuses a kustomization with nothing in it
    return out


def write_kustomization(directory: Path, root: Path, spec: BuildSpec) -> Path:
    """Generate or load the kustomization of ``directory``, merge ``spec`` in, write it back.

    Only ever call this on a private copy (it rewrites the user's file). Returns the file.
    """
    existing = find_kustomization(directory)
    if existing is None:
        doc = generate_kustomization(directory, root)
        target = directory / "kustomization.yaml"
    else:
        shown = existing.relative_to(root)
        try:
            doc = yamlio.load(existing.read_text())
        except (yamlio.YAMLError, UnicodeDecodeError) as e:
            raise BuildError(f"failed to read {shown}: {e}; fix the kustomization file") from e
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            raise BuildError(f"{shown} is not a kustomization (a YAML mapping expected)")
        target = existing
    if target.is_symlink():  # write our own file, not through a link into a shared one
        target.unlink()
    target.write_text(yamlio.dump(merge_spec(doc, spec, directory)))
    return target
