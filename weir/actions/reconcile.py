"""Asking a controller to reconcile now, and waiting for its answer.

The handshake is Flux's: set the annotation ``reconcile.fluxcd.io/requestedAt`` to a fresh token
(a timestamp), then wait until ``status.lastHandledReconcileAt`` equals it. The controller copies
the token there when the run it triggered ends; the ``Ready`` condition then tells the outcome.
Waiting follows the object with a watch, not by polling.

``with_source`` reconciles the sources first, upstream first, each annotated and waited for:
a Kustomization's ``sourceRef``; a HelmRelease's ``chartRef``, or for ``spec.chart`` the chart's
source and then the generated HelmChart; a HelmChart's ``sourceRef``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.actions.errors import ObjectNotFoundError, ReconcileTimeoutError, SuspendedError
from weir.actions.objects import (
    HELM_GROUP,
    KUSTOMIZE_GROUP,
    condition,
    get_object,
    is_suspended,
    meta,
    object_name,
    resource_for,
    revision,
    short_name,
    status,
)
from weir.actions.watch import follow
from weir.api import KINDS, KindInfo
from weir.kube import apply
from weir.types import Obj

REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
FORCE_AT = "reconcile.fluxcd.io/forceAt"
"""HelmRelease: run a one-off Helm upgrade; ResourceSetInputProvider: run outside the
deployment windows (same token as ``requestedAt``)."""
RESET_AT = "reconcile.fluxcd.io/resetAt"
"""HelmRelease: reset the failure counters (same token as ``requestedAt``)."""
FIELD_MANAGER = "weir"
DEFAULT_TIMEOUT = 300.0

Progress = Callable[[str], None]
"""Called with what the controller reports while waiting (for a spinner)."""
Requested = Callable[["ObjectKey", str], None]
"""Called when an object was annotated, with the token, before waiting for it."""


def new_token(now: datetime | None = None) -> str:
    """A fresh ``requestedAt`` value: RFC 3339 in UTC with nanoseconds, like Flux's
    ``time.Now().Format(time.RFC3339Nano)`` (trailing zeros trimmed)."""
    if now is None:
        ns = time.time_ns()
        now = datetime.fromtimestamp(ns // 1_000_000_000, UTC)
        fraction = f"{ns % 1_000_000_000:09d}".rstrip("0")
    else:
        now = now.astimezone(UTC)
        fraction = f"{now.microsecond:06d}".rstrip("0")
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{fraction}Z" if fraction else f"{stamp}Z"


@dataclass(frozen=True)
class ObjectKey:
    """A Flux object by kind, namespace and name."""

    info: KindInfo
    namespace: str
    name: str

    def __str__(self) -> str:
        return object_name(self.info, self.namespace, self.name)


@dataclass(frozen=True)
class ReconcileOutcome:
    """How a handled reconcile request ended."""

    kind: str
    namespace: str
    name: str
    ready: bool
    reason: str
    message: str
    revision: str

    def describe(self) -> str:
        """``applied revision main@sha1:...`` on success; the Ready message on failure."""
        if not self.ready:
            return f"{self.kind} reconciliation failed: {self.message or self.reason}"
        info = KINDS.get(self.kind)
        if self.revision and info is not None:
            verb = "fetched" if "fluxcd-sources" in info.categories else "applied"
            return f"{verb} revision {self.revision}"
        return f"{self.kind} {self.namespace}/{self.name} is ready: {self.message}".rstrip(": ")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "ready": self.ready,
            "reason": self.reason,
            "message": self.message,
            "revision": self.revision,
        }


def judge(obj: Mapping[str, Any], token: str) -> ReconcileOutcome | None:
    """The outcome once the controller handled ``token`` and settled; None while waiting.

    Handled means ``status.lastHandledReconcileAt == token``. Then ``Stalled=True`` or
    ``Ready=False`` is a failure, ``Ready=True`` for the current generation a success, and
    ``Ready=Unknown`` (in progress) means wait on.
    """
    st = status(obj)
    if st.get("lastHandledReconcileAt") != token:
        return None
    m = meta(obj)
    stalled = condition(obj, "Stalled")
    ready = condition(obj, "Ready")

    def outcome(ok: bool, cond: Mapping[str, Any]) -> ReconcileOutcome:
        return ReconcileOutcome(
            kind=str(obj.get("kind", "")),
            namespace=str(m.get("namespace", "")),
            name=str(m.get("name", "")),
            ready=ok,
            reason=str(cond.get("reason", "")),
            message=str(cond.get("message", "")),
            revision=revision(obj),
        )

    if stalled is not None and stalled.get("status") == "True":
        return outcome(False, stalled)
    if ready is None:
        return None
    if ready.get("status") == "False":
        return outcome(False, ready)
    if ready.get("status") != "True":
        return None
    generation, observed = m.get("generation"), st.get("observedGeneration")
    if isinstance(generation, int) and isinstance(observed, int) and observed < generation:
        return None  # handled, but the spec changed since: wait for the run that sees it
    return outcome(True, ready)


def progress_text(obj: Mapping[str, Any], token: str) -> str:
    """What the spinner shows while waiting."""
    m = meta(obj)
    what = object_name(str(obj.get("kind", "")), m.get("namespace"), str(m.get("name", "")))
    if status(obj).get("lastHandledReconcileAt") != token:
        return f"waiting for {what} to be reconciled"
    for type_ in ("Reconciling", "Ready"):
        cond = condition(obj, type_)
        if cond and cond.get("message"):
            return f"{what}: {cond['message']}"
    return f"waiting for {what} to become ready"


def _current_state(obj: Mapping[str, Any] | None, token: str) -> str:
    if obj is None:
        return "no status seen"
    if status(obj).get("lastHandledReconcileAt") != token:
        return (
            "the request was not handled: is a controller running for this kind? "
            "(`weir run`; check its logs)"
        )
    ready = condition(obj, "Ready")
    if ready is None:
        return "handled, but no Ready condition yet"
    return f"last status: Ready={ready.get('status')} {ready.get('reason', '')}: " + str(
        ready.get("message", "")
    )


def source_chain(info: KindInfo, obj: Mapping[str, Any]) -> list[ObjectKey]:
    """The sources to reconcile before ``obj``, upstream first (see the module docstring)."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    namespace = str(meta(obj).get("namespace", ""))

    def key(ref: Any, default_ns: str) -> ObjectKey | None:
        if not isinstance(ref, dict):
            return None
        found = KINDS.get(str(ref.get("kind", "")))
        if found is None or not ref.get("name") or found.kind == "ExternalArtifact":
            # an ExternalArtifact has no reconciler of its own: its generator refreshes it
            return None
        return ObjectKey(found, str(ref.get("namespace") or default_ns), str(ref["name"]))

    chain: list[ObjectKey | None] = []
    if info.group == KUSTOMIZE_GROUP or info.kind == "HelmChart":
        chain.append(key(spec.get("sourceRef"), namespace))
    elif info.group == HELM_GROUP:
        if spec.get("chartRef"):
            chain.append(key(spec.get("chartRef"), namespace))
        else:
            chart_spec = (spec.get("chart") or {}).get("spec") or {}
            source = key(chart_spec.get("sourceRef"), namespace)
            chain.append(source)
            helm_chart = str(status(obj).get("helmChart") or "")
            chart_ns, _, chart_name = helm_chart.rpartition("/")
            if not chart_name:
                chart_ns = source.namespace if source else namespace
                chart_name = f"{namespace}-{meta(obj).get('name', '')}"
            chain.append(ObjectKey(KINDS["HelmChart"], chart_ns or namespace, chart_name))
    return [k for k in chain if k is not None]


