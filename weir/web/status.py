"""The rows the lists show. The status word of each row is the one health model of
:mod:`weir.actions.health` (Flux conditions, kstatus for workloads), shared with the CLI and
the MCP server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from weir.actions.graph import depends_on, key_of, manager_key, ref_key, source_of
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

Row = dict[str, Any]


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
    "depends_on",
    "flux_status",
    "key_of",
    "manager_key",
    "ref_key",
    "source_of",
    "workload_status",
]
