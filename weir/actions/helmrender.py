"""Render HelmReleases offline (``weir build hr``), with what the controller uses: the same
chart sources, values composition, post-renderers and install options.

1. **The fleet**: ``--path`` is built as a Kustomization (:class:`weir.actions.build.Builder`;
   with ``--recursive`` the Kustomizations it contains too); the HelmReleases, their sources
   and the ConfigMaps/Secrets of ``valuesFrom`` are found among the built objects, plus the
   objects of ``--source-file`` files, which win over built ones of the same kind, namespace
   and name (to point a HelmRepository whose URL comes from a variable somewhere else).
2. **The chart** (:class:`ChartFetcher`), as the HelmChart and HelmRelease reconcilers get it:

   - ``spec.chart`` from a **GitRepository** (or Bucket): the chart directory in the local
     checkout of that source (the ``--local-sources`` directory, or the checkout a built
     Kustomization of the same source was built from), packaged by the Helm engine with
     ``valuesFiles`` as source-controller packages it
     (:func:`weir.source.helmchart.package_chart_dir`);
   - ``spec.chart`` from a **HelmRepository**: the highest version matching ``version`` in the
     repository's index, downloaded from its URL (reachable from the machine running weir;
     credentials are not read: ``secretRef`` is ignored with a note), digest-checked,
     repackaged with ``valuesFiles`` (:func:`weir.source.helmchart.repackage_with_values`);
     ``type: oci`` pulls ``<url>/<chart>`` from the registry;
   - ``spec.chartRef`` to an **OCIRepository** (pulled per its ``ref``: the Helm chart, or the
     selected layer) or a **HelmChart** (as a ``spec.chart`` template with its spec).
3. **Values** (:func:`weir.helmengine.values.resolve_values`): ``valuesFrom`` read from the
   ``--values-from`` files, else from the built objects (SOPS-encrypted Secrets cannot be
   read), else (``weir diff hr`` only) from the cluster; then the inline ``values``.
4. **Render** (:meth:`weir.helmengine.engine.HelmEngine.render`): the release name and
   namespace, post-renderers, ``commonMetadata`` and the origin labels, the install options of
   :mod:`weir.helm.options`; offline Helm's client dry run (``lookup`` finds nothing), against
   a cluster its server dry run. The chart's CRDs come first when ``install.crds`` installs
   them (``Create``/``CreateReplace``).

Known limits: the chart version is Chart.yaml's (the controller's packaged chart may carry
``+<generation>`` or ``+<revision>``, which only shows in ``helm.sh/chart`` labels); chart
signatures (``verify``) are not checked; ExternalArtifact chart references are refused.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir import yamlio
from weir.actions.build import Builder, BuiltKustomization, Notify, yaml_problem
from weir.actions.masking import sops_encrypted
from weir.errors import ConfigError, UsageError
from weir.types import Obj

if TYPE_CHECKING:
    from weir.api.helm import HelmReleaseSpec
    from weir.helmengine.engine import ClusterAccess, HelmEngine

HELM_RELEASE_GROUP = "helm.toolkit.fluxcd.io"
SOURCE_KINDS = ("GitRepository", "Bucket", "HelmRepository", "OCIRepository", "HelmChart")
VALUES_KINDS = ("ConfigMap", "Secret")
LOCAL_KINDS = ("GitRepository", "Bucket")

ObjectGetter = Callable[[str, str, str], Awaitable[Obj | None]]
"""``get(kind, namespace, name)`` -> a ConfigMap or Secret from the cluster, or None."""


class HelmRenderError(ConfigError):
    """A HelmRelease cannot be rendered offline: its chart or values cannot be found."""


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def is_helmrelease(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "HelmRelease" and str(obj.get("apiVersion", "")).startswith(
        f"{HELM_RELEASE_GROUP}/"
    )


def display(obj: Mapping[str, Any]) -> str:
    meta = _meta(obj)
    return f"{obj.get('kind')} {meta.get('namespace') or 'default'}/{meta.get('name')}"


# ----------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class ValuesFile:
    """``--values-from Kind/[namespace/]name=FILE``."""

    kind: str
    namespace: str | None
    name: str
    path: Path

    def matches(self, kind: str, namespace: str, name: str) -> bool:
        return (
            self.kind == kind
            and self.name == name
            and (self.namespace is None or self.namespace == namespace)
        )


def parse_values_from(values: Iterable[str]) -> list[ValuesFile]:
    """``Kind/[namespace/]name=FILE`` items (repeated, or comma-separated)."""
    out = []
    for value in values:
        for item in (i.strip() for i in value.split(",")):
            if not item:
                continue
            key, sep, path = item.partition("=")
            parts = key.strip().split("/")
            if not sep or not path.strip() or len(parts) not in (2, 3) or not all(parts):
                raise UsageError(
                    f"--values-from {item!r}: expected Kind/[namespace/]name=FILE, "
                    "e.g. ConfigMap/podinfo-values=values.yaml"
                )
            if parts[0] not in VALUES_KINDS:
                raise UsageError(
                    f"--values-from {item!r}: {parts[0]!r} cannot hold values; use ConfigMap "
                    "or Secret"
                )
            file = Path(path.strip()).expanduser()
            if not file.is_file():
                raise UsageError(f"--values-from {item!r}: file {path.strip()} not found")
            ns = parts[1] if len(parts) == 3 else None
            out.append(ValuesFile(parts[0], ns, parts[-1], file))
    return out


def read_source_files(paths: Iterable[Path]) -> list[Obj]:
    """The objects of ``--source-file`` files."""
    out: list[Obj] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise UsageError(f"--source-file {path}: no such file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"cannot read --source-file {path}: {e}") from e
        try:
            docs = [d for d in yamlio.load_all(text) if d is not None]
        except yamlio.YAMLError as e:
            raise ConfigError(f"invalid YAML in {path}: {yaml_problem(e)}") from e
        for doc in docs:
            if not isinstance(doc, dict) or not doc.get("kind") or not _meta(doc).get("name"):
                raise ConfigError(f"{path} holds a document that is not a Kubernetes object")
            out.append(doc)
    return out


# ----------------------------------------------------------------------------- the fleet
@dataclass
class Fleet:
    """The objects a build of ``--path`` holds (and those of ``--source-file``), and the local
    checkouts of the sources it was built from."""

    objects: list[Obj]
    roots: dict[str, Path] = field(default_factory=dict)
    """``Kind/namespace/name`` of a source -> its staged checkout."""
    extra: list[Obj] = field(default_factory=list)
    """``--source-file`` objects: they win over built ones."""

    def find(self, kind: str, namespace: str, name: str) -> Obj | None:
        for obj in [*self.extra, *self.objects]:
            meta = _meta(obj)
            if (
                obj.get("kind") == kind
                and meta.get("name") == name
                and (meta.get("namespace") or namespace) == namespace
            ):
                return obj
        return None

    def helmreleases(self, name: str | None, namespace: str | None) -> list[Obj]:
        """The HelmReleases named ``name`` (all when None) in ``namespace`` (any when None)."""
        found: list[Obj] = []
        for obj in [*self.extra, *self.objects]:
            meta = _meta(obj)
            if not is_helmrelease(obj):
                continue
            if name is not None and meta.get("name") != name:
                continue
            if namespace is not None and (meta.get("namespace") or "default") != namespace:
                continue
            if any(_same(obj, other) for other in found):
                continue
            found.append(obj)
        return found


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return bool(
        a.get("kind") == b.get("kind")
        and _meta(a).get("name") == _meta(b).get("name")
        and _meta(a).get("namespace") == _meta(b).get("namespace")
    )


async def load_fleet(
    builder: Builder, built: BuiltKustomization, extra: Sequence[Obj] = ()
) -> Fleet:
    """The fleet of a build: its objects (as built, unmasked) and staged source roots."""
    roots = {}
    for key, root in built.source_roots().items():
        roots[key] = await builder.stage(root)
    for key, root in builder.options.local_sources.items():
        roots[key] = await builder.stage(root)
    return Fleet(built.all_printed(), roots, list(extra))


# ----------------------------------------------------------------------------- charts
@dataclass(frozen=True)
class FetchedChart:
    """A chart archive ready for the engine, and where it came from."""

    data: bytes
    name: str
    version: str
    origin: str


@dataclass(frozen=True)
class _Template:
    """A HelmChart spec (a ``spec.chart`` template or a HelmChart's own spec)."""

    chart: str
    version: str | None
    source_kind: str
    source_name: str
    source_namespace: str
    values_files: tuple[str, ...]
    ignore_missing: bool

    @classmethod
    def of(cls, spec: Mapping[str, Any], namespace: str) -> _Template:
        ref = spec.get("sourceRef") or {}
        files = list(spec.get("valuesFiles") or [])
        if spec.get("valuesFile"):
            files.insert(0, str(spec["valuesFile"]))
        return cls(
            chart=str(spec.get("chart") or ""),
            version=spec.get("version"),
            source_kind=str(ref.get("kind") or ""),
            source_name=str(ref.get("name") or ""),
            source_namespace=str(ref.get("namespace") or namespace),
            values_files=tuple(str(f) for f in files),
            ignore_missing=bool(spec.get("ignoreMissingValuesFiles")),
        )

    @property
    def source_key(self) -> str:
        return f"{self.source_kind}/{self.source_namespace}/{self.source_name}"


class ChartFetcher:
    """Gets the chart of a HelmRelease as the controllers would (see the module docstring).
    Use ``async with``: it owns a temporary directory."""

    def __init__(self, engine: HelmEngine, fleet: Fleet, notify: Notify | None = None) -> None:
        self.engine = engine
        self.fleet = fleet
        self.notify = notify or (lambda _text: None)
        self._work: Path | None = None
        self._indexes: dict[str, Any] = {}

    async def __aenter__(self) -> ChartFetcher:
        self._work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="weir-hr-"))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._work is not None:
            await asyncio.to_thread(shutil.rmtree, self._work, True)
            self._work = None

    def _dir(self) -> Path:
        assert self._work is not None, "use the ChartFetcher with `async with`"
        return Path(tempfile.mkdtemp(dir=self._work))

    async def chart(self, hr: Obj, spec: HelmReleaseSpec) -> FetchedChart:
        ns = str(_meta(hr).get("namespace") or "default")
        where = display(hr)
        if spec.chart is not None:
            template = spec.chart.spec.model_dump(by_alias=True, exclude_none=True)
            return await self._from_template(_Template.of(template, ns), where)
        assert spec.chart_ref is not None
        ref = spec.chart_ref
        ref_ns = ref.namespace or ns
        if ref.kind == "ExternalArtifact":
            raise HelmRenderError(
                f"{where}: chartRef kind ExternalArtifact cannot be rendered offline: use an "
                "OCIRepository or a HelmChart"
            )
        source = self._source(ref.kind, ref_ns, ref.name, where)
        if ref.kind == "HelmChart":
            chart_spec = source.get("spec") or {}
            return await self._from_template(_Template.of(chart_spec, ref_ns), where)
        return await self._from_ocirepository(source, where)

    def _source(self, kind: str, namespace: str, name: str, where: str) -> Obj:
        found = self.fleet.find(kind, namespace, name)
        if found is None:
            raise HelmRenderError(
                f"{where}: its chart source {kind} {namespace}/{name} is not in the build "
                "output: build the directory that defines it (from the fleet's root with "
                "--recursive) or pass it with --source-file FILE"
            )
        return found

    async def _from_template(self, template: _Template, where: str) -> FetchedChart:
        kind = template.source_kind
        if kind in LOCAL_KINDS:
            return await self._from_checkout(template, where)
        if kind != "HelmRepository":
            raise HelmRenderError(
                f"{where}: unsupported chart source kind {kind!r}: use GitRepository, Bucket "
                "or HelmRepository"
            )
        repo = self._source(kind, template.source_namespace, template.source_name, where)
        repo_spec = repo.get("spec") or {}
        if repo_spec.get("secretRef") or repo_spec.get("certSecretRef"):
            self.notify(
                f"► {where}: {display(repo)} has credentials in the cluster; weir build reads "
                "no Secret and tries without them"
            )
        if repo_spec.get("type") == "oci":
            return await self._from_oci_repository(repo, template, where)
        return await self._from_index(repo, template, where)

    async def _from_checkout(self, template: _Template, where: str) -> FetchedChart:
        from weir.helmengine.errors import ChartError  # noqa: PLC0415
        from weir.source.helmchart import package_chart_dir, read_chart_dir  # noqa: PLC0415

        key = template.source_key
        root = self.fleet.roots.get(key)
        if root is None:
            raise HelmRenderError(
                f"{where}: no local checkout of its chart source {key}: pass "
                f"--local-sources {key}=DIR (or build from the checkout of that source)"
            )
        try:
            _, name, version = await asyncio.to_thread(read_chart_dir, root, template.chart)
            data = await package_chart_dir(
                self.engine,
                root,
                template.chart,
                self._dir(),
                version=version,
                values_files=list(template.values_files),
                ignore_missing=template.ignore_missing,
            )
        except ChartError as e:
            raise HelmRenderError(f"{where}: {key}: {e}") from e
        return FetchedChart(data, name, version, f"{key} (path {template.chart})")

    async def _from_index(self, repo: Obj, template: _Template, where: str) -> FetchedChart:
        from weir.helmengine.errors import HelmError  # noqa: PLC0415
        from weir.source.chartrepo import (  # noqa: PLC0415
            download_chart,
            fetch_index,
            load_index,
            select_version,
        )

        url = str((repo.get("spec") or {}).get("url") or "")
        if not url or "${" in url:
            raise HelmRenderError(
                f"{where}: {display(repo)} has no URL (a variable the build could not "
                "substitute?): pass the HelmRepository with its URL in --source-file FILE"
            )
        try:
            if url not in self._indexes:
                self._indexes[url] = load_index(await fetch_index(url))
            chosen = select_version(self._indexes[url], template.chart, template.version)
            data = await download_chart(url, chosen)
            if chosen.digest and hashlib.sha256(data).hexdigest() != chosen.digest.removeprefix(
                "sha256:"
            ):
                raise HelmRenderError(
                    f"{where}: chart {chosen.name}-{chosen.version} does not match the digest "
                    "in the repository index"
                )
            data = await self._values_files(data, chosen.version, template)
        except HelmError as e:
            raise HelmRenderError(f"{where}: {display(repo)} ({url}): {e}") from e
        return FetchedChart(data, chosen.name, chosen.version, f"{display(repo)} ({url})")

    async def _values_files(self, data: bytes, version: str, template: _Template) -> bytes:
        if not template.values_files:
            return data
        from weir.source.helmchart import repackage_with_values  # noqa: PLC0415

        return await repackage_with_values(
            self.engine,
            data,
            version,
            list(template.values_files),
            ignore_missing=template.ignore_missing,
        )

    async def _from_oci_repository(
        self, repo: Obj, template: _Template, where: str
    ) -> FetchedChart:
        from weir.oci.artifact import pull_chart  # noqa: PLC0415
        from weir.oci.client import RegistryClient  # noqa: PLC0415
        from weir.oci.errors import OCIError  # noqa: PLC0415
        from weir.oci.reference import Reference, parse_url  # noqa: PLC0415

        spec = repo.get("spec") or {}
        url = str(spec.get("url") or "")
        try:
            base = parse_url(url)
            ref = Reference(base.registry, f"{base.repository}/{template.chart}")
            async with RegistryClient(insecure=bool(spec.get("insecure"))) as client:
                pulled = await pull_chart(client, ref, template.version or "*")
        except OCIError as e:
            raise HelmRenderError(f"{where}: {display(repo)} ({url}): {e}") from e
        version = pulled.version
        data = await self._values_files(pulled.data, version, template)
        return FetchedChart(data, template.chart, version, f"{display(repo)} ({url})")

    async def _from_ocirepository(self, repo: Obj, where: str) -> FetchedChart:
        from weir.oci.artifact import (  # noqa: PLC0415
            HELM_CONFIG,
            LayerSelector,
            RefSpec,
            pull_artifact,
            pull_chart,
            resolve,
        )
        from weir.oci.client import RegistryClient  # noqa: PLC0415
        from weir.oci.errors import OCIError  # noqa: PLC0415
        from weir.oci.reference import parse_url  # noqa: PLC0415
        from weir.source.chartrepo import chart_metadata  # noqa: PLC0415

        spec = repo.get("spec") or {}
        url = str(spec.get("url") or "")
        ref = spec.get("ref") or {}
        selector = spec.get("layerSelector") or {}
        try:
            base = parse_url(url)
            async with RegistryClient(insecure=bool(spec.get("insecure"))) as client:
                resolved = await resolve(
                    client,
                    base,
                    RefSpec(
                        tag=ref.get("tag"),
                        semver=ref.get("semver"),
                        semver_filter=ref.get("semverFilter"),
                        digest=ref.get("digest"),
                    ),
                )
                manifest = await client.get_manifest(resolved.reference)
                if manifest.config.get("mediaType") == HELM_CONFIG:
                    data = (await pull_chart(client, resolved.reference)).data
                else:
                    target = self._dir() / "layer"
                    await pull_artifact(
                        client,
                        resolved,
                        target,
                        LayerSelector(selector.get("mediaType"), "copy"),
                    )
                    data = await asyncio.to_thread(target.read_bytes)
        except OCIError as e:
            raise HelmRenderError(f"{where}: {display(repo)} ({url}): {e}") from e
        from weir.helmengine.errors import ChartError  # noqa: PLC0415

        try:
            meta = chart_metadata(data)
        except ChartError as e:
            raise HelmRenderError(
                f"{where}: {display(repo)} ({url}) does not hold a Helm chart: {e}"
            ) from e
        return FetchedChart(
            data, str(meta.get("name")), str(meta.get("version")), f"{display(repo)} ({url})"
        )


