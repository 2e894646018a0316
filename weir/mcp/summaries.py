"""Short descriptions of objects, for lists and graphs: what ``kubectl get`` and ``flux get``
show of them, in a few fields."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from weir.actions.objects import condition, is_suspended, kind_of, parse_time, revision
from weir.kube import kstatus
from weir.mcp.output import clip
from weir.types import Obj


def age(value: Any, now: datetime | None = None) -> str | None:
    """``3d4h``, ``12m``, ``40s`` since an API timestamp."""
    when = parse_time(value)
    if when is None:
        return None
    seconds = int(((now or datetime.now(UTC)) - when).total_seconds())
    seconds = max(seconds, 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def _meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _status(obj: Mapping[str, Any]) -> dict[str, Any]:
    status = obj.get("status")
    return status if isinstance(status, dict) else {}


def _pod_fields(obj: Mapping[str, Any]) -> Obj:
    st = _status(obj)
    containers = st.get("containerStatuses") or []
    ready = sum(1 for c in containers if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in containers)
    out: Obj = {
        "phase": st.get("phase"),
        "containersReady": f"{ready}/{len((obj.get('spec') or {}).get('containers') or [])}",
        "restarts": restarts,
        "node": (obj.get("spec") or {}).get("nodeName"),
    }
    waiting = [
        f"{c.get('name')}: {c['state']['waiting'].get('reason')}"
        for c in containers
        if isinstance(c.get("state"), dict) and isinstance(c["state"].get("waiting"), dict)
    ]
    if waiting:
        out["waiting"] = waiting
    return out


def _workload_fields(obj: Mapping[str, Any]) -> Obj:
    spec, st = obj.get("spec") or {}, _status(obj)
    if obj.get("kind") == "DaemonSet":
        return {"ready": f"{st.get('numberReady', 0)}/{st.get('desiredNumberScheduled', 0)}"}
    desired = spec.get("replicas", 1)
    return {"ready": f"{st.get('readyReplicas', 0)}/{desired}"}


def summary(obj: Mapping[str, Any]) -> Obj:
    """A few fields describing ``obj`` (name, namespace, age, readiness and kind-specific
    facts); never the values of a Secret."""
    meta = _meta(obj)
    kind = str(obj.get("kind", ""))
    out: Obj = {"name": meta.get("name")}
    if meta.get("namespace"):
        out["namespace"] = meta["namespace"]
    out["age"] = age(meta.get("creationTimestamp"))
    ready = condition(obj, "Ready")
    if kind_of(obj) is not None:
        out["ready"] = str(ready.get("status")) if ready else "Unknown"
        if ready:
            out["reason"] = ready.get("reason")
            out["message"] = clip(str(ready.get("message", "")))
        out["revision"] = revision(obj) or None
        out["suspended"] = is_suspended(obj)
        return out
    if kind == "Pod":
        out.update(_pod_fields(obj))
    elif kind in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"):
        out.update(_workload_fields(obj))
    elif kind == "Secret":
        out["type"] = obj.get("type")
        out["keys"] = sorted(obj.get("data") or {})
    elif kind == "ConfigMap":
        out["keys"] = sorted({*(obj.get("data") or {}), *(obj.get("binaryData") or {})})
    elif kind == "Service":
        spec = obj.get("spec") or {}
        out["type"] = spec.get("type")
        out["clusterIP"] = spec.get("clusterIP")
    if _status(obj) and kind not in ("Secret", "ConfigMap"):
        result = kstatus.compute(obj)
        out["health"] = str(result.status)
        if result.status is not kstatus.Status.CURRENT and result.message:
            out["healthMessage"] = clip(result.message)
    return {k: v for k, v in out.items() if v is not None}
