"""The HelmChart reconciler: a chart from a HelmRepository, GitRepository or Bucket becomes a
chart archive (``.tgz``) artifact, as source-controller builds it.

Where the chart comes from (``spec.sourceRef``, same namespace):

- **HelmRepository** (``type: default``): the highest version of ``spec.chart`` in the
  repository's index artifact that matches ``spec.version`` (a semver range, ``*`` by
  default) is downloaded with the repository's credentials and checked against the index
  digest. Revision: the chart version.
- **HelmRepository** ``type: oci``: ``<url>/<chart>`` is pulled from the registry (an exact
  version is a tag; a range selects among the tags).
- **GitRepository / Bucket**: ``spec.chart`` is a path in the source artifact; the chart
  directory is packaged by the Helm engine. Revision: the Chart.yaml version, or with
  ``reconcileStrategy: Revision`` ``<version>+<first 12 hex of the source revision>``, so that
  every commit produces a new artifact.

``spec.valuesFiles`` (merged in order, relative to the chart for repositories and to the source
root for Git/Bucket) replace the chart's ``values.yaml`` and the chart is repackaged with the
revision ``<version>+<generation>`` (unless ``Revision`` already suffixes it).

The no-op check: the same revision (for Git/Bucket: the same source revision and spec) with
the artifact still on disk ends the run without downloading anything. The artifact is
``helmchart/<ns>/<name>/<chart>-<revision>.tgz``; the Ready message is
``pulled '<chart>' chart with version '<revision>'`` (repositories) or
``packaged '<chart>' chart with version '<revision>'`` (Git/Bucket).

Known limits: charts from Git/Bucket must vendor their dependencies (``charts/``); ``verify``
(cosign/notation) is refused.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from weir.artifact.errors import ArtifactError
from weir.artifact.fetch import fetch_artifact
from weir.artifact.tarball import extract
from weir.helmengine.engine import HelmEngine
from weir.helmengine.errors import ChartError, ChartRepositoryError, HelmError
from weir.log import kv
from weir.oci.artifact import RefSpec, chart_tag, pull_chart, resolve, tag_is_exact
from weir.oci.errors import OCIError
from weir.oci.reference import Reference
from weir.runtime import conditions
from weir.runtime.durations import format_duration
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.source.chartrepo import (
    ChartIndex,
    RepoAuth,
    chart_artifact_name,
    chart_metadata,
    chart_revision,
    download_chart,
    http_client,
    load_index,
    merge_values_files,
    select_version,
)
from weir.source.errors import SourceError
from weir.source.ocirepository import parse_repository_url, registry_client
from weir.source.skeleton import (
    ARTIFACT_OUTDATED,
    failed,
    mark_stored,
    read_secret_data,
    source_timeout,
    store_file,
)
from weir.source.storage import Artifact, Storage
from weir.types import Obj
from weir.yamlio import KubeLoader

log = logging.getLogger("weir.source.helmchart")

KIND = "HelmChart"
STORAGE_KIND = "helmchart"
PULL_SUCCEEDED = "ChartPullSucceeded"
PACKAGE_SUCCEEDED = "ChartPackageSucceeded"
SOURCE_KINDS = ("HelmRepository", "GitRepository", "Bucket")
INDEX_CACHE_SIZE = 16

Lookup = Callable[[str | None, str], Obj | None]
EngineProvider = Callable[[], HelmEngine]


@dataclass(frozen=True)
class _Built:
    """A chart ready to store."""

    data: bytes
    name: str
    revision: str
    reason: str
    verb: str  # "pulled" or "packaged"


class ChartPathError(ChartError):
    """A chart path that leaves the source (retrying cannot help)."""


def read_chart_dir(root: Path, path: str) -> tuple[Path, str, str]:
    """The chart directory ``path`` of a source checked out at ``root``, with the name and
    version its ``Chart.yaml`` gives. Raises :class:`ChartPathError` for a path outside the
    source and :class:`~weir.helmengine.errors.ChartError` for a missing or bad Chart.yaml."""
    real_root = root.resolve()
    chart_dir = (root / path).resolve()
    if chart_dir != real_root and real_root not in chart_dir.parents:
        raise ChartPathError(f"chart path {path!r} points outside the source")
    chart_yaml = chart_dir / "Chart.yaml"
    if not chart_yaml.is_file():
        raise ChartError(f"no Chart.yaml at path {path!r} of the source: fix spec.chart")
    try:
        meta = yaml.load(chart_yaml.read_text(), Loader=KubeLoader)  # a safe loader
    except yaml.YAMLError as e:
        raise ChartError(f"Chart.yaml at {path!r} does not parse: {e}") from e
    if not isinstance(meta, dict) or not meta.get("name") or not meta.get("version"):
        raise ChartError(f"Chart.yaml at {path!r} needs a name and a version")
    return chart_dir, str(meta["name"]), str(meta["version"])


async def package_chart_dir(
    engine: HelmEngine,
    root: Path,
    path: str,
    out: Path,
    *,
    version: str,
    values_files: list[str],
    ignore_missing: bool = False,
) -> bytes:
    """The archive of the chart at ``path`` of a source checked out at ``root``, with
    ``version`` and ``valuesFiles`` (relative to ``root``) as its values.yaml, as
    source-controller packages charts from Git and Bucket sources."""
    chart_dir = (root / path).resolve()
    try:
        values = (
            merge_values_files(root, values_files, ignore_missing=ignore_missing)
            if values_files
            else None
        )
        tgz = await engine.package(chart_dir, out, version=version, values=values)
    except HelmError as e:
        message = _without_paths(str(e), root)
        raise ChartError(f"failed to package chart at {path!r}: {message}") from e
    return await asyncio.to_thread(tgz.read_bytes)


async def repackage_with_values(
    engine: HelmEngine,
    data: bytes,
    revision: str,
    values_files: list[str],
    *,
    ignore_missing: bool = False,
) -> bytes:
    """A chart archive repackaged with ``valuesFiles`` (relative to the chart) as its
    values.yaml and ``revision`` as its version (charts from repositories)."""
    work = Path(tempfile.mkdtemp(prefix="weir-helmchart-values-"))
    try:
        archive = work / "chart.tgz"
        archive.write_bytes(data)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        await asyncio.to_thread(extract, archive, work / "chart", digest)
        tops = [p for p in (work / "chart").iterdir() if p.is_dir()]
        if len(tops) != 1:
            raise ChartError("the chart archive has no single top directory")
        chart_dir = tops[0]
        try:
            values = merge_values_files(chart_dir, values_files, ignore_missing=ignore_missing)
            tgz = await engine.package(chart_dir, work / "out", version=revision, values=values)
        except HelmError as e:
            message = _without_paths(str(e), work / "chart")
            raise ChartError(f"failed to apply valuesFiles: {message}") from e
        return await asyncio.to_thread(tgz.read_bytes)
    except (SourceError, ArtifactError) as e:
        raise ChartError(f"bad chart archive: {e}") from e
    finally:
        shutil.rmtree(work, ignore_errors=True)


class _IndexCache:
    """Parsed repository indexes by artifact digest (indexes can be megabytes of YAML)."""

    def __init__(self, size: int = INDEX_CACHE_SIZE) -> None:
        self.size = size
        self._items: collections.OrderedDict[str, ChartIndex] = collections.OrderedDict()

    def get(self, digest: str) -> ChartIndex | None:
        index = self._items.get(digest)
        if index is not None:
            self._items.move_to_end(digest)
        return index

    def put(self, digest: str, index: ChartIndex) -> None:
        self._items[digest] = index
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class HelmChartReconciler(Reconciler):
    """Reconciles ``source.toolkit.fluxcd.io/v1`` HelmCharts (see the module docstring)."""

    def __init__(
        self,
        api: Any,
        storage: Storage,
        sources: Mapping[str, Lookup],
        engine: EngineProvider,
        *,
        requeue_dependency: float = 30.0,
    ) -> None:
        self.api = api
        self.storage = storage
        self.sources = sources
        self.engine = engine
        self.requeue_dependency = requeue_dependency
        self._indexes = _IndexCache()
        self._http: httpx.AsyncClient | None = None
        """One client for repositories without credentials (building a client loads the CA
        bundle: tens of milliseconds a chart)."""

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def finalize(self, obj: Obj) -> Result | None:
        meta = obj["metadata"]
        await self.storage.remove_all(STORAGE_KIND, meta["namespace"], meta["name"])
        return None

    # -- the run ------------------------------------------------------------------------------

    async def reconcile(self, obj: Obj) -> Result:
        spec = obj.get("spec") or {}
        meta = obj["metadata"]
        ns = meta["namespace"]
        if spec.get("verify"):
            raise Stalled(
                "VerificationError",
                "spec.verify is set but weir cannot verify chart signatures yet; remove "
                "spec.verify to pull unverified charts",
            )
        ref = spec.get("sourceRef") or {}
        kind, source_name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        lookup = self.sources.get(kind)
        if lookup is None:
            raise Stalled(
                "SourceUnavailable",
                f"unsupported source kind {kind!r}: use one of {', '.join(SOURCE_KINDS)}",
            )
        source = lookup(ns, source_name)
        if source is None:
            raise ReconcileError(
                "SourceUnavailable",
                f"failed to get source: {kind} '{ns}/{source_name}' not found; create it or fix "
                "spec.sourceRef",
                retry_after=self.requeue_dependency,
            )
        source_spec = source.get("spec") or {}
        if kind == "HelmRepository" and source_spec.get("type") == "oci":
            return await self._reconcile_oci(obj, source)
        artifact = (source.get("status") or {}).get("artifact")
        if not artifact:
            delay = self.requeue_dependency
            return Result.requeue_after(
                delay,
                f"no artifact available for {kind} source '{source_name}', retrying in "
                f"{format_duration(delay)}",
                reason="NoSourceArtifact",
            )
        if kind == "HelmRepository":
            return await self._reconcile_repository(obj, source, artifact)
        return await self._reconcile_tarball(obj, artifact)

    # -- HelmRepository (index) ---------------------------------------------------------------

    async def _reconcile_repository(self, obj: Obj, repo: Obj, source_artifact: Obj) -> Result:
        spec = obj["spec"]
        generation = obj["metadata"].get("generation")
        values_files = list(spec.get("valuesFiles") or [])
        try:
            index = await self._index(source_artifact)
            chart = select_version(index, str(spec.get("chart")), spec.get("version"))
        except HelmError as e:
            raise self._fetch_failed(obj, e) from e
        revision = (
            chart_revision(chart.version, generation=generation) if values_files else chart.version
        )
        status = obj.setdefault("status", {})
        if self._unchanged(obj, revision, chart.name, values_files):
            return self._stored(obj, chart.name, revision, PULL_SUCCEEDED, "pulled")
        conditions.mark_true(
            obj, ARTIFACT_OUTDATED, "NewChart", f"pulling '{chart.name}' chart version {revision}"
        )
        repo_spec = repo.get("spec") or {}
        auth = await self._repo_auth(repo)
        if auth is None and self._http is None:
            self._http = http_client(None, source_timeout(repo_spec))
        try:
            data = await download_chart(
                str(repo_spec.get("url")),
                chart,
                auth,
                pass_credentials=bool(repo_spec.get("passCredentials")),
                client=self._http if auth is None else None,
                timeout=source_timeout(repo_spec),
            )
        except HelmError as e:
            raise self._fetch_failed(obj, e) from e
        if chart.digest and hashlib.sha256(data).hexdigest() != chart.digest.removeprefix(
            "sha256:"
        ):
            raise failed(
                obj,
                "ChartPullFailed",
                f"chart {chart.name}-{chart.version} does not match the digest in the index; "
                "the repository may be changing: it is retried",
            )
        if values_files:
            data = await self._with_values_files(obj, data, revision, values_files)
        status["observedSourceArtifactRevision"] = source_artifact.get("revision")
        built = _Built(data, chart.name, revision, PULL_SUCCEEDED, "pulled")
        return await self._store(obj, built, values_files)

    async def _index(self, artifact: Obj) -> ChartIndex:
        digest = str(artifact.get("digest"))
        index = self._indexes.get(digest)
        if index is None:
            raw = await self._source_bytes(artifact)
            index = await asyncio.to_thread(load_index, raw)
            self._indexes.put(digest, index)
        return index

    async def _source_bytes(self, artifact: Obj) -> bytes:
        """A source artifact file: from the local storage (same process), else over HTTP."""
        if self.storage.exists(artifact):
            return await asyncio.to_thread(self.storage.local_path(artifact).read_bytes)
        try:
            async with httpx.AsyncClient(timeout=60.0) as http:
                resp = await http.get(str(artifact.get("url")))
        except httpx.HTTPError as e:
            raise ChartRepositoryError(f"failed to download {artifact.get('url')}: {e}") from e
        if resp.status_code != 200:
            raise ChartRepositoryError(
                f"failed to download {artifact.get('url')}: HTTP {resp.status_code}; wait for "
                "the source to be Ready"
            )
        return resp.content

    async def _repo_auth(self, repo: Obj) -> RepoAuth | None:
        spec = repo.get("spec") or {}
        ns = repo["metadata"]["namespace"]
        secret_ref = (spec.get("secretRef") or {}).get("name")
        cert_ref = (spec.get("certSecretRef") or {}).get("name")
        if not secret_ref and not cert_ref:
            return None
        data = await read_secret_data(self.api, ns, secret_ref) if secret_ref else None
        tls = (
            await read_secret_data(self.api, ns, cert_ref, "spec.certSecretRef")
            if cert_ref
            else None
        )
        try:
            return RepoAuth.from_secret_data(data, tls)
        except ChartRepositoryError as e:
            raise ReconcileError(e.reason, f"invalid repository credentials: {e}") from e

    # -- HelmRepository type oci --------------------------------------------------------------

    async def _reconcile_oci(self, obj: Obj, repo: Obj) -> Result:
        spec = obj["spec"]
        generation = obj["metadata"].get("generation")
        values_files = list(spec.get("valuesFiles") or [])
        repo_spec = repo.get("spec") or {}
        base = parse_repository_url(str(repo_spec.get("url") or ""))
        chart_name = str(spec.get("chart") or "")
        ref = Reference(base.registry, f"{base.repository}/{chart_name}")
        version = str(spec.get("version") or "*")
        client = await registry_client(
            self.api, repo["metadata"]["namespace"], repo_spec, ref.registry
        )
        async with client:
            try:
                exact = version != "*" and tag_is_exact(version)
                resolved = await resolve(
                    client,
                    ref,
                    RefSpec(tag=chart_tag(version)) if exact else RefSpec(semver=version),
                )
                chart_version = (resolved.tag or "").replace("_", "+")
                revision = (
                    chart_revision(chart_version, generation=generation)
                    if values_files
                    else chart_version
                )
                if self._unchanged(obj, revision, chart_name, values_files):
                    return self._stored(obj, chart_name, revision, PULL_SUCCEEDED, "pulled")
                pulled = await pull_chart(client, ref.with_digest(resolved.digest))
            except OCIError as e:
                raise failed(
                    obj,
                    "ChartPullFailed",
                    f"failed to pull chart {ref} {version}: {e}",
                    retryable=e.retryable,
                ) from e
        data = pulled.data
        if values_files:
            data = await self._with_values_files(obj, data, revision, values_files)
        built = _Built(data, chart_name, revision, PULL_SUCCEEDED, "pulled")
        return await self._store(obj, built, values_files)

    # -- GitRepository / Bucket ---------------------------------------------------------------

    async def _reconcile_tarball(self, obj: Obj, source_artifact: Obj) -> Result:
        spec = obj["spec"]
        meta = obj["metadata"]
        status = obj.setdefault("status", {})
        values_files = list(spec.get("valuesFiles") or [])
        source_revision = str(source_artifact.get("revision") or "")
        current = status.get("artifact") or {}
        if (
            status.get("observedSourceArtifactRevision") == source_revision
            and status.get("observedGeneration") == meta.get("generation")
            and (status.get("observedValuesFiles") or []) == values_files
            and current
            and self.storage.exists(current)
        ):
            self.storage.set_artifact_url(current)
            return self._stored(
                obj,
                str(status.get("observedChartName") or spec.get("chart")),
                str(current.get("revision")),
                PACKAGE_SUCCEEDED,
                "packaged",
            )
        work = Path(tempfile.mkdtemp(prefix="weir-helmchart-"))
        try:
            root = work / "source"
            try:
                await self._unpack_source(source_artifact, root)
            except (SourceError, ArtifactError) as e:
                raise ReconcileError(
                    "ArtifactFailed",
                    f"failed to get the source artifact: {e}",
                    retry_after=self.requeue_dependency,
                ) from e
            built = await self._package(obj, root, work / "out", source_revision, values_files)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        status["observedSourceArtifactRevision"] = source_revision
        return await self._store(obj, built, values_files)

    async def _unpack_source(self, artifact: Obj, dest: Path) -> None:
        if self.storage.exists(artifact):
            path = self.storage.local_path(artifact)
            await asyncio.to_thread(extract, path, dest, str(artifact["digest"]))
        else:
            await fetch_artifact(str(artifact["url"]), str(artifact["digest"]), dest)

    async def _package(
        self, obj: Obj, root: Path, out: Path, source_revision: str, values_files: list[str]
    ) -> _Built:
        spec = obj["spec"]
        path = str(spec.get("chart") or "")
        try:
            _, name, version = await asyncio.to_thread(read_chart_dir, root, path)
        except ChartPathError as e:
            raise Stalled("ChartPackageFailed", str(e)) from e
        except ChartError as e:
            raise failed(obj, "ChartPackageFailed", str(e)) from e
        if spec.get("reconcileStrategy") == "Revision":
            revision = chart_revision(version, source_revision=source_revision)
        elif values_files:
            revision = chart_revision(version, generation=obj["metadata"].get("generation"))
        else:
            revision = version
        try:
            data = await package_chart_dir(
                self.engine(),
                root,
                path,
                out,
                version=revision,
                values_files=values_files,
                ignore_missing=bool(spec.get("ignoreMissingValuesFiles")),
            )
        except ChartError as e:
            raise failed(obj, "ChartPackageFailed", str(e)) from e
        return _Built(data, name, revision, PACKAGE_SUCCEEDED, "packaged")

    # -- shared steps -------------------------------------------------------------------------

    async def _with_values_files(
        self, obj: Obj, data: bytes, revision: str, values_files: list[str]
    ) -> bytes:
        """Repackage a chart archive with ``valuesFiles`` as its values.yaml."""
        try:
            return await repackage_with_values(
                self.engine(),
                data,
                revision,
                values_files,
                ignore_missing=bool(obj["spec"].get("ignoreMissingValuesFiles")),
            )
        except ChartError as e:
            raise failed(obj, "ChartPackageFailed", str(e)) from e

    def _unchanged(self, obj: Obj, revision: str, chart: str, values_files: list[str]) -> bool:
        status = obj.get("status") or {}
        current = status.get("artifact") or {}
        if (
            current.get("revision") == revision
            and status.get("observedChartName") == chart
            and (status.get("observedValuesFiles") or []) == values_files
            and self.storage.exists(current)
        ):
            self.storage.set_artifact_url(current)
            return True
        return False

    async def _store(self, obj: Obj, built: _Built, values_files: list[str]) -> Result:
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        try:
            chart_metadata(built.data)  # refuse what is not a chart archive
        except ChartError as e:
            raise failed(obj, "ChartPullFailed", str(e)) from e
        artifact: Artifact = await store_file(
            self.storage,
            built.data,
            kind=STORAGE_KIND,
            namespace=ns,
            name=name,
            filename=chart_artifact_name(built.name, built.revision),
            revision=built.revision,
        )
        status = obj.setdefault("status", {})
        status["artifact"] = dict(artifact)
        status["url"] = artifact["url"]
        status["observedChartName"] = built.name
        if values_files:
            status["observedValuesFiles"] = values_files
        else:
            status.pop("observedValuesFiles", None)
        with contextlib.suppress(OSError):
            await self.storage.garbage_collect(STORAGE_KIND, ns, name, artifact)
        log.info(
            "stored chart",
            extra=kv(kind=KIND, namespace=ns, name=name, revision=built.revision),
        )
        return self._stored(obj, built.name, built.revision, built.reason, built.verb)

    def _stored(self, obj: Obj, chart: str, revision: str, reason: str, verb: str) -> Result:
        message = f"{verb} '{chart}' chart with version '{revision}'"
        mark_stored(obj, message)
        return Result.success(message, reason=reason, revision=revision)

    def _fetch_failed(self, obj: Obj, err: HelmError) -> Exception:
        """A repository failure is retried (the index may change) whatever the error says."""
        return failed(obj, err.reason, str(err))


def _without_paths(text: str, root: Path) -> str:
    """``text`` without the controller's temporary directory ``root`` (a path inside it reads
    relative to the source): messages never show the controller's host paths."""
    for where in {str(root), str(root.resolve())}:
        text = text.replace(f"{where}/", "").replace(where, ".")
    return text
