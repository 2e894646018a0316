"""The one shape of a source reconciler, and its one failure path.

Every source kind (GitRepository, OCIRepository, HelmRepository; HelmChart with its three
origins) runs the same skeleton over its typed spec (the pydantic models of
:mod:`weir.api.source`)::

    parse the spec (InvalidSpec stalls) -> resolve what the remote has now (a revision)
    -> up to date? (same revision and inputs, artifact still on disk: stop, nothing fetched)
    -> ArtifactOutdated -> fetch and store the artifact -> record what it was made from
    -> garbage-collect older artifacts -> ArtifactInStorage, Ready

A kind implements :meth:`SourceReconciler.resolve`, :meth:`~SourceReconciler.up_to_date`,
:meth:`~SourceReconciler.store` and :meth:`~SourceReconciler.observe`. Whatever goes wrong
while talking to the outside is raised as an error of weir's tree, which carries the condition
``reason`` and whether retrying can help (``retryable``); :func:`fetch_failed` turns it into
``FetchFailed`` and the end of the run (transient, or Stalled when retrying cannot help), in
one place for every kind.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from kubernetes_asyncio.client import ApiClient
from pydantic import BaseModel, ValidationError

from weir.artifact.errors import ArtifactError
from weir.helmengine.errors import HelmError
from weir.kube import apply as kube
from weir.kube.errors import NotFoundError
from weir.kube.resources import SECRETS
from weir.log import kv
from weir.oci.errors import OCIError
from weir.runtime import conditions
from weir.runtime.durations import parse_duration
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import ReconcileError, Result, Stalled
from weir.source.errors import SourceError
from weir.source.gitauth import decode_secret_data
from weir.source.storage import Artifact, Storage, now_rfc3339
from weir.types import Obj

ARTIFACT_IN_STORAGE = "ArtifactInStorage"
FETCH_FAILED = "FetchFailed"
ARTIFACT_OUTDATED = "ArtifactOutdated"

FETCH_ERRORS = (SourceError, ArtifactError, OCIError, HelmError)
"""The error families of talking to the outside: each carries the condition ``reason`` and
``retryable``; they end a run through :func:`fetch_failed`."""
FetchError = SourceError | ArtifactError | OCIError | HelmError

SpecT = TypeVar("SpecT", bound=BaseModel)
FetchedT = TypeVar("FetchedT")

log = logging.getLogger("weir.source")


class SourceFailure(SourceError):
    """A failure a source reconciler names itself (``reason``, ``retryable``), e.g. a chart
    whose bytes do not match the index."""

    def __init__(self, reason: str, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.reason = reason
        self.retryable = retryable


def fetch_failed(obj: Obj, err: FetchError, message: str | None = None) -> Exception:
    """Set ``FetchFailed`` from ``err`` (its ``reason``) and return the exception ending the
    run: transient, or Stalled when ``err.retryable`` is False."""
    text = message or str(err)
    conditions.mark_true(obj, FETCH_FAILED, err.reason, text)
    if err.retryable:
        return ReconcileError(err.reason, text)
    return Stalled(err.reason, text)


def failed(obj: Obj, reason: str, message: str, *, retryable: bool = True) -> Exception:
    """:func:`fetch_failed` for a failure the reconciler names itself."""
    return fetch_failed(obj, SourceFailure(reason, message, retryable=retryable))


def mark_stored(obj: Obj, message: str) -> None:
    """``ArtifactInStorage=True`` and no failure conditions left."""
    conditions.delete(obj, FETCH_FAILED)
    conditions.delete(obj, ARTIFACT_OUTDATED)
    conditions.mark_true(obj, ARTIFACT_IN_STORAGE, "Succeeded", message)


def parse_spec(obj: Obj, model: type[SpecT], kind: str) -> SpecT:
    """The typed spec; an invalid one stalls with ``InvalidSpec`` (as Kustomizations do)."""
    try:
        return model.model_validate(obj.get("spec") or {})
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise Stalled("InvalidSpec", f"invalid {kind}: {where}: {first['msg']}") from e


@dataclass
class SourceRun(Generic[SpecT]):
    """One run's inputs."""

    obj: Obj
    spec: SpecT
    namespace: str
    name: str
    client: Any = None
    """A client held for the run (an OCI registry connection), set by ``session``."""

    @property
    def status(self) -> Obj:
        status: Obj = self.obj.setdefault("status", {})
        return status

    @property
    def raw_spec(self) -> Obj:
        """The spec as the API has it (what ``observed*`` status fields echo)."""
        raw: Obj = self.obj.get("spec") or {}
        return raw


