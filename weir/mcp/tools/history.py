"""``get_history``: what an object went through, newest first.

- Kustomization: ``status.history`` (one entry per distinct build digest and outcome: revision,
  first/last time, duration, count) and the applied/attempted revisions.
- HelmRelease: ``status.history`` (Helm release snapshots: release version, chart version, app
  version, config digest, status, deploy times) and the failure counters.
- Sources: the current artifact (revision, digest, time).
- Deployments: their ReplicaSets by ``deployment.kubernetes.io/revision`` (images, replicas).
- Every kind: the newest Events about the object (with the revision they name).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubernetes_asyncio.client import ApiClient
from mcp_types import CallToolResult

from weir.actions.errors import ObjectNotFoundError
from weir.actions.objects import kind_of, meta, status
from weir.kube import apply as kapi
from weir.kube.errors import NotFoundError
from weir.kube.informer import list_all
from weir.kube.resources import ResourceRef
from weir.mcp import kinds
from weir.mcp.env import ToolEnv
from weir.mcp.output import respond
from weir.mcp.tooling import READ, ToolSpec
from weir.mcp.tools.events import events_for
from weir.mcp.tools.params import ApiVersion, Kind, Limit, Name, Namespace
from weir.types import Obj

REPLICA_SETS = ResourceRef("apps", "v1", "replicasets", True, "ReplicaSet")
DEPLOYMENT_REVISION = "deployment.kubernetes.io/revision"


def kustomization_history(obj: Mapping[str, Any]) -> Obj:
    st = status(obj)
    out: Obj = {
        "lastAppliedRevision": st.get("lastAppliedRevision"),
        "lastAttemptedRevision": st.get("lastAttemptedRevision"),
    }
    out["history"] = [
        {
            "revision": (entry.get("metadata") or {}).get("revision"),
            "status": entry.get("lastReconciledStatus"),
            "firstReconciled": entry.get("firstReconciled"),
            "lastReconciled": entry.get("lastReconciled"),
            "lastDuration": entry.get("lastReconciledDuration"),
            "reconciliations": entry.get("totalReconciliations"),
            "digest": entry.get("digest"),
        }
        for entry in st.get("history") or []
        if isinstance(entry, Mapping)
    ]
    return out


def helmrelease_history(obj: Mapping[str, Any]) -> Obj:
    st = status(obj)
    out: Obj = {
        "lastAttemptedRevision": st.get("lastAttemptedRevision"),
        "lastAttemptedReleaseAction": st.get("lastAttemptedReleaseAction"),
        "failures": st.get("failures"),
        "installFailures": st.get("installFailures"),
        "upgradeFailures": st.get("upgradeFailures"),
    }
    keys = (
        "version",
        "status",
        "chartName",
        "chartVersion",
        "appVersion",
        "configDigest",
        "firstDeployed",
        "lastDeployed",
        "deleted",
    )
    out["history"] = [
        {k: snap.get(k) for k in keys if snap.get(k) is not None}
        for snap in st.get("history") or []
        if isinstance(snap, Mapping)
    ]
    return {k: v for k, v in out.items() if v is not None}


def source_history(obj: Mapping[str, Any]) -> Obj:
    artifact = status(obj).get("artifact") or {}
    return {
        "artifact": {
            k: artifact.get(k)
            for k in ("revision", "digest", "lastUpdateTime", "size")
            if artifact.get(k) is not None
        }
        or None,
        "note": "sources keep only their current artifact; the Events below show earlier ones",
    }


async def deployment_history(api: ApiClient, obj: Mapping[str, Any]) -> Obj:
    m = meta(obj)
    uid = m.get("uid")
    replica_sets, _ = await list_all(api, REPLICA_SETS, namespace=str(m.get("namespace")))
    owned = [
        rs
        for rs in replica_sets
        if any(ref.get("uid") == uid for ref in meta(rs).get("ownerReferences") or [])
    ]

    def revision_of(rs: Mapping[str, Any]) -> int:
        try:
            return int((meta(rs).get("annotations") or {}).get(DEPLOYMENT_REVISION, 0))
        except ValueError:
            return 0

    rows = []
    for rs in sorted(owned, key=revision_of, reverse=True):
        containers = (((rs.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
            "containers"
        ) or []
        rows.append(
            {
                "revision": revision_of(rs),
                "replicaSet": meta(rs).get("name"),
                "created": meta(rs).get("creationTimestamp"),
                "images": [c.get("image") for c in containers],
                "replicas": (rs.get("spec") or {}).get("replicas"),
            }
        )
    return {"history": rows}


def tools(env: ToolEnv) -> list[ToolSpec]:
    async def get_history(
        *,
        kind: Kind,
        name: Name,
        namespace: Namespace = None,
        api_version: ApiVersion = None,
        limit: Limit = 20,
    ) -> CallToolResult:
        """The revision history of an object, newest first: Kustomization builds (revision,
        outcome, times), HelmRelease release snapshots (chart/app version, config digest,
        status), a source's current artifact, a Deployment's ReplicaSet revisions (images),
        plus the newest Events about it."""
        api = await env.api()
        ref = await kinds.resource(api, kind, api_version)
        ns = kinds.scope(ref, env.namespace(namespace))
        try:
            obj = await kapi.get(api, ref, ns, name)
        except NotFoundError as e:
            raise ObjectNotFoundError(
                f"{kinds.display(ref.kind, ns, name)} not found: check kind, name and namespace"
            ) from e
        obj.setdefault("apiVersion", ref.api_version)
        obj.setdefault("kind", ref.kind)
        info = kind_of(obj)
        data: Obj = {"object": kinds.display(ref.kind, ns, name)}
        if info is not None and info.kind == "Kustomization":
            data.update(kustomization_history(obj))
        elif info is not None and info.kind == "HelmRelease":
            data.update(helmrelease_history(obj))
        elif info is not None and "fluxcd-sources" in info.categories:
            data.update(source_history(obj))
        elif ref.kind == "Deployment" and ref.group == "apps":
            data.update(await deployment_history(api, obj))
        data["events"] = await events_for(api, ref.kind, ns, name, limit)
        return respond(data, env.settings.max_output)

    return [ToolSpec(get_history, "Revision history", READ)]
