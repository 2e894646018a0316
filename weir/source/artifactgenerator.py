"""The ArtifactGenerator reconciler (Flux 2.7's source-watcher): sources composed into, or split
into, ExternalArtifacts.

One run, as source-watcher does it:

1. validate the spec: unique aliases and artifact names, ``revision`` naming a known alias,
   cross-namespace sources refused under ``--no-cross-namespace-refs`` (``ValidationFailed``,
   ``AccessDenied``: Stalled);
2. observe the sources (GitRepository, OCIRepository, Bucket, HelmChart, ExternalArtifact)
   from the informers: each needs an artifact, else ``SourceFetchFailed`` and a retry after
   ``--requeue-dependency``. The digest of their artifacts (digest, revision, URL by alias) is
   ``status.observedSourcesDigest``;
3. **drift detection**: Ready for this generation, the same sources digest, every artifact of
   ``status.inventory`` in the storage with its digest, and the generated ExternalArtifacts in
   the cluster as the inventory says: nothing to do;
4. otherwise download the sources, build each artifact in a staging directory with its copy
   operations (:mod:`weir.source.copyops`; a failure is ``BuildFailed``), archive it as
   ``externalartifact/<ns>/<name>/<content hash>.tar.gz`` with the revision
   ``latest@<artifact digest>`` (or the revision of the ``revision: "@alias"`` source), the
   ``org.opencontainers.image.revision`` metadata of ``originRevision``, and server-side apply
   the ExternalArtifact (labels ``app.kubernetes.io/managed-by: source-watcher`` and
   ``source.extensions.fluxcd.io/generator: <generator uid>``, ``spec.sourceRef`` -> the
   generator) with ``status.artifact`` and ``Ready=True "Artifact is ready"``;
5. delete the ExternalArtifacts (and their files) that left the spec, collect old files, and
   report ``reconciliation succeeded, generated N artifact(s)``.

Deletion removes every generated ExternalArtifact and its files (finalizer
``source.extensions.fluxcd.io/finalizer``). The annotation
``source.extensions.fluxcd.io/reconcile: disabled`` pauses the generator.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes_asyncio.client import ApiClient
from pydantic import ValidationError

from weir.api.artifactgenerator import ArtifactGeneratorSpec, OutputArtifact
from weir.api.kinds import lookup
from weir.artifact.cache import ArtifactCache
from weir.artifact.errors import ArtifactError
from weir.kube import apply as kube
from weir.kube.errors import NotFoundError
from weir.log import kv
from weir.runtime import conditions
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.source.copyops import Copy, CopyError, build, dir_hash
from weir.source.errors import StorageError
from weir.source.storage import Artifact, Storage
from weir.types import Obj

log = logging.getLogger("weir.source.artifactgenerator")

KIND = "ArtifactGenerator"
FINALIZER = "source.extensions.fluxcd.io/finalizer"
GENERATOR_LABEL = "source.extensions.fluxcd.io/generator"
RECONCILE_ANNOTATION = "source.extensions.fluxcd.io/reconcile"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
ORIGIN_REVISION = "org.opencontainers.image.revision"
FIELD_MANAGER = "source-watcher"
STORAGE_KIND = "ExternalArtifact"
GENERATOR_INDEX = "generator"

VALIDATION_FAILED = "ValidationFailed"
ACCESS_DENIED = "AccessDenied"
SOURCE_FETCH_FAILED = "SourceFetchFailed"
BUILD_FAILED = "BuildFailed"
RECONCILIATION_FAILED = "ReconciliationFailed"

EXTERNAL_ARTIFACT = lookup("ExternalArtifact")
GENERATOR = lookup("ArtifactGenerator")

Lookup = Callable[[str | None, str], Obj | None]


@dataclass(frozen=True)
class ObservedSource:
    """A source's artifact as the generator saw it."""

    kind: str
    namespace: str
    name: str
    digest: str
    revision: str
    url: str
    origin_revision: str = ""

    def __str__(self) -> str:
        return f"digest={self.digest},revision={self.revision},url={self.url}"