class SourceReconciler(Reconciler, Generic[SpecT, FetchedT], abc.ABC):
    """The skeleton (see the module docstring)."""

    kind: ClassVar[str]
    storage_kind: ClassVar[str]
    spec_model: ClassVar[type[BaseModel]]

    def __init__(self, api: ApiClient, storage: Storage) -> None:
        self.api = api
        self.storage = storage

    async def finalize(self, obj: Obj) -> Result | None:
        meta = obj["metadata"]
        await self.storage.remove_all(self.storage_kind, meta["namespace"], meta["name"])
        return None

    async def reconcile(self, obj: Obj) -> Result:
        meta = obj["metadata"]
        self.precheck(obj.get("spec") or {})
        spec: Any = parse_spec(obj, self.spec_model, self.kind)
        run: SourceRun[SpecT] = SourceRun(obj, spec, meta["namespace"], meta["name"])
        early = await self.prepare(run)
        if early is not None:
            return early
        async with self.session(run):
            try:
                fetched = await self.resolve(run)
                revision = self.revision_of(fetched)
                current = run.status.get("artifact") or {}
                if (
                    current.get("revision") == revision
                    and self.storage.exists(current)
                    and self.up_to_date(run, fetched)
                ):
                    self.storage.set_artifact_url(current)  # follows --storage-adv-addr
                    return self.stored(run, revision)
                conditions.mark_true(
                    obj, ARTIFACT_OUTDATED, "NewRevision", self.outdated_message(revision)
                )
                artifact = await self.store(run, fetched)
            except FETCH_ERRORS as e:
                raise fetch_failed(obj, e, self.failure_message(e)) from e
        revision = str(artifact.get("revision") or revision)
        run.status["artifact"] = dict(artifact)
        self.observe(run, fetched)
        with contextlib.suppress(OSError):
            await self.storage.garbage_collect(self.storage_kind, run.namespace, run.name, artifact)
        log.info(
            "stored artifact",
            extra=kv(kind=self.kind, namespace=run.namespace, name=run.name, revision=revision),
        )
        return self.stored(run, revision)

    # -- what a kind implements ----------------------------------------------------------

    def precheck(self, spec: Obj) -> None:
        """Checks of the raw spec that have their own Flux reason (``URLInvalid``), before the
        typed parse."""

    async def prepare(self, run: SourceRun[SpecT]) -> Result | None:
        """Checks before anything is fetched; a result ends the run early."""
        return None

    @contextlib.asynccontextmanager
    async def session(self, run: SourceRun[SpecT]) -> Any:
        """Clients held for the run (an OCI registry connection)."""
        yield

    @abc.abstractmethod
    async def resolve(self, run: SourceRun[SpecT]) -> FetchedT:
        """What the remote has now, without downloading the content."""

    @abc.abstractmethod
    def revision_of(self, fetched: FetchedT) -> str:
        """The revision of what :meth:`resolve` found."""

    def up_to_date(self, run: SourceRun[SpecT], fetched: FetchedT) -> bool:
        """Whether the stored artifact of this revision was made from the same inputs."""
        return True

    @abc.abstractmethod
    async def store(self, run: SourceRun[SpecT], fetched: FetchedT) -> Artifact:
        """Fetch the content and store it as the artifact."""

    def observe(self, run: SourceRun[SpecT], fetched: FetchedT) -> None:
        """Record in the status what the new artifact was made from."""

    def outdated_message(self, revision: str) -> str:
        return f"new upstream revision '{revision}'"

    def failure_message(self, err: FetchError) -> str:
        return str(err)

    def stored(self, run: SourceRun[SpecT], revision: str) -> Result:
        """The end of a successful run (the message says what is stored)."""
        message = f"stored artifact for revision '{revision}'"
        mark_stored(run.obj, message)
        return Result.success(message, revision=revision)


# ------------------------------------------------------------------ shared by the kinds
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


def source_timeout(spec: Mapping[str, Any]) -> float:
    return parse_duration(str(spec.get("timeout") or "60s"))
