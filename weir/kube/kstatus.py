"""kstatus: the health of an object computed from its fields (Flux's fork of cli-utils).

:func:`compute` returns a :class:`Result` (status + message). Rules, in order:

1. ``metadata.deletionTimestamp`` -> Terminating.
2. ``status.observedGeneration`` present and != ``metadata.generation`` -> InProgress.
3. condition ``Reconciling=True`` -> InProgress; ``Stalled=True`` -> Failed.
4. kind rules: Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod, PersistentVolumeClaim,
   Service, Job (Flux's rule), CustomResourceDefinition; ConfigMap, Secret, CronJob and
   PodDisruptionBudget are always Current.
5. any other kind: condition ``Ready`` True -> Current, False/Unknown -> InProgress (not Failed:
   Flux waits for a not-ready dependency until the timeout); no Ready condition -> Current.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

SCHEDULE_WINDOW = timedelta(seconds=15)
"""How long a Pod may be Unschedulable before it counts as Failed."""


class Status(StrEnum):
    CURRENT = "Current"
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    TERMINATING = "Terminating"
    NOT_FOUND = "NotFound"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class Result:
    status: Status
    message: str = ""

    @property
    def current(self) -> bool:
        return self.status is Status.CURRENT


def current(message: str) -> Result:
    return Result(Status.CURRENT, message)


def in_progress(message: str) -> Result:
    return Result(Status.IN_PROGRESS, message)


def failed(message: str) -> Result:
    return Result(Status.FAILED, message)


ObjView = Mapping[str, Any]
"""A read-only object (kstatus never changes what it reads)."""


def _get(obj: ObjView, *path: str, default: Any = None) -> Any:
    node: Any = obj
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return default
        node = node[key]
    return node


def _int(obj: ObjView, *path: str, default: int = 0) -> int:
    value = _get(obj, *path)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def conditions(obj: ObjView) -> dict[str, Mapping[str, Any]]:
    """The object's ``status.conditions`` by type."""
    found = _get(obj, "status", "conditions") or []
    return {str(c.get("type")): c for c in found if isinstance(c, Mapping)}


def _is(conds: Mapping[str, Mapping[str, Any]], kind: str, status: str = "True") -> bool:
    return kind in conds and conds[kind].get("status") == status


def generic(obj: ObjView) -> Result | None:
    """Rules 1-3 of the module docstring; None when they do not decide."""
    if _get(obj, "metadata", "deletionTimestamp"):
        return Result(Status.TERMINATING, "Resource scheduled for deletion")
    observed = _get(obj, "status", "observedGeneration")
    generation = _get(obj, "metadata", "generation")
    if observed is not None and generation is not None and observed != generation:
        return in_progress(
            f"{obj.get('kind')} generation is {generation}, "
            f"but latest observed generation is {observed}"
        )
    conds = conditions(obj)
    if _is(conds, "Reconciling"):
        return in_progress(str(conds["Reconciling"].get("message") or "Reconciling"))
    if _is(conds, "Stalled"):
        return failed(str(conds["Stalled"].get("message") or "Stalled"))
    return None


def _deployment(obj: ObjView) -> Result:
    conds = conditions(obj)
    progressing = conds.get("Progressing", {})
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return failed("Progress deadline exceeded")
    spec = _int(obj, "spec", "replicas", default=1)
    replicas = _int(obj, "status", "replicas")
    updated = _int(obj, "status", "updatedReplicas")
    ready = _int(obj, "status", "readyReplicas")
    available = _int(obj, "status", "availableReplicas")
    if spec > replicas:
        return in_progress(f"Replicas: {replicas}/{spec}")
    if spec > updated:
        return in_progress(f"Updated: {updated}/{spec}")
    if replicas > spec:
        return in_progress(f"Pending termination: {replicas - spec}")
    if updated > available:
        return in_progress(f"Available: {available}/{updated}")
    if spec > ready:
        return in_progress(f"Ready: {ready}/{spec}")
    new_rs = progressing.get("status") == "True" and (
        progressing.get("reason") == "NewReplicaSetAvailable"
    )
    if not new_rs:
        return in_progress("ReplicaSet not Available")
    if not _is(conds, "Available"):
        return in_progress("Deployment not Available")
    return current(f"Deployment is available. Replicas: {replicas}")


def _statefulset(obj: ObjView) -> Result:
    if _get(obj, "spec", "updateStrategy", "type") == "OnDelete":
        return current("StatefulSet is using the ondelete update strategy")
    spec = _int(obj, "spec", "replicas", default=1)
    replicas = _int(obj, "status", "replicas")
    ready = _int(obj, "status", "readyReplicas")
    current_replicas = _int(obj, "status", "currentReplicas")
    updated = _int(obj, "status", "updatedReplicas")
    partition = _int(obj, "spec", "updateStrategy", "rollingUpdate", "partition", default=-1)
    if spec > replicas:
        return in_progress(f"Replicas: {replicas}/{spec}")
    if spec > ready:
        return in_progress(f"Ready: {ready}/{spec}")
    if replicas > spec:
        return in_progress(f"Pending termination: {replicas - spec}")
    if partition != -1:  # the API server defaults the partition to 0
        if updated < spec - partition:
            return in_progress(f"updated: {updated}/{spec - partition}")
        return current(f"Partitioned roll out complete. updated: {updated}/{spec - partition}")
    if spec > current_replicas:
        return in_progress(f"current: {current_replicas}/{spec}")
    current_rev = _get(obj, "status", "currentRevision")
    update_rev = _get(obj, "status", "updateRevision")
    if current_rev != update_rev:
        return in_progress(f"Waiting for updated revision {update_rev} (current {current_rev})")
    return current(f"All replicas scheduled as expected. Replicas: {replicas}")