# ----------------------------------------------------------------------------- values
class ValuesSource:
    """Where ``valuesFrom`` objects come from: ``--values-from`` files, then the fleet, then
    (when given) the cluster."""

    def __init__(
        self,
        fleet: Fleet,
        files: Sequence[ValuesFile] = (),
        cluster: ObjectGetter | None = None,
        notify: Notify | None = None,
    ) -> None:
        self.fleet = fleet
        self.files = list(files)
        self.cluster = cluster
        self.notify = notify or (lambda _text: None)

    async def get(self, kind: str, namespace: str, name: str, keys: Sequence[str]) -> Obj | None:
        for file in self.files:
            if file.matches(kind, namespace, name):
                return await asyncio.to_thread(_file_object, file, keys)
        found = self.fleet.find(kind, namespace, name)
        if found is not None and not (kind == "Secret" and _encrypted(found)):
            return found
        if found is not None:
            self.notify(
                f"► {kind} {namespace}/{name} is SOPS-encrypted: its values cannot be read "
                f"here; give them with --values-from {kind}/{namespace}/{name}=FILE"
            )
        if self.cluster is not None:
            return await self.cluster(kind, namespace, name)
        return None


def _encrypted(obj: Mapping[str, Any]) -> bool:
    from weir.actions.masking import SOPS_MASK  # noqa: PLC0415

    if sops_encrypted(obj):
        return True
    values = [*(obj.get("data") or {}).values(), *(obj.get("stringData") or {}).values()]
    return any("ENC[" in str(v) or SOPS_MASK in str(v) for v in values)


