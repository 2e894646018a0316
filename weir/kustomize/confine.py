"""What ``spec.path`` reaches: every file kustomize may read for one build, checked to stay
inside the artifact.

Flux builds with ``LoadRestrictionsNone`` (so ``../base`` and shared patch files work) on a file
system rooted at the artifact. weir gets the same guarantee in two layers:

1. **This module** (the static check, and the list of what to copy): :func:`closure` starts at
   ``spec.path`` and follows every field of every kustomization it reaches -- ``resources``,
   ``bases``, ``components``, ``crds``, ``configurations``, ``generators``, ``transformers`` and
   ``validators`` (paths, directories, *and* inline plugin configs, whose ``files``, ``envs``,
   ``env``, ``path``, ``paths``, ``replacements`` and Helm values are followed too, as are those
   of the plugin-config files they name), ``patches``, ``patchesStrategicMerge``,
   ``patchesJson6902``, ``replacements``, ``configMapGenerator``/``secretGenerator``
   (``files``, ``envs``, ``env``), ``openapi.path`` and ``helmCharts`` values files, plus the
   Kustomization spec's own ``components``. Any local path that is absolute, leaves the artifact
   (``..``, or a symlink pointing out), or is a ``file://`` URL fails the build naming the file
   and field; remote URLs fail only with ``allow_remote=False`` (``--no-remote-bases``). Only
   what this path reaches is checked: a bad file elsewhere in the repository does not fail other
   Kustomizations of the same source.
2. **The workspace and the sandbox**: only the files listed here are copied into the build's
   workspace (:mod:`weir.kustomize.workspace`), and kustomize runs confined to that workspace
   (:mod:`weir.kustomize.sandbox`), so a field this module does not know reads nothing of the
   controller's either.

:attr:`Closure.digest` (a digest of the listed files' paths and contents) is what a build's
output depends on, which lets the controller skip builds whose inputs did not change.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from weir import yamlio
from weir.kustomize.errors import ArtifactPathError, BuildError

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MAX_LINKS = 40

_PATH_FIELDS = ("resources", "bases", "components", "crds", "configurations")
_PLUGIN_FIELDS = ("generators", "transformers", "validators")
_PATH_ITEM_FIELDS = ("patches", "patchesJson6902", "replacements")
_GENERATOR_FIELDS = ("configMapGenerator", "secretGenerator")
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@|[a-z0-9-]+(?:\.[a-z0-9-]+)+/)", re.I)
_FILE_URL = re.compile(r"^file:", re.I)


def find_kustomization(directory: Path) -> Path | None:
    """The kustomization file of ``directory``, if it has one."""
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


@dataclass
class Closure:
    """The files (and symlinks) one build may read, relative to the artifact root."""

    root: Path
    """The artifact root (resolved)."""
    files: set[str] = field(default_factory=set)
    """Regular files, as real paths relative to :attr:`root`."""
    links: dict[str, str] = field(default_factory=dict)
    """Symlinks passed through: real location of the link -> real path of its target (both
    relative to :attr:`root`)."""
    remote: list[str] = field(default_factory=list)
    """Remote bases and resources (URLs), in the order met."""
    dirs: set[str] = field(default_factory=set)
    """Directories whose listing the walk consulted (a kustomization looked for, YAML files
    listed, a chart home walked), as real paths relative to :attr:`root` (``.`` for it): a file
    added to or removed from one of them may change what the build reads."""

    @property
    def digest(self) -> str | None:
        """``sha256:<hex>`` of every listed path and file content; None when remote bases are
        involved (their content is not in the artifact)."""
        if self.remote:
            return None
        h = hashlib.sha256()
        for rel in sorted(self.files):
            data = (self.root / rel).read_bytes()
            h.update(f"f\0{rel}\0{len(data)}\0".encode())
            h.update(data)
        for rel, target in sorted(self.links.items()):
            h.update(f"l\0{rel}\0{target}\0".encode())
        return "sha256:" + h.hexdigest()


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


class _Walker:
    def __init__(self, root: Path, allow_remote: bool) -> None:
        self.closure = Closure(root)
        self.root = root
        self.allow_remote = allow_remote
        self.seen_dirs: set[Path] = set()
        self.seen_configs: set[Path] = set()

    # -- locating -------------------------------------------------------------------------
    def locate(self, base: Path, value: str, where: str) -> Path | None:
        """The real path ``value`` names from the real directory ``base``; None when it does
        not exist (kustomize reports that itself) or is remote. Raises when it leaves the
        artifact."""
        if _FILE_URL.match(value):
            raise BuildError(
                f"{where} {value!r} is a file:// URL, which reads the controller's disk: "
                "vendor it into the repository and use a relative path"
            )
        if os.path.isabs(value):
            self.refuse(where, value)
        if _REMOTE.match(value) and not os.path.lexists(base / value.split("?", 1)[0]):
            self.listed(base)  # a local path of that name would be read instead
            if not self.allow_remote:
                raise BuildError(
                    f"{where} {value!r} is a remote base, and remote bases are disabled: "
                    "vendor it into the repository"
                )
            self.closure.remote.append(value)
            return None
        current = base
        parts = list(Path(value).parts)
        hops = 0
        while parts:
            part = parts.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                current = current.parent
                if not _inside(current, self.root):
                    self.refuse(where, value)
                continue
            candidate = current / part
            if candidate.is_symlink():
                hops += 1
                if hops > MAX_LINKS:
                    raise BuildError(f"{where} {value!r}: too many levels of symbolic links")
                resolved = Path(os.path.realpath(candidate))
                if not _inside(resolved, self.root):
                    self.refuse(where, value, link=str(candidate.relative_to(self.root)))
                self.closure.links[str(candidate.relative_to(self.root))] = str(
                    resolved.relative_to(self.root)
                )
                current = resolved
                continue
            if not candidate.exists():
                self.listed(current)  # it would be read if it appeared
                return None
            current = candidate
        return current

    def refuse(self, where: str, value: str, link: str | None = None) -> NoReturn:
        if link:
            raise ArtifactPathError(
                f"symlink {link!r} points outside the source artifact ({where} {value!r}): "
                "remove it or make it point inside the repository"
            )
        raise BuildError(
            f"{where} {value!r} points outside the source artifact; kustomize may only "
            "read files of the source (use a path inside the repository)"
        )

    def add_file(self, path: Path) -> None:
        """A file to copy (its content, read through a symlink when it is one)."""
        if not _inside(Path(os.path.realpath(path)), self.root):
            rel = str(path.relative_to(self.root))
            self.refuse(f"{rel}:", path.name, link=rel)
        self.closure.files.add(str(path.relative_to(self.root)))

    # -- kustomizations --------------------------------------------------------------------
    def listed(self, real: Path) -> None:
        """Record a directory whose entries the walk looked at."""
        self.closure.dirs.add(str(real.relative_to(self.root)))

    def directory(self, real: Path) -> None:
        """A kustomization directory (or, for ``spec.path``, a directory to generate one for)."""
        if real in self.seen_dirs:
            return
        self.seen_dirs.add(real)
        self.listed(real)
        kfile = find_kustomization(real)
        if kfile is None:
            self.generated(real)
            return
        self.kustomization(kfile)

    def generated(self, real: Path) -> None:
        """What :func:`weir.kustomize.generate.generate_kustomization` lists: YAML files, and
        sub-directories holding a kustomization (not descended into)."""
        self.listed(real)
        for entry in sorted(os.scandir(real), key=lambda e: e.name):
            shown = str(Path(entry.path).relative_to(self.root))
            if entry.is_dir(follow_symlinks=False):
                sub = Path(entry.path)
                self.listed(sub)
                if find_kustomization(sub) is not None:
                    self.directory(sub)
                else:
                    self.generated(sub)
            elif entry.name.endswith((".yaml", ".yml")):
                target = self.locate(real, entry.name, f"{shown}:")
                if target is not None and target.is_file():
                    self.add_file(target)
                elif target is not None and target.is_dir():
                    self.directory(target)

    def kustomization(self, kfile: Path) -> None:
        self.add_file(kfile)
        shown = str(kfile.relative_to(self.root))
        try:
            doc = yamlio.load(kfile.read_text())
        except (OSError, UnicodeDecodeError, yamlio.YAMLError):
            return  # kustomize reports unreadable kustomizations itself, with better context
        if not isinstance(doc, dict):
            return
        base = kfile.parent
        for fname in _PATH_FIELDS:
            for value in _strings(doc.get(fname)):
                if "\n" not in value:
                    self.path(base, value, f"{shown}: {fname}")
        for value in _strings(doc.get("patchesStrategicMerge")):
            if "\n" not in value:
                self.path(base, value, f"{shown}: patchesStrategicMerge")
        for fname in _PLUGIN_FIELDS:
            for value in _strings(doc.get(fname)):
                if "\n" in value:
                    self.plugin_configs(
                        base, _documents(value), f"{shown}: {fname} (inline plugin config)"
                    )
                else:
                    self.plugin_path(base, value, f"{shown}: {fname}")
        self.file_fields(base, doc, shown)

    def file_fields(self, base: Path, doc: dict[str, Any], shown: str) -> None:
        """The fields naming files that kustomizations and builtin plugin configs share."""
        for fname in _PATH_ITEM_FIELDS:
            for item in _list(doc.get(fname)):
                if isinstance(item, dict) and isinstance(item.get("path"), str):
                    self.path(base, item["path"], f"{shown}: {fname}.path")
        for fname in _GENERATOR_FIELDS:
            for gen in _list(doc.get(fname)):
                if isinstance(gen, dict):
                    self.generator_args(base, gen, f"{shown}: {fname}")
        openapi = doc.get("openapi")
        if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
            self.path(base, openapi["path"], f"{shown}: openapi.path")
        for chart in _list(doc.get("helmCharts")):
            if isinstance(chart, dict):
                self.helm_values(base, chart, f"{shown}: helmCharts")
        globals_ = doc.get("helmGlobals")
        if isinstance(globals_, dict) and isinstance(globals_.get("chartHome"), str):
            self.tree(base, globals_["chartHome"], f"{shown}: helmGlobals.chartHome")

    def generator_args(self, base: Path, gen: dict[str, Any], where: str) -> None:
        for value in _strings(gen.get("files")):
            self.path(base, value.split("=", 1)[-1], _field(where, "files"))
        for value in _strings(gen.get("envs")):
            self.path(base, value, _field(where, "envs"))
        if isinstance(gen.get("env"), str):
            self.path(base, gen["env"], _field(where, "env"))

    def helm_values(self, base: Path, chart: dict[str, Any], where: str) -> None:
        for value in [chart.get("valuesFile"), *_list(chart.get("additionalValuesFiles"))]:
            if isinstance(value, str):
                self.path(base, value, _field(where, "valuesFile"))
        if isinstance(chart.get("chartHome"), str):
            self.tree(base, chart["chartHome"], _field(where, "chartHome"))

    def plugin_configs(self, base: Path, docs: Iterable[Any], where: str) -> None:
        """Builtin plugin configs (``ConfigMapGenerator``, ``PatchTransformer``,
        ``HelmChartInflationGenerator`` ...): every field of theirs that names a file."""
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            self.generator_args(base, doc, where)
            if isinstance(doc.get("path"), str):
                self.path(base, doc["path"], _field(where, "path"))
            for value in _strings(doc.get("paths")):
                self.path(base, value, _field(where, "paths"))
            for item in _list(doc.get("replacements")):
                if isinstance(item, dict) and isinstance(item.get("path"), str):
                    self.path(base, item["path"], _field(where, "replacements.path"))
            self.helm_values(base, doc, where)
            self.file_fields(base, doc, where)

    # -- references ----------------------------------------------------------------------
    def path(self, base: Path, value: str, where: str) -> None:
        """A file, or a directory holding a kustomization."""
        target = self.locate(base, value, where)
        if target is None:
            return
        if target.is_dir():
            self.directory(target)
        elif target.is_file():
            self.add_file(target)

    def plugin_path(self, base: Path, value: str, where: str) -> None:
        """A generator/transformer/validator entry: a kustomization directory, or a file of
        plugin configs (followed too)."""
        target = self.locate(base, value, where)
        if target is None:
            return
        if target.is_dir():
            self.directory(target)
            return
        if not target.is_file() or target in self.seen_configs:
            return
        self.seen_configs.add(target)
        self.add_file(target)
        try:
            docs = list(yamlio.load_all(target.read_text()))
        except (OSError, UnicodeDecodeError, yamlio.YAMLError):
            return
        self.plugin_configs(base, docs, f"{where} {value!r} (plugin config)")

    def tree(self, base: Path, value: str, where: str) -> None:
        """A directory read as a whole (a Helm chart home)."""
        target = self.locate(base, value, where)
        if target is None or not target.is_dir():
            return
        for current, dirs, files in os.walk(target):
            self.listed(Path(current))
            for name in (*dirs, *files):
                entry = Path(current, name)
                if entry.is_symlink():
                    self.locate(Path(current), name, where)
                elif entry.is_file():
                    self.add_file(entry)


def _field(where: str, name: str) -> str:
    """``where`` and a field name: ``x.yaml: patches.path``, or ``... (plugin config) path``."""
    return f"{where} {name}" if where.endswith(")") else f"{where}.{name}"


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _documents(text: str) -> Iterator[Any]:
    try:
        yield from yamlio.load_all(text)
    except yamlio.YAMLError:
        return


def closure(
    root: Path,
    directory: Path,
    *,
    components: Iterable[str] = (),
    allow_remote: bool = True,
) -> Closure:
    """Everything the build of ``directory`` (a real directory inside the real ``root``, as
    :func:`weir.kustomize.workspace.resolve_path` returns it) may read, with the spec's
    ``components`` (relative to it). Raises :class:`BuildError` naming the file and field of the
    first reference that leaves the artifact (see the module docstring)."""
    real_root = root.resolve(strict=True)
    walker = _Walker(real_root, allow_remote)
    if not _inside(directory, real_root):
        raise ArtifactPathError("spec.path points outside the source artifact")
    walker.directory(directory)
    for component in components:
        walker.path(directory, component, "spec.components")
    return walker.closure


def check_kustomizations(root: Path, *, allow_remote: bool = True) -> None:
    """Check every kustomization file under ``root`` as :func:`closure` would (for tools that
    vet a whole repository; builds check only what their path reaches)."""
    real_root = root.resolve(strict=True)
    for current, _dirs, files in os.walk(real_root):
        if any(name in files for name in KUSTOMIZATION_FILES):
            closure(real_root, Path(current), allow_remote=allow_remote)
