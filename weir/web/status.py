"""One status word per object, and the rows the lists show.

Status words: ``ready``, ``failed``, ``progressing``, ``suspended``, ``unknown``. For Flux
objects ``suspended`` wins (``spec.suspend``), then ``Stalled=True`` or ``Ready=False`` is
``failed`` (except while waiting on a dependency, which is ``progressing``), ``Ready=True`` is
``ready`` and ``Ready=Unknown`` is ``progressing``; an object no controller has reported on yet
is ``unknown``. Workloads follow kstatus' rules for their kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from weir.actions.objects import condition, is_suspended, meta, revision, status
from weir.actions.trace import manager_of
from weir.api import KINDS

Row = dict[str, Any]

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


def key_of(kind: str, namespace: str, name: str) -> str:
    """The id of an object in the UI and its URLs: ``Kind/namespace/name``."""
    return f"{kind}/{namespace}/{name}"


def ref_key(ref: Any, default_namespace: str, default_kind: str = "") -> str | None:
    """``Kind/ns/name`` of a ``{kind, name, namespace}`` reference, or None."""
    if not isinstance(ref, Mapping) or not ref.get("name"):
        return None
    kind = str(ref.get("kind") or default_kind)
    if not kind:
        return None
    return key_of(kind, str(ref.get("namespace") or default_namespace), str(ref["name"]))


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


def source_of(obj: Mapping[str, Any]) -> str | None:
    """``Kind/ns/name`` of the object a Flux object takes its artifact from: a
    Kustomization's or HelmChart's ``sourceRef``; a HelmRelease's ``chartRef``, its generated
    HelmChart (``status.helmChart``) or its chart's ``sourceRef``."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    namespace = str(meta(obj).get("namespace", ""))
    kind = obj.get("kind")
    if kind in ("Kustomization", "HelmChart"):
        return ref_key(spec.get("sourceRef"), namespace)
    if kind == "HelmRelease":
        if spec.get("chartRef"):
            return ref_key(spec.get("chartRef"), namespace)
        chart = str(status(obj).get("helmChart") or "")
        chart_ns, _, chart_name = chart.rpartition("/")
        if chart_name:
            return key_of("HelmChart", chart_ns or namespace, chart_name)
        chart_spec = (spec.get("chart") or {}).get("spec") or {}
        return ref_key(chart_spec.get("sourceRef"), namespace)
    return None