def _file_object(file: ValuesFile, keys: Sequence[str]) -> Obj:
    """The object of a ``--values-from`` file: a ConfigMap/Secret manifest, or the text of
    every key the HelmRelease reads from it."""
    text = file.path.read_text(encoding="utf-8-sig")
    try:
        doc = yamlio.load(text)
    except yamlio.YAMLError:
        doc = None
    if isinstance(doc, dict) and doc.get("kind") == file.kind and "metadata" in doc:
        return doc
    field_name = "stringData" if file.kind == "Secret" else "data"
    return {"kind": file.kind, field_name: dict.fromkeys(keys or ["values.yaml"], text)}


async def compose(hr: Obj, spec: HelmReleaseSpec, source: ValuesSource) -> dict[str, Any]:
    """The values the controller would install: ``valuesFrom`` then ``values``."""
    from weir.helmengine.errors import HelmError  # noqa: PLC0415
    from weir.helmengine.values import ValuesRef, resolve_values  # noqa: PLC0415

    ns = str(_meta(hr).get("namespace") or "default")
    refs = [ValuesRef.from_model(r) for r in spec.values_from or []]

    async def get_object(kind: str, name: str) -> Mapping[str, Any] | None:
        keys = [r.key for r in refs if r.kind == kind and r.name == name]
        return await source.get(kind, ns, name, keys)

    try:
        return await resolve_values(get_object, refs, spec.values, namespace=ns)
    except HelmError as e:
        hint = (
            "; give the object with --values-from Kind/name=FILE" if "not found" in str(e) else ""
        )
        raise HelmRenderError(f"{display(hr)}: could not compose the values: {e}{hint}") from e


