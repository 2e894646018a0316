"""The Workloads view: the Deployments, StatefulSets, DaemonSets, Jobs and CronJobs that a
Kustomization or HelmRelease manages (owner labels ``kustomize.toolkit.fluxcd.io/name`` and
``helm.toolkit.fluxcd.io/name``), with their pods.

Rows come from the UI's workload informers; the detail reads the live object and lists its
pods by the workload's selector (a CronJob: the pods of its Jobs) on demand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.actions.masking import sanitize
from weir.kube import apply
from weir.kube.errors import ForbiddenError, NotFoundError
from weir.kube.informer import list_all
from weir.types import Obj
from weir.web import status as rows
from weir.web.cache import ViewCache
from weir.web.detail import Visible, managers
from weir.web.events import object_events
from weir.web.kinds import PODS, WORKLOADS
from weir.web.yamltext import to_yaml

Row = dict[str, Any]
MAX_PODS = 500


def label_selector(selector: Mapping[str, Any] | None) -> str | None:
    """A ``LabelSelector`` as the ``labelSelector`` query string; None when it selects
    nothing (no selector at all)."""
    if not selector:
        return None
    parts = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key"), expr.get("operator")
        values = ",".join(str(v) for v in expr.get("values") or [])
        if op == "In":
            parts.append(f"{key} in ({values})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({values})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) or None


def pod_row(pod: Mapping[str, Any]) -> Row:
    meta = pod.get("metadata") or {}
    st = pod.get("status") or {}
    statuses = st.get("containerStatuses") or []
    containers = []
    for c in statuses:
        state = c.get("state") or {}
        which = next(iter(state), "")
        containers.append(
            {
                "name": c.get("name"),
                "image": c.get("image"),
                "ready": bool(c.get("ready")),
                "restarts": int(c.get("restartCount") or 0),
                "state": which,
                "reason": str((state.get(which) or {}).get("reason", "")),
            }
        )
    total = len((pod.get("spec") or {}).get("containers") or []) or len(statuses)
    ready = sum(1 for c in containers if c["ready"])
    phase = str(st.get("phase", "Unknown"))
    waiting = [c["reason"] for c in containers if c["state"] == "waiting" and c["reason"]]
    if phase in ("Failed",) or any(r in ("CrashLoopBackOff", "ImagePullBackOff") for r in waiting):
        word = rows.FAILED
    elif phase == "Succeeded" or (phase == "Running" and ready == total):
        word = rows.READY
    else:
        word = rows.PROGRESSING
    return {
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "phase": phase,
        "status": word,
        "ready": f"{ready}/{total}",
        "restarts": sum(c["restarts"] for c in containers),
        "node": (pod.get("spec") or {}).get("nodeName"),
        "ip": st.get("podIP"),
        "created": meta.get("creationTimestamp"),
        "reason": waiting[0] if waiting else str(st.get("reason", "")),
        "containers": containers,
    }


async def pods_of(api: ApiClient, cache: ViewCache, obj: Mapping[str, Any]) -> list[Row]:
    """The pods of a workload as rows (see :func:`raw_pods_of`)."""
    pods = await raw_pods_of(api, cache, obj)
    return sorted((pod_row(p) for p in pods), key=lambda r: str(r["name"]))


async def raw_pods_of(api: ApiClient, cache: ViewCache, obj: Mapping[str, Any]) -> list[Obj]:
    """The pods of a workload, by its selector (a CronJob: the pods of its Jobs), at most
    ``MAX_PODS``."""
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace", ""))
    spec = obj.get("spec") or {}
    if obj.get("kind") == "CronJob":
        uid = meta.get("uid")
        jobs = [
            j["metadata"]["name"]
            for j in (cache.workloads["Job"].list(namespace) if "Job" in cache.workloads else [])
            if any(o.get("uid") == uid for o in j["metadata"].get("ownerReferences") or [])
        ]
        if not jobs:
            return []
        selector: str | None = f"job-name in ({','.join(jobs)})"
    else:
        selector = label_selector(spec.get("selector"))
    if selector is None:
        return []
    pods, _ = await list_all(api, PODS, namespace=namespace, label_selector=selector)
    return pods[:MAX_PODS]


async def workload_detail(
    api: ApiClient,
    cache: ViewCache,
    kind: str,
    namespace: str,
    name: str,
    *,
    visible: Visible | None = None,
) -> Obj | None:
    """The live workload, its pods, Events and managers; None when it does not exist. ``api``
    reads as the caller (impersonated); ``visible`` limits the Events and managers shown."""
    see = visible or (lambda _k, _n: True)
    resource = WORKLOADS[kind]
    try:
        live = await apply.get(api, resource, namespace, name)
    except NotFoundError:
        return None
    live.setdefault("apiVersion", resource.api_version)
    live.setdefault("kind", kind)
    clean = sanitize(live)
    row = rows.workload_row(live)
    pods_error = None
    try:
        pods = await pods_of(api, cache, live)
    except ForbiddenError as e:
        pods, pods_error = [], str(e)
    return {
        "row": row,
        "object": clean,
        "yaml": {"object": to_yaml(clean), "spec": to_yaml(clean.get("spec"))},
        "conditions": (live.get("status") or {}).get("conditions") or [],
        "pods": pods,
        "podsError": pods_error,
        "events": object_events(cache, row["key"]) if see("Event", namespace) else [],
        "managers": managers(cache, live, see),
    }