def index_by_sources(obj: Obj) -> list[str]:
    """``<kind>/<namespace>/<name>`` of every source of a generator (its dependents index)."""
    ns = (obj.get("metadata") or {}).get("namespace") or ""
    out = []
    for src in (obj.get("spec") or {}).get("sources") or []:
        if isinstance(src, dict) and src.get("kind") and src.get("name"):
            out.append(f"{src['kind']}/{src.get('namespace') or ns}/{src['name']}")
    return sorted(set(out))


def generator_of(obj: Obj) -> list[str]:
    """``<namespace>/<name>`` of the generator of an ExternalArtifact (``spec.sourceRef``)."""
    ref = (obj.get("spec") or {}).get("sourceRef") or {}
    if ref.get("kind") != KIND or not ref.get("name"):
        return []
    ns = ref.get("namespace") or (obj.get("metadata") or {}).get("namespace") or ""
    return [f"{ns}/{ref['name']}"]


def sources_digest(sources: Mapping[str, ObservedSource]) -> str:
    """source-watcher's ``HashObservedSources``: sha256 of the sorted ``alias=[...]`` parts
    joined by ``|``."""
    parts = sorted(f"{alias}=[{src}]" for alias, src in sources.items())
    return "sha256:" + hashlib.sha256("|".join(parts).encode()).hexdigest()