# ----------------------------------------------------------------------------- render
@dataclass
class RenderedRelease:
    """A HelmRelease rendered: the release it would be, and the objects it would apply."""

    helmrelease: Obj
    spec: HelmReleaseSpec
    release_name: str
    release_namespace: str
    chart: FetchedChart
    values: dict[str, Any]
    objects: list[Obj]
    crds: list[Obj] = field(default_factory=list)

    @property
    def display(self) -> str:
        return display(self.helmrelease)

    @property
    def all_objects(self) -> list[Obj]:
        return [*self.crds, *self.objects]


def parse_spec(hr: Obj) -> HelmReleaseSpec:
    """The spec of a HelmRelease; every problem at once when it is invalid."""
    from pydantic import ValidationError  # noqa: PLC0415

    from weir.api.helm import HelmReleaseSpec  # noqa: PLC0415

    try:
        return HelmReleaseSpec.model_validate(hr.get("spec") or {})
    except ValidationError as e:
        problems = [
            f"spec.{'.'.join(str(p) for p in err.get('loc', ()))}: {err['msg']}"
            for err in e.errors()
        ]
        raise HelmRenderError(f"invalid {display(hr)}: {'; '.join(problems)}") from e


def manifest_objects(manifest: str) -> list[Obj]:
    """The objects of a rendered Helm manifest, in its order."""
    out = []
    for doc in yamlio.load_all(manifest):
        if isinstance(doc, dict) and doc.get("kind"):
            out.append(doc)
    return out


