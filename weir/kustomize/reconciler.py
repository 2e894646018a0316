"""The Kustomization reconciler: a source artifact becomes objects in the cluster.

One run, in kustomize-controller's order (the runtime owns Ready / Reconciling / Stalled, the
``requestedAt`` handshake, suspend, the status patch and requeues):

source -> dependencies -> fetch artifact -> build -> substitute -> apply (staged SSA) ->
prune -> inventory -> health checks -> ``Applied revision: <rev>``.

A failure at any step keeps what was applied before: nothing is applied unless the whole
build succeeded, and the inventory only changes after a successful apply.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from kubernetes_asyncio.client import ApiClient
from pydantic import ValidationError

from weir.api.kustomize import KustomizationSpec
from weir.artifact.cache import ArtifactCache
from weir.artifact.errors import ArtifactError, ArtifactFetchError, ArtifactNotFoundError
from weir.kube import apply as kube
from weir.kube import inventory
from weir.kube.client import api_client_from_kubeconfig_text, impersonating, service_account_user
from weir.kube.errors import NotFoundError
from weir.kube.indexers import source_key
from weir.kube.resources import SECRETS
from weir.kustomize import engine, sandbox
from weir.kustomize.build import Manifest, build_output
from weir.kustomize.buildcache import BuildCache, spec_key
from weir.kustomize.generate import BuildSpec
from weir.kustomize.pool import BuildPool
from weir.kustomize.redact import Scrubber
from weir.kustomize.render import (
    cluster_decryptor,
    cluster_variables,
    default_timeout,
    post_build,
    prepare_objects,
    spec_timeout,
)
from weir.kustomize.settings import KustomizeSettings
from weir.kustomize.touched import Reads, Touched, file_digests_job, reads_job
from weir.kustomize.unchanged import Applied, OwnedLister, fingerprint, record, untouched
from weir.kustomize.variables import Variables
from weir.log import kv
from weir.runtime import conditions, progress
from weir.runtime.dependencies import Dependencies
from weir.runtime.durations import format_duration, parse_duration
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.ssa.apply import ApplyOptions, ChangeSet, apply_all
from weir.ssa.celhealth import HealthRules
from weir.ssa.errors import SSAError
from weir.ssa.prune import deletes_on_finalize, prune, waits_on_finalize
from weir.ssa.wait import wait_for_health
from weir.types import Obj

log = logging.getLogger("weir.kustomize")

KIND = "Kustomization"
FINALIZER = "finalizers.fluxcd.io"
HEALTHY = "Healthy"
HISTORY_LIMIT = 5
SUCCEEDED = "ReconciliationSucceeded"

Lookup = Callable[[str | None, str], Obj | None]
"""(namespace, name) -> cached object or None."""


class Add(Protocol):
    """The work queue's ``add``."""

    def __call__(self, key: str, *, priority: bool = False) -> None: ...


@dataclass
class Sources:
    """The informer lookups of every source kind a Kustomization may reference."""

    by_kind: Mapping[str, Lookup]

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        lookup = self.by_kind.get(kind)
        if lookup is None:
            known = ", ".join(sorted(self.by_kind))
            raise Stalled("ArtifactFailed", f"unsupported source kind {kind!r}: use one of {known}")
        return lookup(namespace, name)


