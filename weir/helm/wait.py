"""The wait of an install or upgrade done by weir: poll each object of the release (ADR 0017).

Helm 4's kstatus wait (``watcher``) opens a watch per kind over the *whole namespace* for every
install and upgrade and receives every object of that kind, so with hundreds of releases in
one namespace its cost grows with the square of the fleet. Flux's poller reads each object of
the release instead. When it is safe, weir calls Helm with the wait ``hookOnly`` (Helm still
waits for its hooks) and then waits here:

- **When** (:func:`applies`): the action waits (not ``disableWait``) with the default
  ``poller`` strategy, and runs no ``post-install`` / ``post-upgrade`` / ``post-rollback``
  hook, which must run *after* the wait: the hooks are disabled, or neither the chart
  archive (subcharts included), the values nor the post-renderers contain a
  ``helm.sh/hook`` annotation that may name one (:func:`may_run_post_hooks`, conservative:
  anything it cannot read counts as a post hook). An upgrade with ``cleanupOnFail`` keeps
  Helm's wait (only Helm knows which objects it created). Rollbacks keep Helm's wait.
- **What** (:func:`targets`): the objects of the manifest Helm returns, paused Deployments
  left out, as Helm's watcher does; the objects still not Current are read again every poll
  (0.25 s, doubling up to :data:`MAX_INTERVAL`) by :func:`weir.ssa.wait.until_current`,
  the loop a Kustomization's health checks use too.
- **Readiness** (:class:`ReleaseHealth`): kstatus; Jobs as Helm's watcher: with
  ``waitForJobs`` Current only once Complete (Helm's own Job reader), without it Current once
  started (kstatus). A Failed object ends the wait at once (Flux's poller fails fast; Helm's
  watcher waits for the others first, then fails the same way).
- **Failure** (:func:`wait_for_release`): the release ends as Helm's own wait would leave it.
  The revision's storage record (``sh.helm.release.v1.<name>.v<N>``: its body and its
  ``status`` label) is marked ``failed`` with Helm's description (``Release "<name>" failed:
  ...`` for an install, ``Upgrade "<name>" failed: ...`` for an upgrade), and the revision
  an upgrade superseded gets back the status it had (Helm supersedes it only after a
  successful wait). The error is the one Helm's wait raises through the engine: a
  :class:`~weir.helmengine.errors.ReleaseTimeoutError` at the timeout, a
  :class:`~weir.helmengine.errors.ReleaseError` for a Failed object; both carry Helm's
  ``resource <Kind>/<ns>/<name> not ready. status: ..., message: ...`` lines.
  Cancelled mid-wait (HelmRelease deleted or suspended), the revision is marked failed with
  ``context canceled``, as Helm does when its context is cancelled.
- **During the wait** (:func:`mark_pending`, :func:`mark_deployed`): the records are as
  during Helm's own wait, the revision ``pending-install``/``pending-upgrade`` and the
  revision an upgrade replaces not yet superseded; they become ``deployed``/``superseded``
  when the objects are Current. A process that stops mid-wait leaves a pending release,
  which the next run unlocks and remediates (:mod:`weir.helm.unlock`), as after a stop
  during Helm's wait. This costs two reads and two writes per action (an upgrade: two more).

Everything runs in the release namespace, inside the storage-namespace staging of the action
(:meth:`weir.helm.releaseops.Run.staged`), as the release's identity.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import re
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from kubernetes_asyncio.client import ApiClient

from weir.helm.drift import parse_manifest
from weir.helm.storage import SecretsStorage
from weir.helm.unlock import read_record, storage_secret_name, write_status
from weir.helmengine.engine import InstallOptions, Release, UpgradeOptions
from weir.helmengine.errors import DriftError, ReleaseError, ReleaseTimeoutError
from weir.helmengine.postrender import PostRenderSpec
from weir.kube import kstatus
from weir.kube.errors import ApiError, UnknownKindError
from weir.kube.kstatus import Result
from weir.kube.resources import mapper_for
from weir.log import kv
from weir.ssa.celhealth import HealthRules
from weir.ssa.wait import NotCurrent, ObjectStatus, until_current

log = logging.getLogger("weir.helm.wait")

Action = Literal["install", "upgrade"]
MAX_INTERVAL = 2.0
"""The longest pause between two polls of the objects still not Current (seconds)."""
HOOK_KEY = b"helm.sh/hook"
POST_HOOKS = ("post-install", "post-upgrade", "post-rollback")
OTHER_HOOKS = frozenset(
    {"pre-install", "pre-upgrade", "pre-rollback", "pre-delete", "post-delete", "test",
     "test-success", "test-failure", "crd-install"}
)  # fmt: skip
_HOOK_VALUE = re.compile(rb"""helm\.sh/hook(?![\w-])["']?[ \t]*:[ \t]*([^\n]*)""")
_CACHE: dict[str, bool] = {}
_CACHE_ENTRIES = 256
_MAX_NESTING = 4


