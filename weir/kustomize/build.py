"""Flux's build step: ``spec.path`` of an extracted artifact -> the list of objects to apply.

1. ``spec.path`` must resolve inside the artifact (:func:`~weir.kustomize.workspace.resolve_path`).
2. What the path reaches is listed and checked to stay inside the artifact, whatever field names
   it (:func:`~weir.kustomize.confine.closure`); only those files are copied into a private
   workspace (:func:`~weir.kustomize.workspace.materialize`, removed afterwards).
3. The kustomization of ``spec.path`` is generated or loaded, the spec's build settings merged in
   (:mod:`weir.kustomize.generate`).
4. The real kustomize builds it: ``kustomize build --load-restrictor=LoadRestrictionsNone``
   (the pinned CLI, else ``kubectl kustomize``: :mod:`weir.kustomize.engine`), confined to the
   workspace and bounded in memory, time and output (:mod:`weir.kustomize.sandbox`).
5. The output is split into :class:`Manifest` objects, each keeping the YAML text kustomize
   printed for it: post-build substitution works on that text, as Flux's does.

Steps 1-5 are one job (:func:`build_job`) of a build worker (:mod:`weir.kustomize.pool`): none
of it runs on the controller's event loop. :func:`build` is the asynchronous front.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from weir import yamlio
from weir.kustomize.confine import Closure, closure
from weir.kustomize.engine import Engine, find_engine
from weir.kustomize.errors import BuildError
from weir.kustomize.generate import BuildSpec, write_kustomization
from weir.kustomize.pool import BuildPool, default_pool
from weir.kustomize.sandbox import Limits, run_kustomize
from weir.kustomize.touched import Reads, reads_of
from weir.kustomize.workspace import materialize, resolve_path

__all__ = [
    "BuildOutput",
    "Engine",
    "Manifest",
    "build",
    "build_job",
    "find_engine",
    "kustomize_build",
    "parse_output",
]

DEFAULT_TIMEOUT = 60.0
_SEPARATOR = re.compile(r"^---[ \t]*$", re.M)


@dataclass(frozen=True)
class Manifest:
    """One built object: its YAML as kustomize printed it, and the parsed object."""

    text: str
    object: dict[str, Any]

    @property
    def display(self) -> str:
        """``Kind/namespace/name`` (``Kind/name`` when cluster-scoped), as Flux prints objects."""
        meta = self.object.get("metadata") or {}
        parts = [self.object.get("kind"), meta.get("namespace"), meta.get("name")]
        return "/".join(str(p) for p in parts if p)


@dataclass(frozen=True)
class BuildOutput:
    """A build's objects, the digest of what it read (None with remote bases), and the
    history digest of its objects (:func:`objects_digest`)."""

    manifests: list[Manifest]
    inputs: str | None
    digest: str = ""
    reads: Reads | None = None
    """What the build read (:mod:`weir.kustomize.touched`)."""


def objects_digest(objects: list[dict[str, Any]]) -> str:
    """``sha256:<hex>`` of the objects as sorted YAML: the ``digest`` of Flux's
    ``status.history`` entries. (Dumping YAML is slow: call it in a build worker.)"""
    text = yaml.dump_all(objects, Dumper=_DigestDumper, sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


_DigestDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def parse_output(text: str) -> list[Manifest]:
    """Split kustomize's output into :class:`Manifest` objects, checking each is an object."""
    manifests = []
    for doc_text in _SEPARATOR.split(text):
        if not doc_text.strip():
            continue
        try:
            obj = yamlio.load(doc_text)
        except yamlio.YAMLError as e:
            raise BuildError(f"kustomize printed YAML that does not parse: {e}") from e
        if obj is None:
            continue
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(meta, dict) or not (obj.get("apiVersion") and obj.get("kind")):
            shown = doc_text if len(doc_text) < 200 else doc_text[:200] + "..."
            raise BuildError(f"build output holds a document that is not an object: {shown!r}")
        if not meta.get("name"):
            raise BuildError(
                f"{obj['kind']} in the build output has no metadata.name: give it a name"
            )
        manifests.append(Manifest(doc_text.strip("\n") + "\n", obj))
    return manifests


