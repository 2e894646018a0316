"""The rows the lists show. The status word of each row is the one health model of
:mod:`weir.actions.health` (Flux conditions, kstatus for workloads), shared with the CLI and
the MCP server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from weir.actions.health import (
    FAILED,
    PROGRESSING,
    RANK,
    READY,
    STATUSES,
    SUSPENDED,
    UNKNOWN,
    flux_status,
    workload_status,
)
from weir.actions.objects import condition, is_suspended, meta, revision, status
from weir.actions.trace import manager_of

Row = dict[str, Any]


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


__all__ = [
    "FAILED",
    "PROGRESSING",
    "RANK",
    "READY",
    "STATUSES",
    "SUSPENDED",
    "UNKNOWN",
    "flux_status",
    "workload_status",
]