def release_identity(hr: Obj, spec: HelmReleaseSpec) -> tuple[str, str]:
    """The release name and namespace of a HelmRelease, as helm-controller names them."""
    from weir.helmengine.engine import release_name  # noqa: PLC0415

    meta = _meta(hr)
    target = spec.target_namespace or str(meta.get("namespace") or "default")
    name = spec.release_name or release_name(str(meta.get("name")), spec.target_namespace)
    return name, target


async def render_release(
    engine: HelmEngine,
    hr: Obj,
    chart: FetchedChart,
    values: dict[str, Any],
    *,
    access: ClusterAccess | None = None,
    is_upgrade: bool = False,
) -> RenderedRelease:
    """Render ``hr`` with the controller's options: offline (Helm's client dry run) unless
    ``access`` is given (its server dry run, ``lookup`` sees the cluster)."""
    from weir.helm import options  # noqa: PLC0415
    from weir.helmengine.engine import ClusterAccess  # noqa: PLC0415
    from weir.helmengine.errors import HelmError  # noqa: PLC0415

    spec = parse_spec(hr)
    meta = _meta(hr)
    hr_name, hr_ns = str(meta.get("name")), str(meta.get("namespace") or "default")
    name, target = release_identity(hr, spec)
    post = options.post_render_spec(hr_name, hr_ns, spec)
    install = options.install_options(spec, post)
    try:
        result = await engine.render(
            access or ClusterAccess(),
            chart.data,
            name,
            target,
            values=values,
            options=install,
            is_upgrade=is_upgrade,
            client_only=access is None,
        )
    except HelmError as e:
        raise HelmRenderError(
            f"{display(hr)}: rendering chart {chart.name}@{chart.version} failed: {e}"
        ) from e
    crds: list[Obj] = []
    if options.crds_policy(spec, "install") != "Skip":
        info = await engine.load_chart(chart.data)
        for _, text in info.crds:
            crds.extend(manifest_objects(text))
    return RenderedRelease(
        hr, spec, name, target, chart, values, manifest_objects(result.manifest), crds
    )


