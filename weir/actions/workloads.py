"""Actions on the workloads Flux deploys, shared by the front ends:

- :func:`restart`: a rollout restart of a Deployment, StatefulSet or DaemonSet, as
  ``kubectl rollout restart`` does it (the pod template's ``kubectl.kubernetes.io/restartedAt``
  annotation, so the controller rolls the pods);
- :func:`run_job`: a Job from a CronJob's ``jobTemplate`` now, as ``kubectl create job
  --from=cronjob/<name>`` does it (owned by the CronJob, annotated
  ``cronjob.kubernetes.io/instantiate: manual``).

Flux does not revert either: the restart annotation lives in the pod template, which
Kustomizations apply with server-side apply and therefore leave to its own field manager.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from kubernetes_asyncio.client import ApiClient

from weir.errors import UsageError
from weir.kube import apply
from weir.kube.resources import ResourceRef
from weir.types import Obj

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
RESTARTABLE = {
    "Deployment": ResourceRef("apps", "v1", "deployments", True, "Deployment"),
    "StatefulSet": ResourceRef("apps", "v1", "statefulsets", True, "StatefulSet"),
    "DaemonSet": ResourceRef("apps", "v1", "daemonsets", True, "DaemonSet"),
}
CRONJOBS = ResourceRef("batch", "v1", "cronjobs", True, "CronJob")
JOBS = ResourceRef("batch", "v1", "jobs", True, "Job")
MAX_NAME = 63


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def restart(
    api: ApiClient, kind: str, namespace: str, name: str, *, field_manager: str
) -> Obj:
    """Roll the pods of a Deployment, StatefulSet or DaemonSet; returns the patched object."""
    resource = RESTARTABLE.get(kind)
    if resource is None:
        raise UsageError(f"{kind} cannot be restarted: use a Deployment, StatefulSet or DaemonSet")
    body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: _now()}}}}}
    return await apply.patch(api, resource, namespace, name, body, field_manager=field_manager)


def job_name(cronjob: str) -> str:
    """``<cronjob>-manual-<random>``, cut to a valid name."""
    suffix = f"-manual-{secrets.token_hex(3)}"
    return cronjob[: MAX_NAME - len(suffix)] + suffix


async def run_job(
    api: ApiClient, namespace: str, name: str, *, field_manager: str, created_by: str = ""
) -> Obj:
    """Create a Job from the CronJob's template now; returns the Job."""
    cronjob = await apply.get(api, CRONJOBS, namespace, name)
    template = (cronjob.get("spec") or {}).get("jobTemplate") or {}
    meta = template.get("metadata") or {}
    annotations = {**(meta.get("annotations") or {}), "cronjob.kubernetes.io/instantiate": "manual"}
    if created_by:
        annotations["weir.io/created-by"] = created_by
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(name),
            "namespace": namespace,
            "labels": dict(meta.get("labels") or {}),
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": name,
                    "uid": cronjob["metadata"]["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": template.get("spec") or {},
    }
    return await apply.create(api, JOBS, job, field_manager=field_manager)