@dataclass
class _Clients:
    """API clients per identity (impersonated service accounts, remote clusters), reused."""

    api: ApiClient
    cache: dict[str, ApiClient] = field(default_factory=dict)

    def impersonate(self, namespace: str, sa: str) -> ApiClient:
        user = service_account_user(namespace, sa)
        if user not in self.cache:
            self.cache[user] = impersonating(self.api, user)
        return self.cache[user]

    async def remote(self, namespace: str, ref: Mapping[str, Any]) -> ApiClient:
        secret_ref = ref.get("secretRef") or {}
        name = secret_ref.get("name")
        if not name:
            raise Stalled("ReconciliationFailed", "spec.kubeConfig needs a secretRef")
        try:
            secret = await kube.get(self.api, SECRETS, namespace, name)
        except NotFoundError as e:
            raise ReconcileError(
                "ReconciliationFailed", f"kubeconfig secret '{namespace}/{name}' not found"
            ) from e
        data = secret.get("data") or {}
        key = secret_ref.get("key") or ("value" if "value" in data else "value.yaml")
        if key not in data:
            raise ReconcileError(
                "ReconciliationFailed", f"kubeconfig secret '{namespace}/{name}' has no key {key!r}"
            )
        cache_key = f"remote:{namespace}/{name}:{secret['metadata'].get('resourceVersion')}"
        if cache_key not in self.cache:
            text = base64.b64decode(data[key]).decode()
            self.cache[cache_key] = await api_client_from_kubeconfig_text(text)
        return self.cache[cache_key]

    async def close(self) -> None:
        for client in self.cache.values():
            with contextlib.suppress(Exception):
                await client.close()
        self.cache.clear()


@dataclass
class _Run:
    """One run's inputs, passed to each step."""

    obj: Obj
    spec: KustomizationSpec
    api: ApiClient
    """The client to apply with (impersonated or remote when the spec says so)."""
    limit: float
    """``spec.timeout`` in seconds."""
    retry: float
    revision: str
    scrub: Scrubber = field(default_factory=Scrubber)
    """Secret values and host paths to keep out of messages."""
    values: Mapping[str, str] | None = None
    """The post-build variables, once loaded."""
    reads: Reads | None = None
    """What the build reads in the artifact, once known (:mod:`weir.kustomize.touched`)."""
    artifact: str = ""
    """The artifact's digest."""

    @property
    def key(self) -> str:
        meta = self.obj["metadata"]
        return f"{meta['namespace']}/{meta['name']}"


ARTIFACT_FAILED = "ArtifactFailed"


