"""The HelmRepository reconciler: a chart repository's ``index.yaml`` becomes an artifact.

``type: default`` (the default), one run:

1. read the credentials (``spec.secretRef``: ``username``/``password``; ``spec.certSecretRef``:
   ``ca.crt``/``tls.crt``/``tls.key``) and fetch ``<url>/index.yaml``;
2. sort it (every chart's versions newest first) and take the ``sha256:`` of its canonical
   encoding as the revision;
3. if the artifact of that revision is stored, stop (the no-op check); otherwise store the
   sorted index as ``helmrepository/<ns>/<name>/index-<hex>.yaml``.

``type: oci`` is a static "data container", as in Flux: no artifact is produced (HelmCharts
pull charts from the registry themselves). The run only checks the URL: Ready is True for an
``oci://`` URL, Stalled ``URLInvalid`` otherwise; there is no periodic requeue.

Conditions and messages follow source-controller: ``ArtifactInStorage``, ``FetchFailed``,
``stored artifact: revision '<rev>'``.

The module also holds two helpers the Helm and OCI sources share: :func:`read_secret_data`
and :func:`store_file` (one file, e.g. an index or a chart archive, as an artifact).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Mapping
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.helmengine.errors import ChartRepositoryError, HelmError
from weir.kube import apply as kube
from weir.kube.errors import NotFoundError
from weir.kube.resources import SECRETS
from weir.log import kv
from weir.runtime import conditions
from weir.runtime.durations import parse_duration
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.source.chartrepo import (
    RepoAuth,
    encode_index,
    fetch_index,
    index_artifact_name,
    load_index,
    sort_index,
)
from weir.source.gitauth import decode_secret_data
from weir.source.storage import Artifact, Storage, now_rfc3339
from weir.types import Obj

log = logging.getLogger("weir.source.helmrepository")

KIND = "HelmRepository"
STORAGE_KIND = "helmrepository"
DEFAULT_TIMEOUT = 60.0

ARTIFACT_IN_STORAGE = "ArtifactInStorage"
FETCH_FAILED = "FetchFailed"
ARTIFACT_OUTDATED = "ArtifactOutdated"


# ---------------------------------------------------------------------------- helpers
async def read_secret_data(
    api: ApiClient, namespace: str, name: str, field: str = "spec.secretRef"
) -> dict[str, bytes]:
    """The decoded ``data`` of a Secret a source references; a missing Secret is a transient
    ``AuthenticationFailed`` (it may be created later)."""
    try:
        secret = await kube.get(api, SECRETS, namespace, name)
    except NotFoundError as e:
        raise ReconcileError(
            "AuthenticationFailed",
            f"failed to get secret '{namespace}/{name}': secret not found; create it or fix "
            f"{field}",
        ) from e
    return decode_secret_data(secret.get("data"))


async def store_file(
    storage: Storage,
    data: bytes,
    *,
    kind: str,
    namespace: str,
    name: str,
    filename: str,
    revision: str,
    metadata: Mapping[str, str] | None = None,
) -> Artifact:
    """Store ``data`` as the artifact file ``<kind>/<namespace>/<name>/<filename>`` (written to
    a temporary file and renamed, under the object's storage lock); returns ``status.artifact``.
    """
    path = storage.artifact_path(kind, namespace, name, filename)
    target = storage.local_path(path)

    def write() -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
            os.utime(target)  # a fresh mtime: garbage collection ages files by it
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    async with storage.lock(kind, namespace, name):
        await asyncio.to_thread(write)
    artifact: Artifact = {
        "path": path,
        "url": storage.url_for(path),
        "revision": revision,
        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
        "lastUpdateTime": now_rfc3339(),
        "size": len(data),
    }
    if metadata:
        artifact["metadata"] = dict(metadata)
    return artifact


def mark_fetch_failed(obj: Obj, reason: str, message: str, *, retryable: bool = True) -> Exception:
    """Set ``FetchFailed`` and return the exception ending the run (Stalled when retrying
    cannot help)."""
    conditions.mark_true(obj, FETCH_FAILED, reason, message)
    if retryable:
        return ReconcileError(reason, message)
    return Stalled(reason, message)


def mark_stored(obj: Obj, message: str) -> None:
    """``ArtifactInStorage=True`` and no failure conditions left."""
    conditions.delete(obj, FETCH_FAILED)
    conditions.delete(obj, ARTIFACT_OUTDATED)
    conditions.mark_true(obj, ARTIFACT_IN_STORAGE, "Succeeded", message)


def source_timeout(spec: Mapping[str, Any]) -> float:
    return parse_duration(str(spec.get("timeout") or "60s"))


# -------------------------------------------------------------------------- reconciler
class HelmRepositoryReconciler(Reconciler):
    """Reconciles ``source.toolkit.fluxcd.io/v1`` HelmRepositories (see the module docstring)."""

    default_interval = 60.0  # Flux documents 1m when spec.interval is empty

    def __init__(self, api: ApiClient, storage: Storage) -> None:
        self.api = api
        self.storage = storage

    def interval(self, obj: Obj) -> float | None:
        if (obj.get("spec") or {}).get("type") == "oci":
            return None  # a static object: nothing to poll
        return super().interval(obj)

    async def finalize(self, obj: Obj) -> Result | None:
        meta = obj["metadata"]
        await self.storage.remove_all(STORAGE_KIND, meta["namespace"], meta["name"])
        return None

    async def reconcile(self, obj: Obj) -> Result:
        spec = obj.get("spec") or {}
        url = str(spec.get("url") or "")
        if spec.get("type") == "oci":
            return await self._oci(obj, url)
        if not url.startswith(("http://", "https://")):
            raise Stalled(
                "URLInvalid",
                f"invalid URL {url!r}: use http:// or https://, or set spec.type: oci for oci://",
            )
        meta = obj["metadata"]
        ns, name = meta["namespace"], meta["name"]
        status = obj.setdefault("status", {})
        status["url"] = url
        auth = await self._auth(ns, spec)
        try:
            raw = await fetch_index(url, auth, timeout=source_timeout(spec))
            index = sort_index(load_index(raw))
        except HelmError as e:
            message = f"failed to fetch Helm repository index: {e}"
            raise mark_fetch_failed(obj, e.reason, message) from e
        data = encode_index(index)
        revision = "sha256:" + hashlib.sha256(data).hexdigest()
        current = status.get("artifact") or {}
        if current.get("revision") == revision and self.storage.exists(current):
            self.storage.set_artifact_url(current)
            return self._stored(obj, revision)
        conditions.mark_true(
            obj, ARTIFACT_OUTDATED, "NewRevision", f"new index revision '{revision}'"
        )
        artifact = await store_file(
            self.storage,
            data,
            kind=STORAGE_KIND,
            namespace=ns,
            name=name,
            filename=index_artifact_name(revision),
            revision=revision,
        )
        status["artifact"] = artifact
        with contextlib.suppress(OSError):
            await self.storage.garbage_collect(STORAGE_KIND, ns, name, artifact)
        log.info(
            "stored index",
            extra=kv(kind=KIND, namespace=ns, name=name, revision=revision),
        )
        return self._stored(obj, revision)

    async def _oci(self, obj: Obj, url: str) -> Result:
        if not url.startswith("oci://"):
            raise Stalled(
                "URLInvalid", f"invalid URL {url!r}: a type 'oci' repository needs oci://"
            )
        status = obj.setdefault("status", {})
        status.pop("artifact", None)
        status["url"] = url
        for type_ in (ARTIFACT_IN_STORAGE, FETCH_FAILED, ARTIFACT_OUTDATED):
            conditions.delete(obj, type_)
        return Result.success(
            "Helm repository is of type OCI: no artifact is produced; HelmCharts pull from "
            f"{url} directly",
        )

    async def _auth(self, namespace: str, spec: Obj) -> RepoAuth | None:
        secret_ref = (spec.get("secretRef") or {}).get("name")
        cert_ref = (spec.get("certSecretRef") or {}).get("name")
        if not secret_ref and not cert_ref:
            return None
        data = await read_secret_data(self.api, namespace, secret_ref) if secret_ref else None
        tls = (
            await read_secret_data(self.api, namespace, cert_ref, "spec.certSecretRef")
            if cert_ref
            else None
        )
        try:
            return RepoAuth.from_secret_data(data, tls)
        except ChartRepositoryError as e:  # the Secret may be fixed: retry
            raise ReconcileError(e.reason, f"invalid credentials: {e}") from e

    def _stored(self, obj: Obj, revision: str) -> Result:
        message = f"stored artifact: revision '{revision}'"
        mark_stored(obj, message)
        return Result.success(message, revision=revision)
