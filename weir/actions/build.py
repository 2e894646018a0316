"""Build a Kustomization from a local checkout with the controller's own pipeline (``weir build
ks``; ``weir diff ks`` builds the same way before it compares with the cluster).

The pipeline is the reconciler's own (:mod:`weir.kustomize.render`):
:func:`~weir.kustomize.render.render` (generate or load the kustomization, merge the spec's
``patches``, ``images``, ``components``, ``targetNamespace``, ``namePrefix``/``nameSuffix``, run
the real kustomize, substitute ``postBuild``) -> :func:`~weir.kustomize.render.prepare_objects`
(normalize, ``commonMetadata``, owner labels). What differs from the controller is what it is
given: the staged checkout instead of the artifact, ``--path`` instead of ``spec.path``, the
variables below, and strictness.

- **The Kustomization** comes from ``--kustomization-file`` (a YAML file; several documents
  allowed, the one of that name is used), else from the cluster. ``--dry-run`` without a file
  builds with an empty spec (no patches, no substitution): a plain Flux build of the directory.
- **The files** are those the source artifact would hold: the checkout root (:func:`choose_root`:
  the ``--local-sources`` path of the Kustomization's source, else the nearest directory above
  ``--path`` holding ``.git``, else the working directory when ``--path`` is inside it, as
  ``flux build --in-memory-build`` roots its file system, else ``--path`` itself) without
  ``.git`` and without what ``.sourceignore`` files and ``--ignore-paths`` exclude (the
  source-controller's rules). As in ``flux build``, ``--path`` replaces ``spec.path`` of the
  top Kustomization. A reference that still leaves the root fails with an error naming the
  root and the fix (``--local-sources``).
- **Variables**: the inline ``substitute`` map and the ``substituteFrom`` ConfigMaps/Secrets,
  read from the cluster; with ``dry_run`` nothing is read from a cluster and substituteFrom is
  skipped (as Flux does). Unset variables become empty unless ``strict_substitute`` (the flux
  CLI's default; the controller is strict).
- **Recursive**: Kustomizations in the output are built too, from their own ``spec.path`` in
  the checkout of their source: a ``--local-sources`` path, or the parent's checkout when they
  use the same source. Others (and those with ``spec.kubeConfig``) are skipped with a note.

**What is printed** (:func:`printed_objects`) is what ``flux build`` prints: the objects as
kustomize built them (in kustomize's order: the order of the resources, not sorted), after
substitution, with the owner labels and then ``commonMetadata``, not normalized (``stringData``
stays, no defaults are added); nested Kustomizations' objects follow their parent's.
:func:`mask_secrets` masks them with a policy of :mod:`weir.actions.masking`: by default
:data:`~weir.actions.masking.FLUX_BUILD` (only SOPS-encrypted values, as ``flux build``),
with ``--mask-secrets`` :data:`~weir.actions.masking.BUILD` (every value).
:attr:`BuiltKustomization.objects` are the objects as the controller applies them
(normalized), which ``weir diff`` compares.
"""

from __future__ import annotations

import asyncio
import copy
import os
import re
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from weir import yamlio
from weir.actions.masking import FLUX_BUILD, MaskPolicy, mask_objects
from weir.errors import ConfigError, KubeError, UsageError, WeirError
from weir.types import Obj

if TYPE_CHECKING:
    from kubernetes_asyncio.client import ApiClient

    from weir.api.kustomize import KustomizationSpec, PostBuild

ApiProvider = Callable[[], Awaitable["ApiClient"]]
"""Returns the API client, connecting on first use (a build may never need the cluster)."""
Notify = Callable[[str], None]

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
KUSTOMIZATION_API_VERSION = f"{KUSTOMIZE_GROUP}/v1"
SOURCE_KINDS = ("GitRepository", "OCIRepository", "Bucket", "ExternalArtifact")
MAX_DEPTH = 10
DEFAULT_TIMEOUT = 300.0
"""The flux CLI's ``--timeout`` default (5m): how long a build may take."""
OUTSIDE = "points outside the source artifact"


class KustomizationFileError(ConfigError):
    """The ``--kustomization-file`` does not hold the Kustomization asked for, or is invalid."""