def depends_on(obj: Mapping[str, Any]) -> list[str]:
    """``Kind/ns/name`` of each ``spec.dependsOn`` entry (same kind as the object)."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    namespace = str(meta(obj).get("namespace", ""))
    kind = str(obj.get("kind", ""))
    out = []
    for dep in spec.get("dependsOn") or []:
        found = ref_key(dep, namespace, kind)
        if found:
            out.append(found)
    return out


def manager_key(obj: Mapping[str, Any]) -> str | None:
    """``Kind/ns/name`` of the Kustomization or HelmRelease that applied the object."""
    found = manager_of(obj)
    if found is None:
        return None
    info, namespace, name = found
    return key_of(info.kind, namespace, name)


def flux_row(obj: Mapping[str, Any]) -> Row:
    """What lists show of a Flux object."""
    m = meta(obj)
    ready = condition(obj, "Ready") or {}
    st = status(obj)
    kind, namespace, name = str(obj.get("kind", "")), str(m.get("namespace", "")), str(m["name"])
    generation, observed = m.get("generation"), st.get("observedGeneration")
    return {
        "key": key_of(kind, namespace, name),
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "status": flux_status(obj),
        "ready": str(ready.get("status", "")),
        "reason": str(ready.get("reason", "")),
        "message": str(ready.get("message", "")),
        "revision": revision(obj),
        "suspended": is_suspended(obj),
        "lastTransition": ready.get("lastTransitionTime"),
        "lastHandled": st.get("lastHandledReconcileAt"),
        "source": source_of(obj),
        "manager": manager_key(obj),
        "created": m.get("creationTimestamp"),
        "pending": isinstance(generation, int)
        and isinstance(observed, int)
        and observed < generation,
    }


# ---------------------------------------------------------------------------- workloads
def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) else default


def _cond(obj: Mapping[str, Any], type_: str) -> dict[str, Any]:
    return condition(obj, type_) or {}


def workload_status(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """(status word, ready text such as ``2/3``, message) of a workload."""
    kind = obj.get("kind")
    spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    st = status(obj)
    m = meta(obj)
    generation, observed = m.get("generation"), st.get("observedGeneration")
    behind = isinstance(generation, int) and (
        not isinstance(observed, int) or observed < generation
    )
    if kind in ("Deployment", "StatefulSet"):
        desired = _int(spec.get("replicas"), 1)
        ready = _int(st.get("readyReplicas"))
        updated = _int(st.get("updatedReplicas"))
        text = f"{ready}/{desired}"
        progressing = _cond(obj, "Progressing")
        if progressing.get("reason") == "ProgressDeadlineExceeded":
            return FAILED, text, str(progressing.get("message", ""))
        if _cond(obj, "ReplicaFailure").get("status") == "True":
            return FAILED, text, str(_cond(obj, "ReplicaFailure").get("message", ""))
        if kind == "Deployment":
            available = _int(st.get("availableReplicas"))
            done = available >= desired and updated >= desired
        else:
            done = ready >= desired and st.get("currentRevision") == st.get("updateRevision")
        if done and not behind:
            return READY, text, f"{ready} of {desired} replicas ready"
        return PROGRESSING, text, f"{ready} of {desired} replicas ready, {updated} updated"
    if kind == "DaemonSet":
        desired = _int(st.get("desiredNumberScheduled"))
        ready = _int(st.get("numberReady"))
        updated = _int(st.get("updatedNumberScheduled"))
        text = f"{ready}/{desired}"
        if ready >= desired and updated >= desired and not behind:
            return READY, text, f"{ready} of {desired} pods ready"
        return PROGRESSING, text, f"{ready} of {desired} pods ready, {updated} updated"
    if kind == "Job":
        completions = _int(spec.get("completions"), 1)
        text = f"{_int(st.get('succeeded'))}/{completions}"
        if _cond(obj, "Complete").get("status") == "True":
            return READY, text, "completed"
        failed = _cond(obj, "Failed")
        if failed.get("status") == "True":
            return FAILED, text, str(failed.get("message") or failed.get("reason", "failed"))
        if spec.get("suspend") is True:
            return SUSPENDED, text, "suspended"
        return PROGRESSING, text, f"{_int(st.get('active'))} active"
    if kind == "CronJob":
        active = len(st.get("active") or [])
        last = st.get("lastScheduleTime")
        text = f"{active} active"
        if spec.get("suspend") is True:
            return SUSPENDED, text, "suspended"
        return READY, text, f"last scheduled {last}" if last else "not scheduled yet"
    return UNKNOWN, "", ""


def images_of(obj: Mapping[str, Any]) -> list[str]:
    """The container images of a workload's pod template (CronJobs: of the job template)."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    if obj.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    pod = ((spec.get("template") or {}).get("spec")) or {}
    return [str(c.get("image", "")) for c in pod.get("containers") or [] if isinstance(c, Mapping)]


def workload_row(obj: Mapping[str, Any]) -> Row:
    """What the Workloads list shows of a workload."""
    m = meta(obj)
    kind, namespace, name = str(obj.get("kind", "")), str(m.get("namespace", "")), str(m["name"])
    word, ready, message = workload_status(obj)
    return {
        "key": key_of(kind, namespace, name),
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "status": word,
        "ready": ready,
        "message": message,
        "images": images_of(obj),
        "manager": manager_key(obj),
        "created": m.get("creationTimestamp"),
    }