# ---------------------------------------------------------------------------- the decision


def _hook_events_may_be_post(text: bytes) -> bool:
    """Whether any ``helm.sh/hook`` annotation in ``text`` may name a post-* event."""
    plain = text.count(HOOK_KEY) - sum(
        text.count(HOOK_KEY + suffix)
        for suffix in (b"-weight", b"-delete-policy", b"-output-log-policy")
    )
    values = _HOOK_VALUE.findall(text)
    if len(values) != plain:  # a mention that is not a plain `key: value` annotation
        return True
    for raw in values:
        value = raw.decode(errors="replace").split("#", 1)[0].strip().strip("\"',{}").strip()
        events = [e.strip().strip("\"'") for e in value.split(",")]
        if not value or not all(e in OTHER_HOOKS for e in events):
            return True  # templated, empty, a post-* event, or something unknown
    return False


def _archive_may_run_post_hooks(data: bytes, depth: int = 0) -> bool:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                handle = tar.extractfile(member)
                if handle is None:
                    return True
                content = handle.read()
                if member.name.endswith((".tgz", ".tar.gz")):  # a subchart
                    if depth >= _MAX_NESTING or _archive_may_run_post_hooks(content, depth + 1):
                        return True
                elif HOOK_KEY in content and _hook_events_may_be_post(content):
                    return True
    except (tarfile.TarError, OSError, EOFError):
        return True  # cannot tell: keep Helm's wait
    return False


def chart_may_run_post_hooks(data: bytes) -> bool:
    """Whether the chart archive (its subcharts included) may declare a post-install,
    post-upgrade or post-rollback hook (True when the archive cannot be read)."""
    key = hashlib.sha256(data).hexdigest()
    found = _CACHE.get(key)
    if found is None:
        found = _archive_may_run_post_hooks(data)
        if len(_CACHE) >= _CACHE_ENTRIES:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = found
    return found


def may_run_post_hooks(
    chart: bytes | object, values: Mapping[str, Any] | None, post_render: PostRenderSpec | None
) -> bool:
    """Whether the action may run a post-* hook: the chart (a path counts as yes), the
    values or the post-renderers mention ``helm.sh/hook``."""
    if not isinstance(chart, bytes) or chart_may_run_post_hooks(chart):
        return True
    if values and HOOK_KEY.decode() in json.dumps(values, default=str):
        return True
    return post_render is not None and HOOK_KEY.decode() in post_render.to_json()


def applies(
    options: InstallOptions,
    chart: bytes | object,
    values: Mapping[str, Any] | None,
) -> bool:
    """Whether weir waits for this install or upgrade instead of Helm (module docstring)."""
    if not options.wait or options.wait_strategy != "watcher":
        return False
    if isinstance(options, UpgradeOptions) and options.cleanup_on_fail:
        return False
    return options.disable_hooks or not may_run_post_hooks(chart, values, options.post_render)


# ---------------------------------------------------------------------------- readiness


def _job(obj: Mapping[str, Any], *, wait_for_jobs: bool) -> Result:
    conds = kstatus.conditions(obj)
    status = obj.get("status") or {}
    spec = obj.get("spec") or {}
    parallelism = spec.get("parallelism", 1)
    completions = spec.get("completions", parallelism)
    if conds.get("Complete", {}).get("status") == "True":
        return kstatus.current(
            f"Job Completed. succeeded: {status.get('succeeded', 0)}/{completions}"
        )
    if conds.get("Failed", {}).get("status") == "True":
        return kstatus.failed(f"Job Failed. failed: {status.get('failed', 0)}/{completions}")
    if wait_for_jobs:
        return kstatus.in_progress("Job in progress")
    if not status.get("startTime"):
        return kstatus.in_progress("Job not started")
    return kstatus.current(
        f"Job in progress. success:{status.get('succeeded', 0)}, "
        f"active: {status.get('active', 0)}, failed: {status.get('failed', 0)}"
    )