class KustomizationReconciler(Reconciler):
    """Reconciles ``kustomize.toolkit.fluxcd.io/v1`` Kustomizations."""

    finalizer = FINALIZER
    defers_progress_report = True
    """``Reconciling`` is written when a build starts, not before a run that may be skipped as
    unchanged: a forced no-op run costs one status write."""

    def __init__(
        self,
        api: ApiClient,
        sources: Sources,
        kustomizations: Lookup,
        settings: KustomizeSettings | None = None,
    ) -> None:
        self.api = api
        self.sources = sources
        self.kustomizations = kustomizations
        self.settings = settings or KustomizeSettings()
        self.dependencies = Dependencies(
            KIND,
            kustomizations,
            self.settings.requeue_dependency,
            self.settings.no_cross_namespace_refs,
        )
        self.clients = _Clients(api)
        self.artifacts = ArtifactCache()
        self.limits = sandbox.Limits(
            memory=self.settings.build_memory_limit,
            timeout=self.settings.build_timeout,
            sandbox=self.settings.build_sandbox,  # type: ignore[arg-type]
        )
        self.pool = BuildPool(self.settings.build_workers)
        self.builds = BuildCache()
        self.applied: dict[str, Applied] = {}
        self.lister = OwnedLister()
        """What the last successful run of each Kustomization applied (see
        :mod:`weir.kustomize.unchanged`)."""
        self.touched = Touched(self._file_digests)
        """What each Kustomization reads, to run those a new artifact touches first (the
        controller connects it to its work queue; :mod:`weir.kustomize.touched`)."""
        self._ordering: set[asyncio.Task[None]] = set()
        """Tasks ordering the runs of a new artifact (:meth:`queue_after_artifact`)."""
        self.builds_by_key: Counter[str] = Counter()
        """kustomize builds run, by ``namespace/name`` (for tests and benchmarks)."""
        self.skips_by_key: Counter[str] = Counter()
        """Runs skipped as unchanged, by ``namespace/name``."""
        reason = sandbox.support()
        if reason and self.limits.sandbox == "auto":
            log.warning(
                "kustomize builds are not confined by the kernel; only the static check of "
                "the files they reach protects the controller's files",
                extra=kv(reason=reason),
            )
        _engine, problem = engine.describe()
        if problem:
            log.warning(problem)

    # -- the run ------------------------------------------------------------------------------

    async def reconcile(self, obj: Obj) -> Result:
        scrub = Scrubber()
        scrub.add_path(str(self.artifacts.root), "<artifact>")
        try:
            return await self._reconcile(obj, scrub)
        except (Stalled, ReconcileError) as e:
            clean = scrub(e.message)
            if clean != e.message:
                e.message, e.args = clean, (clean,)
                e.__cause__, e.__suppress_context__ = None, True
            raise
        finally:
            scrub.conditions(obj)

    async def _reconcile(self, obj: Obj, scrub: Scrubber) -> Result:
        started = time.monotonic()
        spec = _parse(obj)
        status = obj.setdefault("status", {})
        interval = parse_duration(spec.interval)
        retry = parse_duration(spec.retry_interval) if spec.retry_interval else interval
        timeout = spec_timeout(spec)

        artifact = self._source_artifact(obj, spec, retry)
        if isinstance(artifact, Result):
            return artifact
        revision = str(artifact["revision"])
        waiting = self._dependencies_ready(obj, spec, revision)
        if waiting is not None:
            return waiting
        status["lastAttemptedRevision"] = revision
        rules = self._health_rules(spec, revision)
        run = _Run(obj, spec, await self._client(obj, spec), timeout, retry, revision, scrub)
        run.artifact = str(artifact["digest"])
        previous = self.applied.pop(run.key, None)
        self.touched.forget(run.key)
        if previous is None or not self.settings.skip_unchanged:
            await progress.report()  # a full run: show it before the download

        try:
            async with self.artifacts.extracted(
                str(artifact["url"]), str(artifact["digest"]), run.limit
            ) as root:
                await self.touched.seen(self._source_key(obj, spec), run.artifact, root)
                try:
                    same = await self._unchanged(run, root, str(artifact["digest"]), previous)
                    if same is not None:
                        return await self._skip(run, artifact, same, rules, started)
                    await progress.report()
                    objects, digest, fp = await self._build(run, root, str(artifact["digest"]))
                except SSAError as e:
                    raise self._failed(e, run) from e
        except ArtifactError as e:
            raise self._artifact_failed(e, revision, retry) from e

        try:
            skipped, changes = await self._apply(run, objects)
            checked = await self._health(run, objects, skipped, rules)
        except SSAError as e:
            _record_history(obj, digest, e.reason, revision, time.monotonic() - started)
            raise self._failed(e, run) from e
        if fp is not None and self.settings.skip_unchanged:
            applied = record(fp, digest, status.get("inventory"), changes)
            if applied is not None:
                self.applied[run.key] = applied
        return self._succeeded(run, artifact, digest, checked, started)

    def _succeeded(
        self, run: _Run, artifact: Obj, digest: str, checked: float | None, started: float
    ) -> Result:
        obj, status, revision = run.obj, run.obj["status"], run.revision
        status["lastAppliedRevision"] = revision
        if run.reads is not None:
            generation = (obj.get("metadata") or {}).get("generation")
            self.touched.remember(run.key, run.artifact, generation, run.reads)
        origin = (artifact.get("metadata") or {}).get("org.opencontainers.image.revision")
        if origin:
            status["lastAppliedOriginRevision"] = origin
        if checked:
            conditions.mark_true(
                obj,
                HEALTHY,
                "Succeeded",
                f"Health check passed in {format_duration(checked)}",
            )
        elif not (run.spec.wait or run.spec.health_checks):
            conditions.delete(obj, HEALTHY)
        _record_history(obj, digest, SUCCEEDED, revision, time.monotonic() - started)
        return Result.success(f"Applied revision: {revision}", reason=SUCCEEDED, revision=revision)

    async def _skip(
        self, run: _Run, artifact: Obj, applied: Applied, rules: HealthRules, started: float
    ) -> Result:
        """Nothing changed since ``applied``: no build, no apply (see
        :mod:`weir.kustomize.unchanged`). Explicit ``healthChecks`` still run (they may name
        objects this Kustomization does not apply); ``wait`` is implied by the untouched
        objects."""
        self.skips_by_key[run.key] += 1
        checked = None
        if run.spec.health_checks and not run.spec.wait:
            await progress.report()
            try:
                checked = await self._health(run, [], set(), rules)
            except SSAError as e:
                raise self._failed(e, run) from e
        self.applied[run.key] = applied
        return self._succeeded(run, artifact, applied.digest, checked, started)

    async def finalize(self, obj: Obj) -> Result | None:
        """Delete the inventory on deletion as ``deletionPolicy`` says (MirrorPrune follows
        ``spec.prune``; Orphan never; suspended Kustomizations never)."""
        spec = obj.get("spec") or {}
        entries = inventory.from_wire((obj.get("status") or {}).get("inventory"))
        policy = spec.get("deletionPolicy")
        if not entries or not deletes_on_finalize(
            policy, bool(spec.get("prune")), suspended=bool(spec.get("suspend"))
        ):
            return None
        meta = obj["metadata"]
        self.applied.pop(f"{meta['namespace']}/{meta['name']}", None)
        self.touched.forget(f"{meta['namespace']}/{meta['name']}")
        try:
            parsed = _parse(obj)
            api = await self._client(obj, parsed)
        except (Stalled, ReconcileError) as e:
            log.warning(
                "skipping garbage collection on deletion",
                extra=kv(kind=KIND, namespace=meta["namespace"], name=meta["name"], error=str(e)),
            )
            return None
        interval = parse_duration(str(spec.get("interval") or "10m"))
        timeout = (
            parse_duration(spec["timeout"]) if spec.get("timeout") else default_timeout(interval)
        )
        stale = inventory.stale_entries(entries, [])
        result = await prune(
            api,
            stale,
            meta["name"],
            meta["namespace"],
            wait=waits_on_finalize(policy),
            timeout=timeout,
        )
        result.raise_for_failures()
        return None

    # -- steps --------------------------------------------------------------------------------

    def _source_artifact(self, obj: Obj, spec: KustomizationSpec, retry: float) -> Obj | Result:
        """The source's artifact; a waiting Result (Ready=False ArtifactFailed, no Warning: as
        Flux, an info log and a requeue) while the source or its first artifact is missing."""
        ref = spec.source_ref
        ns = obj["metadata"]["namespace"]
        src_ns = ref.namespace or ns
        if src_ns != ns and self.settings.no_cross_namespace_refs:
            raise Stalled(
                "AccessDenied",
                f"can't access '{ref.kind}/{src_ns}/{ref.name}', cross-namespace references "
                "have been blocked",
            )
        if ref.kind == "ExternalArtifact" and not self.settings.external_artifact:
            raise Stalled(
                "AccessDenied",
                f"can't access '{ref.kind}/{src_ns}/{ref.name}': the ExternalArtifact feature "
                "gate is disabled; start weir with --feature-gates=ExternalArtifact=true",
            )
        source = self.sources.get(ref.kind, src_ns, ref.name)
        if source is None:
            return Result.requeue_after(
                retry, f"Source '{ref.kind}/{src_ns}/{ref.name}' not found", reason=ARTIFACT_FAILED
            )
        artifact = (source.get("status") or {}).get("artifact")
        if not artifact:
            delay = self.settings.requeue_dependency
            return Result.requeue_after(
                delay,
                f"Source artifact not found, retrying in {format_duration(delay)}",
                reason=ARTIFACT_FAILED,
            )
        return dict(artifact)

    def _artifact_failed(self, e: ArtifactError, revision: str, retry: float) -> ReconcileError:
        """The end of a run whose artifact could not be fetched. A download failure (the
        artifact server has not stored it yet, or is not reachable, as after a leader failover)
        retries after ``--requeue-dependency``, as Flux does, not after the retry interval; the
        source storing the artifact (a new URL or time) wakes the Kustomization sooner."""
        if isinstance(e, ArtifactNotFoundError):
            delay = self.settings.requeue_dependency
            message = (
                f"Source is not ready, artifact not found, retrying in {format_duration(delay)}"
            )
            return ReconcileError(ARTIFACT_FAILED, message, revision=revision, retry_after=delay)
        delay = self.settings.requeue_dependency if isinstance(e, ArtifactFetchError) else retry
        return ReconcileError(
            ARTIFACT_FAILED,
            f"failed to fetch artifact for revision '{revision}': {e}",
            revision=revision,
            retry_after=delay,
        )

    def _dependencies_ready(
        self, obj: Obj, spec: KustomizationSpec, revision: str
    ) -> Result | None:
        return self.dependencies.waiting(
            obj,
            spec.depends_on,
            revision=revision,
            also=lambda dep: _same_revision(obj, spec, dep, revision),
        )

    def _health_rules(self, spec: KustomizationSpec, revision: str) -> HealthRules:
        try:
            return HealthRules(spec.health_check_exprs or [])
        except SSAError as e:
            raise Stalled(e.reason, str(e), revision=revision) from e

    async def _client(self, obj: Obj, spec: KustomizationSpec) -> ApiClient:
        ns = obj["metadata"]["namespace"]
        if spec.kube_config is not None:
            return await self.clients.remote(
                ns, spec.kube_config.model_dump(by_alias=True, exclude_none=True)
            )
        sa = spec.service_account_name or self.settings.default_service_account
        if sa:
            return self.clients.impersonate(ns, sa)
        return self.api

    async def _variables(self, run: _Run) -> Mapping[str, str]:
        """The post-build variables (read once per run); Secret values go to the scrubber."""
        if run.values is None:
            assert run.spec.post_build is not None
            loader = cluster_variables(self.api, run.obj["metadata"]["namespace"])
            values = await loader(run.spec.post_build)
            if isinstance(values, Variables):
                run.scrub.add_secrets(values.sensitive)
            run.values = values
        return run.values

    def _fingerprint(self, run: _Run, inputs: str | None) -> str | None:
        if inputs is None or run.spec.decryption is not None:
            return None
        values = dict(run.values) if run.values is not None else None
        return fingerprint(
            inputs, run.obj.get("spec") or {}, values, self.settings.strict_substitution
        )

    async def _unchanged(
        self, run: _Run, root: Path, artifact: str, previous: Applied | None
    ) -> Applied | None:
        """``previous`` when this run may be skipped (see :mod:`weir.kustomize.unchanged`)."""
        if previous is None or not self.settings.skip_unchanged:
            return None
        if run.spec.decryption is not None:
            return None
        build_spec = BuildSpec.from_spec(run.spec)
        key = spec_key(build_spec)
        inputs = (await self._reads(run, root, artifact, build_spec, key)).digest
        if run.spec.post_build is not None:
            await self._variables(run)
        if self._fingerprint(run, inputs) != previous.fingerprint:
            return None
        if (run.obj.get("status") or {}).get("inventory") != previous.inventory:
            return None
        meta = run.obj["metadata"]
        if not await untouched(run.api, previous, meta["name"], meta["namespace"], self.lister):
            return None
        return previous

    async def _reads(
        self, run: _Run, root: Path, artifact: str, build_spec: BuildSpec, key: str
    ) -> Reads:
        """What the build of ``run`` reads in the artifact (one closure walk in a build worker
        per artifact and build settings); the inputs digest goes to the build cache too."""
        reads = self.touched.reads(artifact, key)
        if reads is None:
            reads = await self.pool.call(
                reads_job,
                str(root),
                build_spec,
                not self.settings.no_remote_bases,
                timeout=min(run.limit, self.limits.timeout),
            )
            self.touched.put_reads(artifact, key, reads)
            self.builds.put_inputs(artifact, key, reads.digest)
        run.reads = reads
        return reads

    async def _file_digests(self, root: Path, artifact: str) -> dict[str, bytes]:
        """What the extraction recorded, else a walk of the tree in a build worker."""
        files = self.artifacts.files(artifact)
        if files is not None:
            return files
        return await self.pool.call(file_digests_job, str(root), timeout=self.limits.timeout)

    @staticmethod
    def _source_key(obj: Obj, spec: KustomizationSpec) -> str:
        ref = spec.source_ref
        return source_key(ref.kind, ref.namespace or obj["metadata"]["namespace"], ref.name)

    async def _build(
        self, run: _Run, root: Path, artifact: str
    ) -> tuple[list[Obj], str, str | None]:
        """Build (or reuse a build of the same inputs) and substitute (variables read with the
        controller's own client); returns the objects, the digest recorded in the history, and
        the fingerprint of the inputs (None when they cannot be fingerprinted)."""
        build_spec = BuildSpec.from_spec(run.spec)
        key = spec_key(build_spec)
        known, inputs = self.builds.inputs(artifact, key)
        manifests: list[Manifest] | None = None
        built_digest: str | None = None
        if known and inputs is not None:
            cached = self.builds.get(inputs, key)
            if cached is not None:
                manifests, built_digest = cached
        if manifests is None:
            self.builds_by_key[run.key] += 1
            out = await build_output(
                root,
                build_spec,
                timeout=run.limit,
                allow_remote=not self.settings.no_remote_bases,
                limits=self.limits,
                pool=self.pool,
            )
            manifests, inputs, built_digest = out.manifests, out.inputs, out.digest
            self.builds.put_inputs(artifact, key, inputs)
            if inputs is not None:
                self.builds.put(inputs, key, manifests, built_digest)
            if out.reads is not None and run.reads is None:
                run.reads = out.reads  # the build's own closure walk: no second one
                self.touched.put_reads(artifact, key, out.reads)
        if run.reads is None:
            await self._reads(run, root, artifact, build_spec, key)

        async def variables(_: object) -> Mapping[str, str]:
            return await self._variables(run)

        rendered = await post_build(
            manifests,
            built_digest,
            run.spec,
            variables=variables,
            decrypt=cluster_decryptor(
                self.api,
                run.obj["metadata"]["namespace"],
                run.spec,
                fallback=self.settings.sops_age_secret,
            ),
            strict=self.settings.strict_substitution,
            timeout=run.limit,
            pool=self.pool,
        )
        return rendered.objects, rendered.digest, self._fingerprint(run, inputs)

    async def _apply(
        self, run: _Run, objects: list[Obj]
    ) -> tuple[set[inventory.ObjectRef], ChangeSet]:
        """Apply, prune and record the inventory; returns the objects skipped by ssa policies
        and the change set."""
        obj, spec, api = run.obj, run.spec, run.api
        meta = obj["metadata"]
        prepared = prepare_objects(objects, spec, name=meta["name"], namespace=meta["namespace"])
        changes = await apply_all(
            api, prepared, ApplyOptions(force=bool(spec.force), wait_timeout=run.limit)
        )
        new = changes.entries()
        status = obj["status"]
        if spec.prune:
            old = inventory.from_wire(status.get("inventory"))
            result = await prune(
                api, inventory.stale_entries(old, new), meta["name"], meta["namespace"]
            )
            new = inventory.merge_entries(new, list(result.failed))
            status["inventory"] = inventory.to_wire(new)
            result.raise_for_failures()
        else:
            status["inventory"] = inventory.to_wire(new)
        return {c.entry.ref for c in changes.changes if c.action == "skipped"}, changes

    async def _health(
        self,
        run: _Run,
        objects: list[Obj],
        skipped: set[inventory.ObjectRef],
        rules: HealthRules,
    ) -> float | None:
        """Run the health checks; returns their duration, or None when there were none."""
        obj, spec = run.obj, run.spec
        if spec.wait:
            targets = [o for o in objects if inventory.ObjectRef.of(o) not in skipped]
        elif spec.health_checks:
            ns = obj["metadata"]["namespace"]
            targets = [
                {
                    "apiVersion": hc.api_version or "apps/v1",
                    "kind": hc.kind,
                    "metadata": {"name": hc.name, "namespace": hc.namespace or ns},
                }
                for hc in spec.health_checks
            ]
        else:
            return None
        started = time.monotonic()
        try:
            await wait_for_health(run.api, targets, timeout=run.limit, rules=rules)
        except SSAError as e:
            conditions.mark_false(obj, HEALTHY, e.reason, str(e))
            raise
        return time.monotonic() - started

    def _failed(self, err: SSAError, run: _Run) -> Exception:
        if err.terminal:
            return Stalled(err.reason, str(err), revision=run.revision)
        return ReconcileError(err.reason, str(err), revision=run.revision, retry_after=run.retry)

    def queue_after_artifact(
        self, source: str, artifact: Mapping[str, Any], keys: list[str], add: Add
    ) -> None:
        """Queue the Kustomizations ``keys`` of ``source`` (``Kind/namespace/name``), which has
        a new ``artifact``: those it touches first. The artifact is extracted (as their runs
        would, once for all of them) and compared before any is queued, so that the first runs
        the workers take are the touched ones (:mod:`weir.kustomize.touched`). Without a
        running loop, or when the order cannot be told, they are queued at once, in order."""
        url, digest = artifact.get("url"), artifact.get("digest")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or not url or not digest:
            for key in keys:
                add(key)
            return
        task = loop.create_task(self._queue_touched_first(source, str(url), str(digest), keys, add))
        self._ordering.add(task)
        task.add_done_callback(self._ordering.discard)

    async def _queue_touched_first(
        self, source: str, url: str, digest: str, keys: list[str], add: Add
    ) -> None:
        touched: list[str] | None = None
        try:
            async with (
                asyncio.timeout(self.settings.build_timeout),
                self.artifacts.extracted(url, digest) as root,
            ):
                touched = await self.touched.touching(source, digest, root)
        except Exception as e:  # the runs will report it; only their order is at stake
            log.info("new artifact not extracted ahead of the runs", extra=kv(error=str(e)))
        finally:
            first = set(touched or ())
            for key in keys:
                if key in first:
                    add(key, priority=True)
            for key in keys:
                if key not in first:
                    add(key)
            self.touched.promoted += len(first)

    async def close(self) -> None:
        for task in list(self._ordering):
            task.cancel()
        await self.clients.close()
        await self.artifacts.close()
        self.pool.close()


