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

The run is the source skeleton (:mod:`weir.source.skeleton`) over the typed spec.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from weir.api.source import HelmRepositorySpec
from weir.helmengine.errors import ChartRepositoryError
from weir.runtime import conditions
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.source.chartrepo import (
    RepoAuth,
    encode_index,
    fetch_index,
    index_artifact_name,
    load_index,
    sort_index,
)
from weir.source.skeleton import (
    ARTIFACT_IN_STORAGE,
    ARTIFACT_OUTDATED,
    FETCH_FAILED,
    FetchError,
    SourceReconciler,
    SourceRun,
    mark_stored,
    read_secret_data,
    source_timeout,
    store_file,
)
from weir.source.storage import Artifact
from weir.types import Obj

log = logging.getLogger("weir.source.helmrepository")

KIND = "HelmRepository"
STORAGE_KIND = "helmrepository"
DEFAULT_TIMEOUT = 60.0


# -------------------------------------------------------------------------- reconciler
@dataclass
class _Index:
    data: bytes
    revision: str


class HelmRepositoryReconciler(SourceReconciler[HelmRepositorySpec, _Index]):
    """Reconciles ``source.toolkit.fluxcd.io/v1`` HelmRepositories (see the module docstring)."""

    kind = KIND
    storage_kind = STORAGE_KIND
    spec_model = HelmRepositorySpec
    default_interval = 60.0  # Flux documents 1m when spec.interval is empty

    def interval(self, obj: Obj) -> float | None:
        if (obj.get("spec") or {}).get("type") == "oci":
            return None  # a static object: nothing to poll
        return super().interval(obj)

    def precheck(self, spec: Obj) -> None:
        url = str(spec.get("url") or "")
        if spec.get("type") == "oci":
            if not url.startswith("oci://"):
                raise Stalled(
                    "URLInvalid", f"invalid URL {url!r}: a type 'oci' repository needs oci://"
                )
        elif not url.startswith(("http://", "https://")):
            raise Stalled(
                "URLInvalid",
                f"invalid URL {url!r}: use http:// or https://, or set spec.type: oci for oci://",
            )

    async def prepare(self, run: SourceRun[HelmRepositorySpec]) -> Result | None:
        run.status["url"] = run.spec.url
        if run.spec.type == "oci":
            return self._oci(run)
        return None

    async def resolve(self, run: SourceRun[HelmRepositorySpec]) -> _Index:
        auth = await self._auth(run.namespace, run.spec)
        raw = await fetch_index(run.spec.url, auth, timeout=source_timeout(run.raw_spec))
        data = encode_index(sort_index(load_index(raw)))
        return _Index(data, "sha256:" + hashlib.sha256(data).hexdigest())

    def revision_of(self, fetched: _Index) -> str:
        return fetched.revision

    def outdated_message(self, revision: str) -> str:
        return f"new index revision '{revision}'"

    def failure_message(self, err: FetchError) -> str:
        return f"failed to fetch Helm repository index: {err}"

    async def store(self, run: SourceRun[HelmRepositorySpec], fetched: _Index) -> Artifact:
        return await store_file(
            self.storage,
            fetched.data,
            kind=STORAGE_KIND,
            namespace=run.namespace,
            name=run.name,
            filename=index_artifact_name(fetched.revision),
            revision=fetched.revision,
        )

    def stored(self, run: SourceRun[HelmRepositorySpec], revision: str) -> Result:
        message = f"stored artifact: revision '{revision}'"
        mark_stored(run.obj, message)
        return Result.success(message, revision=revision)

    def _oci(self, run: SourceRun[HelmRepositorySpec]) -> Result:
        run.status.pop("artifact", None)
        for type_ in (ARTIFACT_IN_STORAGE, FETCH_FAILED, ARTIFACT_OUTDATED):
            conditions.delete(run.obj, type_)
        return Result.success(
            "Helm repository is of type OCI: no artifact is produced; HelmCharts pull from "
            f"{run.spec.url} directly",
        )

    async def _auth(self, namespace: str, spec: HelmRepositorySpec) -> RepoAuth | None:
        secret_ref = spec.secret_ref.name if spec.secret_ref else None
        cert_ref = spec.cert_secret_ref.name if spec.cert_secret_ref else None
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