class ReleaseHealth(HealthRules):
    """kstatus, with Helm's rule for Jobs (see the module docstring)."""

    def __init__(self, *, wait_for_jobs: bool) -> None:
        super().__init__()
        self.wait_for_jobs = wait_for_jobs

    def status(self, obj: Mapping[str, Any], *, now: datetime | None = None) -> Result:
        is_job = obj.get("kind") == "Job" and str(obj.get("apiVersion", "")).startswith("batch/")
        if not is_job:
            return kstatus.compute(obj, now=now)
        if self.wait_for_jobs:  # Helm's own Job reader: no generic rules
            return _job(obj, wait_for_jobs=True)
        return kstatus.generic(obj) or _job(obj, wait_for_jobs=False)


async def targets(api: ApiClient, manifest: str, namespace: str) -> list[dict[str, Any]]:
    """The objects of a release manifest to wait for: namespaced ones without a namespace
    get the release's; paused Deployments are left out (as Helm does)."""
    found: list[dict[str, Any]] = []
    mapper = mapper_for(api)
    for doc in parse_manifest(manifest):
        if doc.get("kind") == "Deployment" and (doc.get("spec") or {}).get("paused"):
            continue
        meta = doc.setdefault("metadata", {})
        if not meta.get("namespace"):
            try:
                namespaced = (await mapper.for_object(doc)).namespaced
            except UnknownKindError:
                namespaced = True  # read_status reports it NotFound, as Helm would
            if namespaced:
                meta["namespace"] = namespace
        found.append(doc)
    return found


def _not_ready(statuses: Sequence[ObjectStatus]) -> list[str]:
    """Helm's lines for the objects that are not Current."""
    return [
        f"resource {s.ref.kind}/{s.ref.namespace}/{s.ref.name} not ready. "
        f"status: {s.result.status}, message: {s.result.message}"
        for s in sorted(statuses, key=lambda s: (s.ref.kind, s.ref.namespace, s.ref.name))
    ]


def _helm_error_text(e: NotCurrent) -> str:
    """What Helm's wait says: the objects not ready, then the context's error."""
    if e.read_error is not None:
        return f"{e.read_error}\ncontext deadline exceeded"
    if e.failed:
        return "\n".join(_not_ready(e.failed))
    return "\n".join([*_not_ready(e.pending), "context deadline exceeded"])


# ---------------------------------------------------------------------------- the records


@dataclass(frozen=True)
class RecordStatuses:
    """The ``status`` label of each storage record of a release before an upgrade."""

    by_secret: Mapping[str, str]


async def record_statuses(api: ApiClient, name: str, namespace: str) -> RecordStatuses | None:
    """Read before an upgrade weir waits for, to undo Helm's superseding if the wait fails;
    None when the records cannot be listed (the caller then leaves the wait to Helm)."""
    try:
        items = await SecretsStorage().records(api, name, namespace)
    except ApiError as e:
        log.warning(
            "cannot list the release's records; Helm waits for this upgrade",
            extra=kv(release=name, namespace=namespace, error=str(e)),
        )
        return None
    return RecordStatuses(
        {
            str(s["metadata"]["name"]): str((s["metadata"].get("labels") or {}).get("status"))
            for s in items
        }
    )


async def _set_status(
    api: ApiClient, namespace: str, secret_name: str, status: str, description: str | None
) -> None:
    secret, release = await read_record(api, namespace, secret_name)
    await write_status(api, secret, release, status, description, modified_at=True)


async def _restore_superseded(
    api: ApiClient, release: Release, before: RecordStatuses
) -> list[str]:
    """Give the revisions the upgrade superseded back the status they had before it; the
    names of the records changed."""
    now = await record_statuses(api, release.name, release.namespace)
    if now is None:
        raise ValueError("the records cannot be listed to restore the superseded revision")
    own = storage_secret_name(release.name, release.revision)
    restored = []
    for secret_name, status in now.by_secret.items():
        previous = before.by_secret.get(secret_name)
        if secret_name != own and status == "superseded" and previous not in (None, status):
            await _set_status(api, release.namespace, secret_name, str(previous), None)
            restored.append(secret_name)
    return restored