def kustomize_output(
    real: Path,
    directory: Path,
    found: Closure,
    spec: BuildSpec,
    *,
    limits: Limits,
    allow_remote: bool,
    engine: Engine | None,
) -> str:
    """(In a worker.) Steps 2-4 for the resolved ``directory`` of the artifact at ``real``: the
    files of ``found`` copied into a private workspace (removed afterwards), the kustomization
    written, and kustomize's output text."""
    tmp = Path(tempfile.mkdtemp(prefix="weir-kustomize-"))
    try:
        work = materialize(found, tmp / "src")
        target = work / directory.relative_to(real)
        target.mkdir(parents=True, exist_ok=True)
        write_kustomization(target, work, spec)
        return run_kustomize(target, work, limits=limits, allow_remote=allow_remote, engine=engine)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def build_job(
    root: str, spec: BuildSpec, limits: Limits, allow_remote: bool, engine: Engine | None
) -> BuildOutput:
    """(In a worker.) Steps 1-5 of the module docstring."""
    real = Path(root).resolve(strict=True)
    directory = resolve_path(real, spec.path)
    found = closure(real, directory, components=spec.components, allow_remote=allow_remote)
    output = kustomize_output(
        real, directory, found, spec, limits=limits, allow_remote=allow_remote, engine=engine
    )
    manifests = parse_output(output)
    return BuildOutput(
        manifests,
        found.digest,
        objects_digest([m.object for m in manifests]),
        reads_of(found, spec.path),
    )


def kustomize_job(directory: str, limits: Limits, engine: Engine | None) -> str:
    """(In a worker.) kustomize on a directory the caller wrote (no remote bases)."""
    path = Path(directory)
    return run_kustomize(path, path, limits=limits, allow_remote=False, engine=engine)


async def build(
    root: Path,
    spec: BuildSpec,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - enforced by the worker
    engine: Engine | None = None,
    allow_remote: bool = True,
    limits: Limits | None = None,
    pool: BuildPool | None = None,
) -> list[Manifest]:
    """Build ``spec.path`` of the artifact extracted at ``root`` (see the module docstring).

    Never modifies ``root``. Raises :class:`~weir.kustomize.errors.ArtifactPathError` for a bad
    path and :class:`~weir.kustomize.errors.BuildError` for everything else.
    """
    out = await build_output(
        root,
        spec,
        timeout=timeout,
        engine=engine,
        allow_remote=allow_remote,
        limits=limits,
        pool=pool,
    )
    return out.manifests


async def build_output(
    root: Path,
    spec: BuildSpec,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - enforced by the worker
    engine: Engine | None = None,
    allow_remote: bool = True,
    limits: Limits | None = None,
    pool: BuildPool | None = None,
) -> BuildOutput:
    """:func:`build`, with the digest of its inputs."""
    bounded = (limits or Limits()).within(timeout)
    return await (pool or default_pool()).call(
        build_job, str(root), spec, bounded, allow_remote, engine, timeout=bounded.timeout
    )


async def kustomize_build(
    directory: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - enforced by the worker
    engine: Engine | None = None,
    workdir: Path | None = None,
    limits: Limits | None = None,
    pool: BuildPool | None = None,
) -> str:
    """Run kustomize (confined to ``directory``, no remote bases) on a directory the caller
    wrote, and return its YAML output. ``workdir`` is accepted for compatibility (paths in
    errors are always shown relative to ``directory``)."""
    del workdir
    bounded = (limits or Limits()).within(timeout)
    return await (pool or default_pool()).call(
        kustomize_job, str(directory), bounded, engine, timeout=bounded.timeout
    )