@dataclass(frozen=True)
class BuildOptions:
    """What ``weir build ks`` was asked to do (``path`` is ``--path``)."""

    path: Path
    kustomization_file: Path | None = None
    dry_run: bool = False
    """Never connect to a cluster: substituteFrom is skipped."""
    strict_substitute: bool = False
    recursive: bool = False
    local_sources: Mapping[str, Path] = field(default_factory=dict)
    """``Kind/namespace/name`` of a source -> its local checkout."""
    ignore_paths: tuple[str, ...] = ()
    """Extra exclusions in ``.gitignore`` format, like a GitRepository's ``spec.ignore``."""
    suggest_dry_run: bool = True
    """Suggest ``--dry-run`` when reading substituteFrom from the cluster fails."""
    timeout: float = DEFAULT_TIMEOUT
    """How long one kustomize build may take (the flux CLI's ``--timeout``)."""
    live_kustomization: bool = True
    """Without a file, read the Kustomization from the cluster (else: an empty spec)."""


@dataclass
class BuiltKustomization:
    """A built Kustomization: the object used, its parsed spec, the objects it would apply (as
    the controller applies them, unmasked), the objects as kustomize built them (``rendered``:
    after substitution, before normalization) and, when recursive, the nested ones it builds
    (``root``: the checkout it was built from, ``source``: its source's key)."""

    kustomization: Obj
    spec: KustomizationSpec
    objects: list[Obj]
    nested: list[BuiltKustomization] = field(default_factory=list)
    rendered: list[Obj] = field(default_factory=list)
    root: Path | None = None
    source: str = ""

    @property
    def name(self) -> str:
        return str(self.kustomization["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.kustomization["metadata"]["namespace"])

    @property
    def display(self) -> str:
        return f"Kustomization {self.namespace}/{self.name}"

    def walk(self) -> Iterator[BuiltKustomization]:
        """This one, then the nested ones depth-first."""
        yield self
        for child in self.nested:
            yield from child.walk()

    def all_objects(self) -> list[Obj]:
        """Every object, this Kustomization's first, then those of the nested ones."""
        return [o for built in self.walk() for o in built.objects]

    def printed(self) -> list[Obj]:
        """This Kustomization's objects as ``flux build`` prints them (unmasked): the rendered
        objects with the owner labels, then ``commonMetadata``."""
        from weir.kube.inventory import set_owner_labels  # noqa: PLC0415
        from weir.kustomize.metadata import set_common_metadata  # noqa: PLC0415

        cm = self.spec.common_metadata
        out = []
        for obj in self.rendered:
            copied = set_owner_labels(copy.deepcopy(obj), self.name, self.namespace)
            if cm is not None:
                set_common_metadata(copied, cm.labels, cm.annotations)
            out.append(copied)
        return out

    def all_printed(self) -> list[Obj]:
        """:meth:`printed` of this one, then of the nested ones (``flux build`` order)."""
        return [o for built in self.walk() for o in built.printed()]

    def source_roots(self) -> dict[str, Path]:
        """``Kind/namespace/name`` of each source built from -> its local checkout."""
        return {b.source: b.root for b in self.walk() if b.root is not None and b.source}


# ----------------------------------------------------------------------------- small helpers
def one_line(text: str) -> str:
    """An error message on one line: parser snippets (``^`` markers) dropped, lines joined."""
    lines = [ln.strip() for ln in text.splitlines()]
    kept = [ln for ln in lines if ln and set(ln) != {"^"}]
    joined = " ".join(kept)
    return re.sub(r'\s*in "<(unicode string|file)>",\s*', " at ", joined)


def yaml_problem(error: yaml.YAMLError) -> str:
    """``line 3, column 7: mapping values are not allowed here`` for a parser error."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {error.problem}"
    return one_line(str(error))


def is_kustomization(obj: Any) -> bool:
    """Whether ``obj`` is a Flux Kustomization (not kustomize's own ``kustomization.yaml``)."""
    return (
        isinstance(obj, dict)
        and obj.get("kind") == "Kustomization"
        and str(obj.get("apiVersion", "")).startswith(f"{KUSTOMIZE_GROUP}/")
    )


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def parse_local_sources(values: Iterable[str]) -> dict[str, Path]:
    """``Kind/namespace/name=path`` items (repeated or comma-separated) -> {key: directory}."""
    out: dict[str, Path] = {}
    for value in values:
        for item in (i.strip() for i in value.split(",")):
            if not item:
                continue
            key, sep, path = item.partition("=")
            parts = key.strip().split("/")
            if not sep or not path.strip() or len(parts) != 3 or not all(parts):
                raise UsageError(
                    f"--local-sources {item!r}: expected Kind/namespace/name=path, "
                    "e.g. GitRepository/flux-system/flux-system=./"
                )
            if parts[0] not in SOURCE_KINDS:
                raise UsageError(
                    f"--local-sources {item!r}: {parts[0]!r} is not a Kustomization source kind; "
                    f"use one of {', '.join(SOURCE_KINDS)}"
                )
            directory = Path(path.strip()).expanduser()
            if not directory.is_dir():
                raise UsageError(f"--local-sources {item!r}: directory {path.strip()} not found")
            out["/".join(parts)] = directory.resolve()
    return out


def source_key(spec: KustomizationSpec, namespace: str) -> str:
    """``GitRepository/flux-system/fleet``: the source a Kustomization builds from."""
    ref = spec.source_ref
    return f"{ref.kind}/{ref.namespace or namespace}/{ref.name}"


def checkout_root(path: Path) -> Path:
    """The nearest directory at or above ``path`` holding ``.git``, else ``path``."""
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return candidate
    return path


@dataclass(frozen=True)
class Root:
    """The checkout a build sees, and why that directory."""

    path: Path
    why: str


def choose_root(path: Path, local: Path | None, cwd: Path | None = None) -> Root:
    """Where the source artifact of a build of ``path`` starts: the ``--local-sources``
    directory holding ``path``; else the nearest directory above it holding ``.git``; else
    the working directory when ``path`` is inside it (``flux build`` reads files relative to
    it; not the home directory or ``/``, which would be copied whole); else ``path``."""
    if local is not None and _inside(path, local):
        return Root(local, "its --local-sources directory")
    found = checkout_root(path)
    if found != path or (path / ".git").exists():
        return Root(found, "the nearest directory above --path holding .git")
    here = (cwd or Path.cwd()).resolve()
    if _inside(path, here) and here not in (Path.home().resolve(), Path(here.anchor)):
        return Root(here, "the working directory: no .git above --path")
    return Root(path, "--path itself: no .git above it, and it is not below the working directory")


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


# ----------------------------------------------------------------------------- Kustomization
def read_kustomization_file(
    file: Path, name: str, namespace: str | None, default: str | None = None
) -> Obj:
    """The Kustomization ``name`` defined in ``file``: as ``flux build`` picks it, the first
    document of that name in ``namespace`` or without a namespace. Without ``namespace`` (no
    ``-n``), the first one in ``default`` or without a namespace, else (more lenient than
    Flux) the first one of that name in any namespace."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(
            f"--kustomization-file {file} not found: give the YAML file that defines "
            f"the Kustomization {name}"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read --kustomization-file {file}: {e}") from e
    try:
        docs = [d for d in yamlio.load_all(text) if d is not None]
    except yamlio.YAMLError as e:
        raise KustomizationFileError(f"invalid YAML in {file}: {yaml_problem(e)}") from e
    found = [d for d in docs if is_kustomization(d)]
    if not found:
        raise KustomizationFileError(
            f"{file} defines no {KUSTOMIZE_GROUP} Kustomization: give the file of the "
            f"Kustomization {name} (not kustomize's kustomization.yaml)"
        )
    wanted = namespace or default
    named = [d for d in found if _meta(d).get("name") == name]
    matching = [
        d for d in named if wanted is None or (_meta(d).get("namespace") or wanted) == wanted
    ]
    if namespace is None and not matching:
        matching = named
    if not matching:
        names = ", ".join(
            "/".join(str(p) for p in (_meta(d).get("namespace"), _meta(d).get("name")) if p)
            for d in found
        )
        where = f" in namespace {namespace}" if namespace else ""
        raise KustomizationFileError(
            f"{file} has no Kustomization {name!r}{where}; it defines: {names} "
            "(pick the namespace with -n)"
        )
    return copy.deepcopy(matching[0])


def empty_kustomization(name: str, namespace: str) -> Obj:
    """The Kustomization used by ``--dry-run`` without a file: no build settings at all."""
    return {
        "apiVersion": KUSTOMIZATION_API_VERSION,
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "interval": "10m",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
        },
    }


LENIENT_DEFAULTS: dict[str, Any] = {
    "interval": "0s",
    "prune": False,
    "sourceRef": {"kind": "GitRepository", "name": ""},
}
"""What ``flux build`` reads for a required field a Kustomization file leaves out (Go's zero
values): a build does not need them."""


def parse_spec(obj: Mapping[str, Any], where: str) -> KustomizationSpec:
    """The spec of a Kustomization, as leniently as ``flux build`` reads it: the fields a
    build does not need may be missing (:data:`LENIENT_DEFAULTS`). A spec that is really
    invalid is a :class:`~weir.errors.ConfigError` naming every bad field at once."""
    from pydantic import ValidationError  # noqa: PLC0415 -- slow imports, only when building

    from weir.api.kustomize import KustomizationSpec  # noqa: PLC0415

    raw = obj.get("spec")
    if raw is not None and not isinstance(raw, Mapping):
        raise ConfigError(f"invalid {where}: spec is not a map; fix the spec")
    spec = {**LENIENT_DEFAULTS, **(raw or {})}
    try:
        return KustomizationSpec.model_validate(spec)
    except ValidationError as e:
        problems = []
        for error in e.errors():
            loc = ".".join(str(p) for p in error.get("loc", ()))
            problem = f"spec.{loc}: {error['msg']}"
            if problem not in problems:
                problems.append(problem)
        count = f"{len(problems)} problems" if len(problems) > 1 else "1 problem"
        raise ConfigError(f"invalid {where} ({count}): {'; '.join(problems)}; fix the spec") from e


# ----------------------------------------------------------------------------- the checkout
def _copy_link(src: Path, target: Path, root: Path, dest: Path) -> None:
    link = os.readlink(src)
    if os.path.isabs(link):
        resolved = Path(link).resolve()
        if _inside(resolved, root):  # point into the copy, as the artifact would
            link = os.path.relpath(dest / resolved.relative_to(root), target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(link)


def stage_checkout(root: Path, dest: Path, ignore: str | None = None) -> None:
    """Copy ``root`` to ``dest`` as a source artifact would hold it: without ``.git`` and the
    files ``.sourceignore`` files and ``ignore`` exclude. Symlinks stay symlinks."""
    from weir.source.ignore import IgnoreRules  # noqa: PLC0415

    rules = IgnoreRules.for_directory(root, ignore)
    dest.mkdir(parents=True)
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        rel = Path(current).relative_to(root).parts
        for name in [*dirs, *sorted(files)]:
            src = Path(current, name)
            is_link = src.is_symlink()
            is_dir = not is_link and src.is_dir()
            if rules.ignored([*rel, name], is_dir):
                continue  # a directory is still walked: a pattern may re-include files below
            target = dest.joinpath(*rel, name)
            if is_link:
                _copy_link(src, target, root, dest)
            elif is_dir:
                target.mkdir(parents=True, exist_ok=True)
            elif src.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target)


# ----------------------------------------------------------------------------- the builder
class Builder:
    """Builds Kustomizations from local checkouts (use ``async with``: it owns a temporary
    directory holding the staged checkouts)."""

    def __init__(
        self,
        options: BuildOptions,
        api: ApiProvider | None = None,
        notify: Notify | None = None,
    ) -> None:
        self.options = options
        self._api = api
        self._notify = notify or (lambda _text: None)
        self._work: Path | None = None
        self._staged: dict[Path, Path] = {}

    async def __aenter__(self) -> Builder:
        self._work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="weir-build-"))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._work is not None:
            await asyncio.to_thread(shutil.rmtree, self._work, True)
            self._work = None
            self._staged.clear()

    async def api(self) -> ApiClient:
        if self.options.dry_run or self._api is None:
            raise UsageError("this build must not connect to a cluster (--dry-run)")
        return await self._api()

    # -- the Kustomization ----------------------------------------------------------------

    async def kustomization(self, name: str, namespace: str | None, default_namespace: str) -> Obj:
        """The Kustomization to build: from the file, from the cluster, or an empty one."""
        file = self.options.kustomization_file
        if file is not None:
            obj = await asyncio.to_thread(
                read_kustomization_file, file, name, namespace, default_namespace
            )
        elif self.options.dry_run or not self.options.live_kustomization:
            obj = empty_kustomization(name, namespace or default_namespace)
            self._notify(
                f"► no --kustomization-file: building {obj['metadata']['namespace']}/{name} "
                "without patches, substitution or other build settings"
            )
        else:
            obj = await self._live(name, namespace or default_namespace)
        meta = obj.setdefault("metadata", {})
        meta["namespace"] = meta.get("namespace") or namespace or default_namespace
        return obj

    async def _live(self, name: str, namespace: str) -> Obj:
        from weir.actions.errors import ObjectNotFoundError  # noqa: PLC0415
        from weir.actions.objects import get_object  # noqa: PLC0415
        from weir.api import KINDS  # noqa: PLC0415

        try:
            return await get_object(await self.api(), KINDS["Kustomization"], namespace, name)
        except ObjectNotFoundError as e:
            raise ObjectNotFoundError(
                f"{e}; or build from the repository's definition with --kustomization-file"
            ) from e

    # -- building -------------------------------------------------------------------------

    async def build(
        self, name: str, namespace: str | None, default_namespace: str
    ) -> BuiltKustomization:
        """Build the Kustomization ``name`` from ``options.path`` (and, when recursive, the
        Kustomizations it contains)."""
        path = self.options.path.expanduser()
        if not path.is_dir():
            what = "is not a directory" if path.exists() else "not found"
            raise UsageError(
                f"--path {self.options.path}: {what}; give the directory to build, "
                "e.g. --path ./clusters/production"
            )
        path = path.resolve()
        ks = await self.kustomization(name, namespace, default_namespace)
        ks_ns = str(ks["metadata"]["namespace"])
        where = f"Kustomization {ks_ns}/{name}"
        spec = parse_spec(ks, where)
        key = source_key(spec, ks_ns)
        root = choose_root(path, self.options.local_sources.get(key))
        staged = await self._stage(root.path)
        rel = path.relative_to(root.path).as_posix()
        if not (staged / rel).is_dir():
            raise UsageError(
                f"--path {self.options.path} is excluded by .sourceignore or --ignore-paths: "
                "the source artifact would not contain it"
            )
        try:
            prepared, rendered = await self._render(ks, spec, staged, rel, where)
        except WeirError as e:
            if OUTSIDE not in str(e):
                raise
            raise type(e)(
                f"{e}; the build's root is {root.path} ({root.why}): pass --local-sources "
                f"{key}=<the repository's root directory>, or run weir from the repository's "
                "root directory"
            ) from e
        built = BuiltKustomization(ks, spec, prepared, rendered=rendered, root=root.path)
        built.source = key
        if self.options.recursive:
            await self._nested(built, key, root.path, {(ks_ns, name)}, 1)
        return built

    async def stage(self, root: Path) -> Path:
        """The staged copy of the checkout at ``root`` (what its source artifact holds)."""
        return await self._stage(root)

    async def _stage(self, root: Path) -> Path:
        if root not in self._staged:
            assert self._work is not None, "use the Builder with `async with`"
            dest = self._work / f"src{len(self._staged)}"
            ignore = "\n".join(self.options.ignore_paths) or None
            await asyncio.to_thread(stage_checkout, root, dest, ignore)
            self._staged[root] = dest
        return self._staged[root]

    async def _render(
        self, ks: Obj, spec: KustomizationSpec, root: Path, path: str | None, where: str
    ) -> tuple[list[Obj], list[Obj]]:
        """The controller's pipeline (:mod:`weir.kustomize.render`) on ``path`` of ``root``:
        the objects as the controller applies them, and as kustomize built them."""
        from weir.kustomize.errors import KustomizeError  # noqa: PLC0415
        from weir.kustomize.render import prepare_objects, render  # noqa: PLC0415

        name, namespace = str(ks["metadata"]["name"]), str(ks["metadata"]["namespace"])

        async def variables(post: PostBuild) -> dict[str, str]:
            return await self._variables(post, namespace, where)

        try:
            rendered = await render(
                root,
                spec.model_copy(update={"path": path}),
                variables=variables,
                strict=self.options.strict_substitute,
                timeout=self.options.timeout,
            )
        except KustomizeError as e:
            raise type(e)(f"{where}: {one_line(str(e))}") from e
        prepared = prepare_objects(rendered.objects, spec, name=name, namespace=namespace)
        return prepared, rendered.objects

    async def _variables(self, post: PostBuild, namespace: str, where: str) -> dict[str, str]:
        """The inline variables, and ``substituteFrom`` read from the cluster unless
        ``--dry-run``."""
        from weir.kustomize.variables import load_variables, merge_variables  # noqa: PLC0415

        refs = post.substitute_from or []
        if not refs:
            return merge_variables([], post.substitute)
        if self.options.dry_run:
            names = ", ".join(f"{r.kind}/{r.name}" for r in refs)
            self._notify(
                f"► {where}: --dry-run skips substituteFrom ({names}); "
                "only the inline postBuild.substitute variables are set"
            )
            return merge_variables([], post.substitute)
        try:
            return await load_variables(await self.api(), namespace, post)
        except (KubeError, ConfigError):
            if self.options.suggest_dry_run:
                names = ", ".join(f"{r.kind}/{r.name}" for r in refs)
                self._notify(
                    f"► {where} reads substituteFrom ({names}) from the cluster; "
                    "--dry-run builds without them"
                )
            raise

    async def _nested(
        self,
        parent: BuiltKustomization,
        parent_key: str,
        parent_root: Path,
        seen: set[tuple[str, str]],
        depth: int,
    ) -> None:
        for obj in parent.objects:
            if not is_kustomization(obj):
                continue
            child = copy.deepcopy(obj)
            meta = child.setdefault("metadata", {})
            meta["namespace"] = meta.get("namespace") or parent.namespace
            ns, name = str(meta["namespace"]), str(meta.get("name"))
            where = f"Kustomization {ns}/{name}"
            if (ns, name) in seen:
                self._notify(f"► skipping {where}: it is already being built (a cycle)")
                continue
            if depth > MAX_DEPTH:
                raise ConfigError(f"{where}: Kustomizations nested deeper than {MAX_DEPTH} levels")
            spec = parse_spec(child, where)
            if spec.kube_config is not None:
                self._notify(f"► skipping {where}: it applies to another cluster (kubeConfig)")
                continue
            key = source_key(spec, ns)
            root = self.options.local_sources.get(key)
            if root is None and key == parent_key:
                root = parent_root
            if root is None:
                self._notify(
                    f"► skipping {where}: no local checkout of its source {key}; "
                    f"pass --local-sources {key}=PATH"
                )
                continue
            staged = await self._stage(root)
            objects, rendered = await self._render(child, spec, staged, spec.path, where)
            built = BuiltKustomization(child, spec, objects, rendered=rendered, root=root)
            built.source = key
            parent.nested.append(built)
            await self._nested(built, key, root, seen | {(ns, name)}, depth + 1)


# ----------------------------------------------------------------------------- output
def mask_secrets(
    objects: Iterable[Mapping[str, Any]], policy: MaskPolicy = FLUX_BUILD
) -> list[Obj]:
    """Copies of ``objects`` with the values of Secrets masked as ``weir build`` prints them:
    by default as ``flux build`` does (:data:`weir.actions.masking.FLUX_BUILD`)."""
    return mask_objects(objects, policy)


def printed_objects(built: BuiltKustomization, policy: MaskPolicy = FLUX_BUILD) -> list[Obj]:
    """What ``weir build`` prints: :meth:`BuiltKustomization.all_printed`, masked."""
    return mask_secrets(built.all_printed(), policy)


def to_yaml(objects: Iterable[Mapping[str, Any]]) -> str:
    """Multi-document YAML as ``flux build`` prints it (``sigs.k8s.io/yaml``: keys sorted,
    Go's quoting), each document followed by ``---``."""
    return "".join(yamlio.dump_go(dict(o)) + "---\n" for o in objects)