async def mark_pending(
    api: ApiClient, release: Release, action: Action, before: RecordStatuses | None
) -> list[str]:
    """Leave the records as Helm leaves them *during* its wait: the revision
    ``pending-install``/``pending-upgrade``, the revision an upgrade supersedes not yet
    superseded. A process that stops mid-wait thus leaves a pending release, which the next
    run unlocks (marks failed, :mod:`weir.helm.unlock`) and remediates, as after a stop
    during Helm's own wait; without this the release would stay ``deployed`` unwaited for.
    Returns the records :func:`mark_deployed` supersedes again."""
    own = storage_secret_name(release.name, release.revision)
    try:
        await _set_status(api, release.namespace, own, f"pending-{action}", None)
        return await _restore_superseded(api, release, before) if before is not None else []
    except (ApiError, ValueError, TypeError) as e:
        raise ReleaseError(
            f"{action}: cannot mark {release.namespace}/{own} pending while its resources are "
            f"waited for: {e}; the next reconciliation retries",
            action=action,
        ) from e


async def mark_deployed(
    api: ApiClient, release: Release, action: Action, superseded: Sequence[str]
) -> None:
    """The records as Helm leaves them after a successful wait (undoes :func:`mark_pending`)."""
    own = storage_secret_name(release.name, release.revision)
    try:
        await _set_status(api, release.namespace, own, "deployed", None)
        for secret_name in superseded:
            await _set_status(api, release.namespace, secret_name, "superseded", None)
    except (ApiError, ValueError, TypeError) as e:
        raise ReleaseError(
            f"the release's resources are ready but marking {release.namespace}/{own} "
            f"deployed failed: {e}; the next reconciliation retries",
            action=action,
        ) from e


async def mark_failed(
    api: ApiClient,
    release: Release,
    action: Action,
    error: str,
    before: RecordStatuses | None = None,
) -> None:
    """Leave the records as Helm leaves them when its wait fails (module docstring)."""
    verb = "Release" if action == "install" else "Upgrade"
    description = f'{verb} "{release.name}" failed: {error}'
    own = storage_secret_name(release.name, release.revision)
    try:
        await _set_status(api, release.namespace, own, "failed", description)
        if before is not None:
            await _restore_superseded(api, release, before)
    except (ApiError, ValueError, TypeError) as e:
        raise ReleaseError(
            f"{action}: the release's resources did not become ready ({error}) and marking "
            f"{release.namespace}/{own} failed failed too: {e}; the next reconciliation "
            "retries",
            action=action,
        ) from e


# ---------------------------------------------------------------------------- the wait


async def wait_for_release(
    api: ApiClient,
    release: Release,
    *,
    action: Action,
    timeout: float,  # noqa: ASYNC109 - the action's remaining time, as Helm's
    wait_for_jobs: bool,
    before: RecordStatuses | None = None,
) -> None:
    """Wait until every object of ``release`` is Current; on failure, timeout or
    cancellation mark the revision failed as Helm would and raise as Helm's wait does."""
    superseded = await mark_pending(api, release, action, before)
    try:
        objects = await targets(api, release.manifest, release.namespace)
        await until_current(
            api,
            objects,
            timeout=timeout,
            interval=MAX_INTERVAL,
            rules=ReleaseHealth(wait_for_jobs=wait_for_jobs),
            read_current_again=False,  # Helm's watcher: an object once Current is done
            retry_failed_reads=True,  # as the watcher reconnects
        )
    except asyncio.CancelledError:
        try:
            await asyncio.shield(mark_failed(api, release, action, "context canceled", before))
        except ReleaseError as e:  # the cancellation goes on; the next run sees the record
            log.warning(
                "cannot mark the cancelled release failed",
                extra=kv(release=release.name, namespace=release.namespace, error=str(e)),
            )
        raise
    except NotCurrent as e:
        text = _helm_error_text(e)
        await mark_failed(api, release, action, text, before)
        log.debug(
            "the release's resources did not become ready",
            extra=kv(release=release.name, namespace=release.namespace, error=text),
        )
        if e.timed_out:
            raise ReleaseTimeoutError(
                f"{action} timed out: {text}; raise spec.timeout or check why the resources "
                "are not ready",
                action=action,
            ) from e
        raise ReleaseError(f"{action} failed: {text}", action=action) from e
    except (ApiError, DriftError) as e:  # discovery failed, or the manifest does not parse
        await mark_failed(api, release, action, str(e), before)
        raise ReleaseError(f"{action} failed: {e}", action=action) from e
    await mark_deployed(api, release, action, superseded)
