"""Is this object healthy? One answer for the CLI, the web UI and the MCP server, built on the
controller's own rules (:mod:`weir.kube.kstatus`, what Kustomization health checks wait for).

Status words: ``ready``, ``failed``, ``progressing``, ``suspended``, ``unknown``.

- **Flux objects** (:func:`flux_status`): ``suspended`` wins (``spec.suspend``), then
  ``Stalled=True`` or ``Ready=False`` is ``failed`` (except while waiting on a dependency,
  which is ``progressing``), ``Ready=True`` is ``ready`` and ``Ready=Unknown`` is
  ``progressing``; an object no controller has reported on yet is ``unknown``.
- **Anything else** (:func:`workload_status`): kstatus decides (Current is ``ready``,
  InProgress and Terminating ``progressing``, Failed ``failed``); a suspended Job or CronJob is
  ``suspended``.
- **Unattended** (:func:`unattended`): a controller should have acted on the object by now
  (a spec change or a ``requestedAt`` request left unhandled for a while). A suspended object
  is never unattended: nobody is meant to act on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from weir.actions.objects import condition, is_suspended, meta, parse_time, status
from weir.api import KINDS
from weir.kube import kstatus

READY, FAILED, PROGRESSING, SUSPENDED, UNKNOWN = (
    "ready",
    "failed",
    "progressing",
    "suspended",
    "unknown",
)
STATUSES = (FAILED, PROGRESSING, UNKNOWN, SUSPENDED, READY)
"""Every status word, most urgent first (the order of ``sort=status``)."""
RANK = {s: i for i, s in enumerate(STATUSES)}
WAITING_REASONS = frozenset({"DependencyNotReady", "Progressing"})
"""Ready=False reasons that mean "waiting", not "broken"."""
STALE_AFTER = 120.0
"""Seconds after which an unhandled change counts as unattended."""
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"

_WORDS = {
    kstatus.Status.CURRENT: READY,
    kstatus.Status.IN_PROGRESS: PROGRESSING,
    kstatus.Status.TERMINATING: PROGRESSING,
    kstatus.Status.FAILED: FAILED,
    kstatus.Status.NOT_FOUND: UNKNOWN,
    kstatus.Status.UNKNOWN: UNKNOWN,
}
_API_VERSIONS = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
}


def flux_status(obj: Mapping[str, Any]) -> str:
    """The status word of a Flux object (see the module docstring)."""
    if is_suspended(obj):
        return SUSPENDED
    stalled = condition(obj, "Stalled")
    if stalled is not None and stalled.get("status") == "True":
        return FAILED
    ready = condition(obj, "Ready")
    if ready is None:
        info = KINDS.get(str(obj.get("kind", "")))
        return UNKNOWN if info is None or info.has_status else READY
    state = ready.get("status")
    if state == "True":
        return READY
    if state == "False":
        return PROGRESSING if ready.get("reason") in WAITING_REASONS else FAILED
    return PROGRESSING


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def ready_text(obj: Mapping[str, Any]) -> str:
    """What the READY column shows of a workload: ``2/3`` replicas or pods, ``1/1``
    completions, ``2 active`` jobs."""
    kind = obj.get("kind")
    spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    st = status(obj)
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        return f"{_int(st.get('readyReplicas'))}/{_int(spec.get('replicas'), 1)}"
    if kind == "DaemonSet":
        return f"{_int(st.get('numberReady'))}/{_int(st.get('desiredNumberScheduled'))}"
    if kind == "Job":
        return f"{_int(st.get('succeeded'))}/{_int(spec.get('completions'), 1)}"
    if kind == "CronJob":
        return f"{len(st.get('active') or [])} active"
    return ""


def workload_status(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """(status word, ready text, message) of any object by kstatus (see the docstring)."""
    kind = str(obj.get("kind") or "")
    spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    text = ready_text(obj)
    if kind in ("Job", "CronJob") and spec.get("suspend") is True:
        return SUSPENDED, text, "suspended"
    if not obj.get("apiVersion") and kind in _API_VERSIONS:
        obj = {**obj, "apiVersion": _API_VERSIONS[kind]}
    result = kstatus.compute(obj)
    word = _WORDS[result.status]
    if kind == "CronJob" and word == READY:
        last = status(obj).get("lastScheduleTime")
        return word, text, f"last scheduled {last}" if last else "not scheduled yet"
    return word, text, result.message


def object_status(obj: Mapping[str, Any]) -> str:
    """The status word of any object: Flux objects by their conditions, others by kstatus."""
    info = KINDS.get(str(obj.get("kind", "")))
    if info is not None and str(obj.get("apiVersion", "")).startswith(f"{info.group}/"):
        return flux_status(obj)
    return workload_status(obj)[0]


def unattended(obj: Mapping[str, Any], now: float, stale_after: float = STALE_AFTER) -> bool:
    """Whether a controller should have acted on the object by now (see the docstring)."""
    if is_suspended(obj):
        return False
    m, st = meta(obj), status(obj)
    changed = parse_time(m.get("creationTimestamp"))
    generation, observed = m.get("generation"), st.get("observedGeneration", -1)
    requested = (m.get("annotations") or {}).get(REQUESTED_AT)
    if requested and requested != st.get("lastHandledReconcileAt"):
        when = parse_time(requested)
        if when is not None and now - when.timestamp() > stale_after:
            return True
    if isinstance(generation, int) and isinstance(observed, int) and observed < generation:
        ready = next((c for c in st.get("conditions") or [] if c.get("type") == "Ready"), None)
        moved: datetime | None = parse_time((ready or {}).get("lastTransitionTime")) or changed
        return moved is not None and now - moved.timestamp() > stale_after
    return False
