"""The OCIRepository reconciler: an OCI artifact (``oci://`` URL + ``spec.ref``) becomes an
artifact in the storage, like a Git commit does.

One run:

1. read the credentials (``spec.secretRef``: a ``kubernetes.io/dockerconfigjson`` Secret, or
   ``username``/``password``) and TLS settings (``spec.certSecretRef``: ``ca.crt``,
   ``tls.crt``/``tls.key``); ``spec.insecure`` speaks plain HTTP (loopback registries);
2. resolve ``spec.ref`` (digest > semver (+ ``semverFilter``) > tag, default ``latest``) to a
   manifest digest: the revision is ``<tag>@sha256:<hex>`` (``sha256:<hex>`` for a digest ref);
3. if that revision is stored with the same ``layerSelector`` and ``ignore``, stop (the no-op
   check); otherwise pull the layer ``spec.layerSelector`` picks (the first one by default) and
   either **extract** it and archive the tree (minus ``.sourceignore``/``spec.ignore``
   patterns) or **copy** it as it is. The manifest's annotations become
   ``status.artifact.metadata`` (``org.opencontainers.image.revision`` is what consumers
   report as ``lastAppliedOriginRevision``).

Conditions and messages follow source-controller: ``ArtifactInStorage``, ``FetchFailed``,
``stored artifact for digest '<revision>'``.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.api.source import OCIRepositorySpec
from weir.helmengine.errors import ChartRepositoryError
from weir.oci.artifact import LayerSelector, RefSpec, Resolved, pull_artifact, resolve
from weir.oci.auth import Credentials, credentials_from_secret
from weir.oci.client import RegistryClient
from weir.oci.errors import OCIError
from weir.oci.reference import Reference, parse_url
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.source.chartrepo import RepoAuth
from weir.source.ignore import IgnoreRules, load_sourceignore, parse_patterns
from weir.source.skeleton import (
    SourceFailure,
    SourceReconciler,
    SourceRun,
    mark_stored,
    read_secret_data,
    source_timeout,
    store_file,
)
from weir.source.storage import Artifact
from weir.types import Obj

log = logging.getLogger("weir.source.ocirepository")

KIND = "OCIRepository"
STORAGE_KIND = "ocirepository"


async def registry_client(
    api: ApiClient,
    namespace: str,
    spec: Obj,
    registry: str,
) -> RegistryClient:
    """A :class:`RegistryClient` with the credentials, TLS settings and ``insecure`` flag of an
    OCIRepository (or ``type: oci`` HelmRepository) spec."""
    credentials: Credentials | None = None
    secret_ref = (spec.get("secretRef") or {}).get("name")
    if secret_ref:
        data = await read_secret_data(api, namespace, secret_ref)
        try:
            credentials = credentials_from_secret(data, registry)
        except OCIError as e:
            raise ReconcileError(e.reason, f"invalid registry credentials: {e}") from e
    verify: Any = True
    cert_ref = (spec.get("certSecretRef") or {}).get("name")
    if cert_ref:
        tls = await read_secret_data(api, namespace, cert_ref, "spec.certSecretRef")
        try:
            verify = RepoAuth.from_secret_data(None, tls).ssl_context()
        except ChartRepositoryError as e:
            raise ReconcileError("AuthenticationFailed", f"invalid TLS Secret: {e}") from e
    return RegistryClient(
        credentials=credentials,
        insecure=bool(spec.get("insecure")),
        verify=verify,
        timeout=source_timeout(spec),
    )


def parse_repository_url(url: str) -> Reference:
    try:
        return parse_url(url)
    except OCIError as e:
        raise Stalled("URLInvalid", str(e)) from e


@dataclass
class _Pull:
    """What :meth:`OCIRepositoryReconciler.resolve` found."""

    base: Reference
    resolved: Resolved
    selector: LayerSelector


class OCIRepositoryReconciler(SourceReconciler[OCIRepositorySpec, _Pull]):
    """Reconciles ``source.toolkit.fluxcd.io/v1`` OCIRepositories (see the module docstring)."""

    kind = KIND
    storage_kind = STORAGE_KIND
    spec_model = OCIRepositorySpec

    def precheck(self, spec: Obj) -> None:
        parse_repository_url(str(spec.get("url") or ""))
        if spec.get("verify"):
            raise Stalled(
                "VerificationError",
                "spec.verify is set but weir cannot verify OCI signatures yet; remove "
                "spec.verify to pull unverified artifacts",
            )
        provider = spec.get("provider") or "generic"
        if provider != "generic":
            raise Stalled(
                "AuthenticationFailed",
                f"provider {provider!r} is not supported by weir yet: use provider 'generic' "
                "with a spec.secretRef",
            )

    async def prepare(self, run: SourceRun[OCIRepositorySpec]) -> Result | None:
        run.status["url"] = run.spec.url
        return None

    @contextlib.asynccontextmanager
    async def session(self, run: SourceRun[OCIRepositorySpec]) -> AsyncIterator[None]:
        base = parse_repository_url(run.spec.url)
        client = await registry_client(self.api, run.namespace, run.raw_spec, base.registry)
        async with client:
            run.client = client
            yield

    async def resolve(self, run: SourceRun[OCIRepositorySpec]) -> _Pull:
        base = parse_repository_url(run.spec.url)
        ref_spec = run.raw_spec.get("ref") or {}
        ref = RefSpec(
            tag=ref_spec.get("tag"),
            semver=ref_spec.get("semver"),
            semver_filter=ref_spec.get("semverFilter"),
            digest=ref_spec.get("digest"),
        )
        layer = run.raw_spec.get("layerSelector") or {}
        selector = LayerSelector(layer.get("mediaType"), layer.get("operation") or "extract")
        try:
            resolved = await resolve(run.client, base, ref)
        except OCIError as e:
            raise _named(e, "failed to determine artifact digest") from e
        return _Pull(base, resolved, selector)

    def revision_of(self, fetched: _Pull) -> str:
        return fetched.resolved.revision

    def up_to_date(self, run: SourceRun[OCIRepositorySpec], fetched: _Pull) -> bool:
        return run.status.get("observedLayerSelector") == run.raw_spec.get(
            "layerSelector"
        ) and run.status.get("observedIgnore") == run.raw_spec.get("ignore")

    def outdated_message(self, revision: str) -> str:
        return f"new revision '{revision}'"

    async def store(self, run: SourceRun[OCIRepositorySpec], fetched: _Pull) -> Artifact:
        resolved, selector = fetched.resolved, fetched.selector
        work = Path(tempfile.mkdtemp(prefix="weir-oci-"))
        try:
            target = work / ("layer.tgz" if selector.operation == "copy" else "content")
            try:
                pulled = await pull_artifact(run.client, resolved, target, selector)
            except OCIError as e:
                raise _named(e, f"failed to pull artifact {run.spec.url}") from e
            filename = f"{resolved.digest.split(':', 1)[-1]}.tar.gz"
            if selector.operation == "copy":
                return await store_file(
                    self.storage,
                    target.read_bytes(),
                    kind=STORAGE_KIND,
                    namespace=run.namespace,
                    name=run.name,
                    filename=filename,
                    revision=resolved.revision,
                    metadata=pulled.metadata,
                )
            patterns = load_sourceignore(target)
            if run.spec.ignore is not None:
                patterns += parse_patterns(run.spec.ignore)
            return await self.storage.archive(
                target,
                kind=STORAGE_KIND,
                namespace=run.namespace,
                name=run.name,
                revision=resolved.revision,
                ignore=IgnoreRules(patterns),
                filename=filename,
                metadata=pulled.metadata,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def observe(self, run: SourceRun[OCIRepositorySpec], fetched: _Pull) -> None:
        observed = (("observedIgnore", "ignore"), ("observedLayerSelector", "layerSelector"))
        for key, field in observed:
            value = run.raw_spec.get(field)
            if value is None:
                run.status.pop(key, None)
            else:
                run.status[key] = value

    def stored(self, run: SourceRun[OCIRepositorySpec], revision: str) -> Result:
        message = f"stored artifact for digest '{revision}'"
        mark_stored(run.obj, message)
        return Result.success(message, revision=revision)


def _named(err: OCIError, what: str) -> SourceFailure:
    return SourceFailure(err.reason, f"{what}: {err}", retryable=err.retryable)