async def render_helmreleases(
    engine: HelmEngine,
    fleet: Fleet,
    helmreleases: Sequence[Obj],
    values_source: ValuesSource,
    notify: Notify | None = None,
) -> list[RenderedRelease]:
    """Render each HelmRelease offline (see the module docstring)."""
    tell = notify or (lambda _text: None)
    out = []
    async with ChartFetcher(engine, fleet, tell) as fetcher:
        for found in helmreleases:
            wanted = await inputs(fetcher, found, values_source)
            out.append(await render_release(engine, wanted.hr, wanted.chart, wanted.values))
    return out


@dataclass(frozen=True)
class Inputs:
    """What rendering a HelmRelease takes: the object, its spec, its chart and values."""

    hr: Obj
    spec: HelmReleaseSpec
    chart: FetchedChart
    values: dict[str, Any]


async def inputs(fetcher: ChartFetcher, found: Obj, values_source: ValuesSource) -> Inputs:
    """The chart and values of a HelmRelease (a note on stderr says where the chart is from)."""
    hr = copy.deepcopy(found)
    spec = parse_spec(hr)
    chart = await fetcher.chart(hr, spec)
    fetcher.notify(f"► {display(hr)}: chart {chart.name}@{chart.version} from {chart.origin}")
    values = await compose(hr, spec, values_source)
    return Inputs(hr, spec, chart, values)


def find_helmreleases(fleet: Fleet, name: str | None, namespace: str | None) -> list[Obj]:
    """The HelmReleases to render; a one-line error naming what the build holds when none
    matches."""
    found = fleet.helmreleases(name, namespace)
    if found:
        return found
    every = fleet.helmreleases(None, None)
    names = ", ".join(
        f"{_meta(h).get('namespace') or 'default'}/{_meta(h).get('name')}" for h in every
    )
    what = f"HelmRelease {name!r}" if name else "HelmRelease"
    where = f" in namespace {namespace}" if namespace else ""
    hint = (
        f"it holds: {names}"
        if names
        else "it holds none (build from the fleet's root with --recursive to include nested "
        "Kustomizations)"
    )
    raise HelmRenderError(f"the build of --path has no {what}{where}; {hint}")