def _needs_wait(obj: Mapping[str, Any]) -> bool:
    """OCI HelmRepositories have no artifact and no Ready condition: nothing to wait for."""
    spec = obj.get("spec")
    return not (
        obj.get("kind") == "HelmRepository" and isinstance(spec, dict) and spec.get("type") == "oci"
    )


async def request_reconcile(
    api: ApiClient,
    info: KindInfo,
    namespace: str,
    name: str,
    *,
    token: str | None = None,
    force: bool = False,
    reset: bool = False,
    field_manager: str = FIELD_MANAGER,
) -> tuple[str, Obj]:
    """Annotate the object with a fresh ``requestedAt`` (and ``forceAt``/``resetAt`` with
    ``force``/``reset``, for HelmReleases); returns the token and the patched object.
    Raises :class:`SuspendedError` for a suspended object."""
    obj = await get_object(api, info, namespace, name)
    if is_suspended(obj):
        raise suspended_error(info, namespace, name)
    token = token or new_token()
    annotations = {REQUESTED_AT: token}
    if force:
        annotations[FORCE_AT] = token
    if reset:
        annotations[RESET_AT] = token
    body = {"metadata": {"annotations": annotations}}
    patched = await apply.patch(
        api, resource_for(info), namespace, name, body, field_manager=field_manager
    )
    return token, patched