class ArtifactGeneratorReconciler(Reconciler):
    """Reconciles ``source.extensions.fluxcd.io/v1beta1`` ArtifactGenerators."""

    finalizer = FINALIZER
    default_interval = 3600.0
    """source-watcher regenerates every hour (and at once when a source changes)."""

    def __init__(
        self,
        api: ApiClient,
        storage: Storage,
        sources: Mapping[str, Lookup],
        external_artifacts: Any,
        *,
        requeue_dependency: float = 30.0,
        no_cross_namespace_refs: bool = False,
    ) -> None:
        self.api = api
        self.storage = storage
        self.sources = sources
        self.external_artifacts = external_artifacts
        """The ExternalArtifact informer, indexed by :data:`GENERATOR_INDEX`."""
        self.requeue_dependency = requeue_dependency
        self.no_cross_namespace_refs = no_cross_namespace_refs
        self.cache = ArtifactCache()

    async def close(self) -> None:
        await self.cache.close()

    def is_suspended(self, obj: Obj) -> bool:
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        return str(annotations.get(RECONCILE_ANNOTATION, "")).lower() == "disabled"

    # -------------------------------------------------------------------------- the run
    async def reconcile(self, obj: Obj) -> Result:
        spec = self._parse(obj)
        meta = obj["metadata"]
        ns = meta["namespace"]
        status = obj.setdefault("status", {})
        observed = self._observe_sources(obj, spec)
        if isinstance(observed, Result):
            return observed
        digest = sources_digest(observed)
        if not self._drifted(obj, spec, digest):
            return self._succeeded(len(status.get("inventory") or []))

        work = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="weir-ag-"))
        try:
            async with contextlib.AsyncExitStack() as stack:
                try:
                    local = {
                        alias: await stack.enter_async_context(
                            self.cache.extracted(src.url, src.digest)
                        )
                        for alias, src in observed.items()
                    }
                except ArtifactError as e:
                    delay = self.requeue_dependency
                    return Result.requeue_after(
                        delay, f"fetch sources failed: {e}", reason=SOURCE_FETCH_FAILED
                    )
                refs = [
                    await self._generate(obj, spec_artifact, local, observed, work)
                    for spec_artifact in spec.artifacts
                ]
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

        await self._forget_orphans(obj, {r["name"] for r in refs})
        status["inventory"] = refs
        status["observedSourcesDigest"] = digest
        log.info(
            "generated artifacts",
            extra=kv(kind=KIND, namespace=ns, name=meta["name"], artifacts=len(refs)),
        )
        return self._succeeded(len(refs))

    @staticmethod
    def _succeeded(count: int) -> Result:
        return Result.success(f"reconciliation succeeded, generated {count} artifact(s)")

    def _parse(self, obj: Obj) -> ArtifactGeneratorSpec:
        try:
            spec = ArtifactGeneratorSpec.model_validate(obj.get("spec") or {})
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise Stalled(
                VALIDATION_FAILED, f"invalid ArtifactGenerator: {where}: {first['msg']}"
            ) from e
        ns = obj["metadata"]["namespace"]
        aliases: set[str] = set()
        for src in spec.sources:
            if src.alias in aliases:
                raise Stalled(VALIDATION_FAILED, f"duplicate source alias '{src.alias}' found")
            aliases.add(src.alias)
            if self.no_cross_namespace_refs and src.namespace and src.namespace != ns:
                raise Stalled(
                    ACCESS_DENIED,
                    f"cross-namespace reference to source {src.kind}/{src.namespace}/{src.name} "
                    "is not allowed",
                )
        names: set[str] = set()
        for artifact in spec.artifacts:
            if artifact.name in names:
                raise Stalled(VALIDATION_FAILED, f"duplicate artifact name '{artifact.name}' found")
            names.add(artifact.name)
            for field, ref in (
                ("revision", artifact.revision),
                ("originRevision", artifact.origin_revision),
            ):
                if ref and ref[1:] not in aliases:
                    raise Stalled(
                        VALIDATION_FAILED,
                        f"artifact {artifact.name} {field} source alias '{ref[1:]}' not found",
                    )
        return spec

    def _observe_sources(
        self, obj: Obj, spec: ArtifactGeneratorSpec
    ) -> dict[str, ObservedSource] | Result:
        ns = obj["metadata"]["namespace"]
        observed: dict[str, ObservedSource] = {}
        delay = self.requeue_dependency
        for src in spec.sources:
            src_ns = src.namespace or ns
            found = self.sources[src.kind](src_ns, src.name)
            if found is None:
                return Result.requeue_after(
                    delay,
                    f"get sources failed: {src.kind} '{src_ns}/{src.name}' not found",
                    reason=SOURCE_FETCH_FAILED,
                )
            artifact = (found.get("status") or {}).get("artifact")
            if not artifact:
                return Result.requeue_after(
                    delay,
                    f"get sources failed: source '{src.kind}/{src_ns}/{src.name}' is not ready",
                    reason=SOURCE_FETCH_FAILED,
                )
            metadata = artifact.get("metadata") or {}
            observed[src.alias] = ObservedSource(
                src.kind,
                src_ns,
                src.name,
                str(artifact.get("digest")),
                str(artifact.get("revision")),
                str(artifact.get("url")),
                str(metadata.get(ORIGIN_REVISION) or ""),
            )
        return observed

    def _drifted(self, obj: Obj, spec: ArtifactGeneratorSpec, digest: str) -> bool:
        """source-watcher's drift detection (see the module docstring)."""
        meta, status = obj["metadata"], obj.get("status") or {}
        ready = conditions.get(obj, "Ready") or {}
        inventory = status.get("inventory") or []
        if ready.get("status") != "True" or ready.get("observedGeneration") != meta.get(
            "generation"
        ):
            return True
        if status.get("observedSourcesDigest") != digest or len(inventory) != len(spec.artifacts):
            return True
        for ref in inventory:
            try:
                artifact = {
                    "path": self.storage.artifact_path(
                        STORAGE_KIND, ref["namespace"], ref["name"], ref["filename"]
                    ),
                    "digest": ref["digest"],
                }
            except (KeyError, StorageError):
                return True
            if not self.storage.exists(artifact) or not self.storage.verify(artifact):
                return True
        live = self.external_artifacts.by_index(GENERATOR_INDEX, str(meta.get("uid")))
        if len(live) != len(inventory):
            return True
        want = {(r["namespace"], r["name"], r["digest"]) for r in inventory}
        have = {
            (
                (ea.get("metadata") or {}).get("namespace"),
                (ea.get("metadata") or {}).get("name"),
                ((ea.get("status") or {}).get("artifact") or {}).get("digest"),
            )
            for ea in live
        }
        return want != have

    # ----------------------------------------------------------------------- one artifact
    async def _generate(
        self,
        obj: Obj,
        spec: OutputArtifact,
        local: Mapping[str, Path],
        observed: Mapping[str, ObservedSource],
        work: Path,
    ) -> dict[str, str]:
        ns = obj["metadata"]["namespace"]
        staging = work / spec.name
        copies = [
            Copy(c.from_, c.to, tuple(c.exclude or ()), c.strategy or "Overwrite")
            for c in spec.copy_
        ]
        try:
            await asyncio.to_thread(build, copies, local, staging)
            filename = f"{await asyncio.to_thread(dir_hash, staging, spec.name)}.tar.gz"
        except CopyError as e:
            raise ReconcileError(BUILD_FAILED, f"{spec.name} build failed: {e}") from e
        except OSError as e:
            raise ReconcileError(BUILD_FAILED, f"{spec.name} build failed: {e}") from e
        try:
            artifact = await self.storage.archive(
                staging,
                kind=STORAGE_KIND,
                namespace=ns,
                name=spec.name,
                revision="",
                filename=filename,
            )
        except StorageError as e:
            raise ReconcileError(BUILD_FAILED, f"{spec.name} build failed: {e}") from e
        artifact["revision"] = f"latest@{artifact['digest']}"
        if spec.revision:
            artifact["revision"] = observed[spec.revision[1:]].revision
        if spec.origin_revision:
            source = observed[spec.origin_revision[1:]]
            artifact["metadata"] = {ORIGIN_REVISION: source.origin_revision or source.revision}
        try:
            await self._apply_external_artifact(obj, spec.name, artifact)
        except Exception as e:
            raise ReconcileError(RECONCILIATION_FAILED, f"{spec.name} reconcile failed: {e}") from e
        await self.storage.garbage_collect(STORAGE_KIND, ns, spec.name, artifact)
        return {
            "name": spec.name,
            "namespace": ns,
            "digest": artifact["digest"],
            "filename": filename,
        }

    async def _apply_external_artifact(self, obj: Obj, name: str, artifact: Artifact) -> None:
        meta = obj["metadata"]
        ns = meta["namespace"]
        desired: Obj = {
            "apiVersion": EXTERNAL_ARTIFACT.api_version,
            "kind": "ExternalArtifact",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": {MANAGED_BY_LABEL: FIELD_MANAGER, GENERATOR_LABEL: str(meta.get("uid"))},
            },
            "spec": {
                "sourceRef": {
                    "apiVersion": GENERATOR.api_version,
                    "kind": KIND,
                    "name": meta["name"],
                    "namespace": ns,
                }
            },
        }
        live = await kube.apply(self.api, desired, FIELD_MANAGER, force=True)
        current = {"metadata": live.get("metadata") or {}, "status": dict(live.get("status") or {})}
        conditions.mark_true(current, "Ready", "Succeeded", "Artifact is ready")
        await kube.patch_status(
            self.api,
            EXTERNAL_ARTIFACT.resource,
            ns,
            name,
            {"artifact": dict(artifact), "conditions": current["status"]["conditions"]},
            FIELD_MANAGER,
        )
        old = ((live.get("status") or {}).get("artifact") or {}).get("digest")
        if old != artifact["digest"]:
            log.info(
                f"ExternalArtifact/{ns}/{name} reconciled with revision {artifact['revision']}",
                extra=kv(kind=KIND, namespace=ns, name=meta["name"]),
            )

    # -------------------------------------------------------------------------- clean up
    async def _forget_orphans(self, obj: Obj, keep: set[str]) -> None:
        inventory = (obj.get("status") or {}).get("inventory") or []
        for ref in inventory:
            if ref.get("name") not in keep:
                await self._delete_external_artifact(ref.get("namespace", ""), ref.get("name", ""))

    async def _delete_external_artifact(self, ns: str, name: str) -> None:
        if not ns or not name:
            return
        with contextlib.suppress(NotFoundError):
            await kube.delete(self.api, EXTERNAL_ARTIFACT.resource, ns, name, missing_ok=True)
        with contextlib.suppress(StorageError, OSError):
            await self.storage.remove_all(STORAGE_KIND, ns, name)
        log.info("deleted ExternalArtifact", extra=kv(namespace=ns, name=name))

    async def finalize(self, obj: Obj) -> Result | None:
        for ref in (obj.get("status") or {}).get("inventory") or []:
            await self._delete_external_artifact(ref.get("namespace", ""), ref.get("name", ""))
        return None
