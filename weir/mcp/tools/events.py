"""Read tools for what happened: ``get_events`` (Kubernetes Events) and ``get_pod_logs``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from kubernetes_asyncio.client import ApiClient
from mcp_types import CallToolResult
from pydantic import Field

from weir.actions.events import event_time, involved
from weir.actions.logs import Container, choose_container, container_log
from weir.errors import UsageError
from weir.kube import apply as kapi
from weir.kube import transport
from weir.kube.errors import NotFoundError
from weir.kube.resources import EVENTS, ResourceRef
from weir.log import redact
from weir.mcp import kinds
from weir.mcp.env import ToolEnv
from weir.mcp.output import clip, respond
from weir.mcp.tooling import READ, ToolSpec
from weir.mcp.tools.params import AllNamespaces, ApiVersion, Limit, Namespace
from weir.types import Obj

PODS = ResourceRef("", "v1", "pods", True, "Pod")
MAX_EVENTS_READ = 5000
PAGE = 500
MAX_TAIL = 5000


def event_row(event: Mapping[str, Any]) -> Obj:
    """What a model needs of an Event."""
    kind, _, name = involved(event)
    when = event_time(event)
    meta = event.get("metadata") or {}
    row: Obj = {
        "lastSeen": when.isoformat() if when else None,
        "type": event.get("type"),
        "reason": event.get("reason"),
        "object": f"{kind}/{name}",
        "namespace": meta.get("namespace"),
        "message": clip(str(event.get("message") or event.get("note") or "").strip()),
    }
    count = event.get("count") or (event.get("series") or {}).get("count")
    if count and int(count) > 1:
        row["count"] = int(count)
    source = (event.get("source") or {}).get("component") or event.get("reportingComponent")
    if source:
        row["source"] = source
    revision = next(
        (v for k, v in (meta.get("annotations") or {}).items() if k.endswith("/revision")), None
    )
    if revision:
        row["revision"] = revision
    return row


async def read_events(
    api: ApiClient, namespace: str | None, field_selector: str | None
) -> tuple[list[Obj], bool]:
    """Events matching ``field_selector`` (paginated, at most :data:`MAX_EVENTS_READ`), newest
    first; the flag says whether more existed."""
    items: list[Obj] = []
    token: str | None = None
    while True:
        params: transport.Params = {
            "limit": PAGE,
            "continue": token,
            "fieldSelector": field_selector,
        }
        body = await transport.request(api, "GET", EVENTS.path(namespace), params=params)
        items.extend(body.get("items") or [])
        token = (body.get("metadata") or {}).get("continue") or None
        if token is None or len(items) >= MAX_EVENTS_READ:
            break
    items.sort(key=lambda e: t.timestamp() if (t := event_time(e)) else 0.0, reverse=True)
    return items, token is not None


async def events_for(
    api: ApiClient, kind: str, namespace: str | None, name: str, limit: int = 20
) -> list[Obj]:
    """The newest Events about one object, as rows."""
    selector = f"involvedObject.kind={kind},involvedObject.name={name}"
    found, _ = await read_events(api, namespace, selector)
    return [event_row(e) for e in found[:limit]]


def tools(env: ToolEnv) -> list[ToolSpec]:
    async def get_events(
        *,
        namespace: Namespace = None,
        all_namespaces: AllNamespaces = False,
        kind: Annotated[
            str | None, Field(description="Only Events about objects of this kind (ks, pod, ...).")
        ] = None,
        name: Annotated[
            str | None, Field(description="Only Events about the object of this name.")
        ] = None,
        type: Annotated[
            Literal["Warning", "Normal"] | None, Field(description="Only this Event type.")
        ] = None,
        api_version: ApiVersion = None,
        limit: Limit = 30,
    ) -> CallToolResult:
        """Kubernetes Events, newest first: what controllers (Flux's and weir's included) and
        the kubelet reported about objects. Filter by object kind and name, and by type
        (Warning for problems)."""
        api = await env.api()
        selectors = []
        if kind:
            ref = await kinds.resource(api, kind, api_version)
            selectors.append(f"involvedObject.kind={ref.kind}")
        if name:
            selectors.append(f"involvedObject.name={name}")
        if type:
            selectors.append(f"type={type}")
        ns = None if all_namespaces else env.namespace(namespace)
        found, more = await read_events(api, ns, ",".join(selectors) or None)
        rows = [event_row(e) for e in found[:limit]]
        data: Obj = {
            "namespace": ns or "(all)",
            "count": len(rows),
            "total": len(found) if not more else f"more than {len(found)}",
            "events": rows,
        }
        return respond(data, env.settings.max_output)

    async def get_pod_logs(
        *,
        name: Annotated[str, Field(description="Pod name.")],
        namespace: Namespace = None,
        container: Annotated[
            str | None,
            Field(description="Container name (needed when the pod has several)."),
        ] = None,
        tail_lines: Annotated[int, Field(ge=1, le=MAX_TAIL, description="The last N lines.")] = 100,
        previous: Annotated[
            bool, Field(description="The previous (crashed) instance of the container.")
        ] = False,
        since_seconds: Annotated[
            int | None, Field(ge=1, description="Only lines newer than this many seconds.")
        ] = None,
    ) -> CallToolResult:
        """The last lines of a pod's container log (bounded in lines and size). Credentials
        in URLs are redacted; other secrets printed by the application are not."""
        api = await env.api()
        ns = env.namespace(namespace)
        try:
            pod = await kapi.get(api, PODS, ns, name)
        except NotFoundError as e:
            raise UsageError(
                f"pod {ns}/{name} not found: list pods with list_resources kind=pods "
                f"namespace={ns} (for a Deployment, select its pods with label_selector)"
            ) from e
        chosen = choose_container(pod, container)
        raw = await container_log(
            api,
            Container(ns, name, chosen),
            tail_lines=tail_lines,
            previous=previous,
            since_seconds=since_seconds,
            limit_bytes=env.settings.max_output,
            node=(pod.get("spec") or {}).get("nodeName"),
        )
        text = redact(raw.decode(errors="replace"))
        lines = text.splitlines()
        phase = (pod.get("status") or {}).get("phase")
        data: Obj = {
            "pod": f"{ns}/{name}",
            "container": chosen,
            "phase": phase,
            "lines": len(lines),
            "log": text,
        }
        if not lines and phase == "Pending":
            data["note"] = "the pod is Pending: no container has started yet (see get_events)"
        if len(raw) >= env.settings.max_output:
            data["truncated"] = "size limit reached; ask for fewer tail_lines"
        return respond(data, env.settings.max_output)

    return [
        ToolSpec(get_events, "Kubernetes Events", READ),
        ToolSpec(get_pod_logs, "Pod logs", READ),
    ]