def suspended_error(info: KindInfo, namespace: str, name: str) -> SuspendedError:
    """The error for a reconcile asked of a suspended object (with the CLI's resume command)."""
    return SuspendedError(
        f"{object_name(info, namespace, name)} is suspended: resume it with "
        f"`weir resume {short_name(info)} {name} -n {namespace}`",
        kind=info.kind,
        namespace=namespace,
        name=name,
    )


async def wait_reconciled(
    api: ApiClient,
    info: KindInfo,
    namespace: str,
    name: str,
    token: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 -- a deadline for the whole handshake
    on_progress: Progress | None = None,
    stated_timeout: float | None = None,
) -> ReconcileOutcome:
    """Wait until the controller handled ``token`` and Ready settled; raises
    :class:`ReconcileTimeoutError` after ``timeout`` seconds (the error states
    ``stated_timeout`` instead when given: the user's timeout for a whole chain)."""
    last: Obj | None = None
    try:
        async with asyncio.timeout(timeout):
            stream = follow(api, resource_for(info), namespace, name)
            async with contextlib.aclosing(stream):
                async for obj in stream:
                    last = obj
                    found = judge(obj, token)
                    if found is not None:
                        return found
                    if on_progress is not None:
                        on_progress(progress_text(obj, token))
    except TimeoutError as e:
        raise ReconcileTimeoutError(
            f"{object_name(info, namespace, name)}: reconciliation did not finish within "
            f"{stated_timeout or timeout:g}s; {_current_state(last, token)}"
        ) from e
    raise ObjectNotFoundError(f"{object_name(info, namespace, name)} is gone")  # pragma: no cover


async def reconcile_one(
    api: ApiClient,
    info: KindInfo,
    namespace: str,
    name: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    on_progress: Progress | None = None,
    on_request: Requested | None = None,
    force: bool = False,
    reset: bool = False,
    field_manager: str = FIELD_MANAGER,
    stated_timeout: float | None = None,
) -> ReconcileOutcome | None:
    """Request a reconcile of one object and wait for it; None when there is nothing to wait
    for (an OCI HelmRepository)."""
    token, obj = await request_reconcile(
        api, info, namespace, name, force=force, reset=reset, field_manager=field_manager
    )
    if on_request is not None:
        on_request(ObjectKey(info, namespace, name), token)
    if not _needs_wait(obj):
        return None
    return await wait_reconciled(
        api,
        info,
        namespace,
        name,
        token,
        timeout=timeout,
        on_progress=on_progress,
        stated_timeout=stated_timeout,
    )


async def reconcile(
    api: ApiClient,
    info: KindInfo,
    namespace: str,
    name: str,
    *,
    with_source: bool = False,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 -- one deadline for the whole chain
    on_progress: Progress | None = None,
    on_request: Requested | None = None,
    on_outcome: Callable[[ReconcileOutcome], None] | None = None,
    force: bool = False,
    reset: bool = False,
    field_manager: str = FIELD_MANAGER,
) -> list[ReconcileOutcome]:
    """Reconcile an object (its sources first with ``with_source``) and wait for each.
    ``force``/``reset`` apply to the object itself, not to its sources.

    Returns the outcomes in order; stops at the first failed one (its ``ready`` is False).
    Raises :class:`ReconcileTimeoutError` when ``timeout`` (for the whole chain) passes.
    """
    deadline = time.monotonic() + timeout
    obj = await get_object(api, info, namespace, name)
    if is_suspended(obj):
        raise suspended_error(info, namespace, name)
    steps = [*source_chain(info, obj), ObjectKey(info, namespace, name)] if with_source else []
    if not steps:
        steps = [ObjectKey(info, namespace, name)]
    outcomes: list[ReconcileOutcome] = []
    for step in steps:
        target = step == steps[-1]
        left = max(deadline - time.monotonic(), 0.001)
        found = await reconcile_one(
            api,
            step.info,
            step.namespace,
            step.name,
            timeout=left,
            on_progress=on_progress,
            on_request=on_request,
            force=force and target,
            reset=reset and target,
            field_manager=field_manager,
            stated_timeout=timeout,
        )
        if found is None:
            continue
        outcomes.append(found)
        if on_outcome is not None:
            on_outcome(found)
        if not found.ready:
            break
    return outcomes