def _daemonset(obj: ObjView) -> Result:
    if _get(obj, "status", "observedGeneration") is None:
        return in_progress("Missing .status.observedGeneration")
    desired = _get(obj, "status", "desiredNumberScheduled")
    if not isinstance(desired, int):
        return in_progress("Missing .status.desiredNumberScheduled")
    for field, label in (
        ("currentNumberScheduled", "Current"),
        ("updatedNumberScheduled", "Updated"),
        ("numberAvailable", "Available"),
        ("numberReady", "Ready"),
    ):
        have = _int(obj, "status", field)
        if desired > have:
            return in_progress(f"{label}: {have}/{desired}")
    return current(f"All replicas scheduled as expected. Replicas: {desired}")


def _replicaset(obj: ObjView) -> Result:
    if _is(conditions(obj), "ReplicaFailure"):
        return in_progress("Replica Failure condition. Check Pods")
    spec = _int(obj, "spec", "replicas", default=1)
    replicas = _int(obj, "status", "replicas")
    for field, label in (
        ("fullyLabeledReplicas", "Labelled"),
        ("availableReplicas", "Available"),
        ("readyReplicas", "Ready"),
    ):
        have = _int(obj, "status", field)
        if spec > have:
            return in_progress(f"{label}: {have}/{spec}")
    if replicas > spec:
        return in_progress(f"Pending termination: {replicas - spec}")
    return current(f"ReplicaSet is available. Replicas: {replicas}")


def _crash_looping(obj: ObjView) -> list[str]:
    statuses = _get(obj, "status", "containerStatuses") or []
    return [
        str(s.get("name"))
        for s in statuses
        if isinstance(s, Mapping) and _get(s, "state", "waiting", "reason") == "CrashLoopBackOff"
    ]


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _pod(obj: ObjView, now: datetime) -> Result:
    phase = _get(obj, "status", "phase")
    conds = conditions(obj)
    if phase == "Succeeded":
        return current("Pod has completed successfully")
    if phase == "Failed":
        return current("Pod has completed, but not successfully")
    if phase == "Running":
        if _is(conds, "Ready"):
            return current("Pod is Ready")
        if crashing := _crash_looping(obj):
            return failed(f"Containers in CrashLoop state: {', '.join(crashing)}")
        return in_progress("Pod is running but is not Ready")
    if phase == "Pending":
        scheduled = conds.get("PodScheduled", {})
        if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
            created = _parse_time(_get(obj, "metadata", "creationTimestamp"))
            if created is not None and now - created > SCHEDULE_WINDOW:
                return failed(f"Pod could not be scheduled: {scheduled.get('message', '')}")
            return in_progress("Pod unschedulable")
        return in_progress("Pod is in the Pending phase")
    return in_progress("Pod phase not available")


def _pvc(obj: ObjView) -> Result:
    phase = _get(obj, "status", "phase")
    if phase != "Bound":
        return in_progress(f"PVC is not Bound. phase: {phase}")
    return current("PVC is Bound")


def _service(obj: ObjView) -> Result:
    if _get(obj, "spec", "type") == "LoadBalancer" and not _get(obj, "spec", "clusterIP"):
        return in_progress("ClusterIP not set. Service type: LoadBalancer")
    return current("Service is ready")


def _job(obj: ObjView) -> Result:
    if _get(obj, "spec", "suspend") is True:
        return current("Job is suspended")
    conds = conditions(obj)
    succeeded = _int(obj, "status", "succeeded")
    if _is(conds, "Complete"):
        return current(f"Job Completed. succeeded: {succeeded}")
    if _is(conds, "Failed"):
        message = conds["Failed"].get("message") or conds["Failed"].get("reason") or ""
        return failed(f"Job Failed. failed: {_int(obj, 'status', 'failed')}: {message}")
    return in_progress(f"Job in progress. succeeded: {succeeded}")


def _crd(obj: ObjView) -> Result:
    conds = conditions(obj)
    if _is(conds, "NamesAccepted", "False"):
        return failed(f"CRD names not accepted: {conds['NamesAccepted'].get('message', '')}")
    if _is(conds, "Established"):
        return current("CRD is established")
    return in_progress("Install in progress")


def ready_condition(obj: ObjView) -> Result:
    """Rule 5: the ``Ready`` condition decides; no condition means Current."""
    ready = conditions(obj).get("Ready")
    if ready is None:
        return current("Resource is current")
    if ready.get("status") == "True":
        return current(str(ready.get("message") or "Resource is Ready"))
    return in_progress(str(ready.get("message") or "Resource is not Ready"))


_ALWAYS_CURRENT = frozenset({"ConfigMap", "Secret", "CronJob", "PodDisruptionBudget"})
_RULES: dict[tuple[str, str], Callable[[ObjView], Result]] = {
    ("apps", "Deployment"): _deployment,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("apps", "ReplicaSet"): _replicaset,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "Service"): _service,
    ("batch", "Job"): _job,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
}


def compute(obj: ObjView, *, now: datetime | None = None) -> Result:
    """The kstatus of ``obj`` (see the module docstring); ``now`` for Pod scheduling windows."""
    decided = generic(obj)
    if decided is not None:
        return decided
    kind = str(obj.get("kind") or "")
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    if kind in _ALWAYS_CURRENT:
        return current("Resource is always ready")
    if (group, kind) == ("", "Pod"):
        return _pod(obj, now or datetime.now(UTC))
    rule = _RULES.get((group, kind))
    return rule(obj) if rule is not None else ready_condition(obj)
