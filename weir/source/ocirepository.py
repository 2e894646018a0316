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
from pathlib import Path
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.helmengine.errors import ChartRepositoryError
from weir.log import kv
from weir.oci.artifact import LayerSelector, RefSpec, pull_artifact, resolve
from weir.oci.auth import Credentials, credentials_from_secret
from weir.oci.client import RegistryClient
from weir.oci.errors import OCIError
from weir.oci.reference import Reference, parse_url
from weir.runtime import conditions
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.source.chartrepo import RepoAuth
from weir.source.helmrepository import (
    ARTIFACT_OUTDATED,
    mark_fetch_failed,
    mark_stored,
    read_secret_data,
    source_timeout,
    store_file,
)
from weir.source.ignore import IgnoreRules, load_sourceignore, parse_patterns
from weir.source.storage import Storage
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


class OCIRepositoryReconciler(Reconciler):
    """Reconciles ``source.toolkit.fluxcd.io/v1`` OCIRepositories (see the module docstring)."""

    def __init__(self, api: ApiClient, storage: Storage) -> None:
        self.api = api
        self.storage = storage

    async def finalize(self, obj: Obj) -> Result | None:
        meta = obj["metadata"]
        await self.storage.remove_all(STORAGE_KIND, meta["namespace"], meta["name"])
        return None

    async def reconcile(self, obj: Obj) -> Result:
        spec = obj.get("spec") or {}
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        status = obj.setdefault("status", {})
        url = str(spec.get("url") or "")
        base = parse_repository_url(url)
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
        status["url"] = url
        ref_spec = spec.get("ref") or {}
        ref = RefSpec(
            tag=ref_spec.get("tag"),
            semver=ref_spec.get("semver"),
            semver_filter=ref_spec.get("semverFilter"),
            digest=ref_spec.get("digest"),
        )
        layer = spec.get("layerSelector")
        selector = LayerSelector(
            (layer or {}).get("mediaType"), (layer or {}).get("operation") or "extract"
        )
        ignore = spec.get("ignore")
        client = await registry_client(self.api, ns, spec, base.registry)
        async with client:
            try:
                resolved = await resolve(client, base, ref)
            except OCIError as e:
                raise self._failed(obj, e, "failed to determine artifact digest") from e
            revision = resolved.revision
            current = status.get("artifact") or {}
            if (
                current.get("revision") == revision
                and status.get("observedLayerSelector") == layer
                and status.get("observedIgnore") == ignore
                and self.storage.exists(current)
            ):
                self.storage.set_artifact_url(current)
                return self._stored(obj, revision)
            conditions.mark_true(
                obj, ARTIFACT_OUTDATED, "NewRevision", f"new revision '{revision}'"
            )
            work = Path(tempfile.mkdtemp(prefix="weir-oci-"))
            try:
                target = work / ("layer.tgz" if selector.operation == "copy" else "content")
                try:
                    pulled = await pull_artifact(client, resolved, target, selector)
                except OCIError as e:
                    raise self._failed(obj, e, f"failed to pull artifact {url}") from e
                filename = f"{resolved.digest.split(':', 1)[-1]}.tar.gz"
                if selector.operation == "copy":
                    artifact = await store_file(
                        self.storage,
                        target.read_bytes(),
                        kind=STORAGE_KIND,
                        namespace=ns,
                        name=name,
                        filename=filename,
                        revision=revision,
                        metadata=pulled.metadata,
                    )
                else:
                    patterns = load_sourceignore(target)
                    if ignore is not None:
                        patterns += parse_patterns(ignore)
                    artifact = await self.storage.archive(
                        target,
                        kind=STORAGE_KIND,
                        namespace=ns,
                        name=name,
                        revision=revision,
                        ignore=IgnoreRules(patterns),
                        filename=filename,
                        metadata=pulled.metadata,
                    )
            finally:
                shutil.rmtree(work, ignore_errors=True)
        status["artifact"] = dict(artifact)
        for key, value in (("observedIgnore", ignore), ("observedLayerSelector", layer)):
            if value is None:
                status.pop(key, None)
            else:
                status[key] = value
        with contextlib.suppress(OSError):
            await self.storage.garbage_collect(STORAGE_KIND, ns, name, artifact)
        log.info(
            "stored artifact",
            extra=kv(kind=KIND, namespace=ns, name=name, revision=revision),
        )
        return self._stored(obj, revision)

    def _failed(self, obj: Obj, err: OCIError, what: str) -> Exception:
        return mark_fetch_failed(obj, err.reason, f"{what}: {err}", retryable=err.retryable)

    def _stored(self, obj: Obj, revision: str) -> Result:
        message = f"stored artifact for digest '{revision}'"
        mark_stored(obj, message)
        return Result.success(message, revision=revision)