def _parse(obj: Obj) -> KustomizationSpec:
    try:
        return KustomizationSpec.model_validate(obj.get("spec") or {})
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise Stalled("InvalidSpec", f"invalid Kustomization: {where}: {first['msg']}") from e


def _same_revision(obj: Obj, spec: KustomizationSpec, dep: Obj, revision: str) -> bool:
    """Kustomize's own dependsOn rule: a dependency using the same source must have applied
    the same revision (the rest of the rule is :mod:`weir.runtime.dependencies`)."""
    dep_ref = (dep.get("spec") or {}).get("sourceRef") or {}
    own_ns = obj["metadata"]["namespace"]
    same_source = (
        dep_ref.get("kind") == spec.source_ref.kind
        and dep_ref.get("name") == spec.source_ref.name
        and (dep_ref.get("namespace") or dep["metadata"]["namespace"])
        == (spec.source_ref.namespace or own_ns)
    )
    return not same_source or (dep.get("status") or {}).get("lastAppliedRevision") == revision


def _record_history(obj: Obj, digest: str, outcome: str, revision: str, duration: float) -> None:
    """Flux's history: newest first, at most 5, one entry per (digest, status)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    history: list[Obj] = list((obj["status"].get("history")) or [])
    for i, old in enumerate(history):
        if old.get("digest") == digest and old.get("lastReconciledStatus") == outcome:
            entry = {
                **old,
                "lastReconciled": now,
                "lastReconciledDuration": format_duration(duration),
                "totalReconciliations": int(old.get("totalReconciliations", 0)) + 1,
                "metadata": {**(old.get("metadata") or {}), "revision": revision},
            }
            del history[i]
            break
    else:
        entry = {
            "digest": digest,
            "firstReconciled": now,
            "lastReconciled": now,
            "lastReconciledDuration": format_duration(duration),
            "lastReconciledStatus": outcome,
            "totalReconciliations": 1,
            "metadata": {"revision": revision},
        }
    obj["status"]["history"] = [entry, *history][:HISTORY_LIMIT]
