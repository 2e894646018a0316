"""Read tools for any Kubernetes resource: ``get_resource`` and ``list_resources``."""

from __future__ import annotations

from typing import Annotated

from mcp_types import CallToolResult
from pydantic import Field

from weir.actions.errors import ObjectNotFoundError
from weir.actions.masking import mask_object
from weir.kube import apply as kapi
from weir.kube import transport
from weir.kube.errors import NotFoundError
from weir.mcp import kinds
from weir.mcp.env import ToolEnv
from weir.mcp.output import respond, select, tidy
from weir.mcp.summaries import summary
from weir.mcp.tooling import READ, ToolSpec
from weir.mcp.tools.params import (
    AllNamespaces,
    ApiVersion,
    Fields,
    Kind,
    Limit,
    Name,
    Namespace,
)
from weir.types import Obj


def tools(env: ToolEnv) -> list[ToolSpec]:
    async def get_resource(
        *,
        kind: Kind,
        name: Name,
        namespace: Namespace = None,
        api_version: ApiVersion = None,
        fields: Fields = None,
    ) -> CallToolResult:
        """Get one Kubernetes object of any kind (Flux kinds included) as YAML, without
        managedFields. Use `fields` to return only some paths and keep the answer small.
        Secret values are masked."""
        api = await env.api()
        ref = await kinds.resource(api, kind, api_version)
        ns = kinds.scope(ref, env.namespace(namespace))
        try:
            obj = await kapi.get(api, ref, ns, name)
        except NotFoundError as e:
            raise ObjectNotFoundError(
                f"{kinds.display(ref.kind, ns, name)} not found: check the name and namespace "
                f"(list_resources kind={ref.plural} namespace={ns or ''})"
            ) from e
        obj.setdefault("apiVersion", ref.api_version)
        obj.setdefault("kind", ref.kind)
        obj = mask_object(tidy(obj), env.settings.mask_secrets)
        if fields:
            data = {"object": kinds.display(ref.kind, ns, name), "fields": select(obj, fields)}
            return respond(data, env.settings.max_output)
        return respond(obj, env.settings.max_output)

    async def list_resources(
        *,
        kind: Kind,
        namespace: Namespace = None,
        all_namespaces: AllNamespaces = False,
        label_selector: Annotated[
            str | None, Field(description="Label selector, e.g. app=erigon,tier!=cache.")
        ] = None,
        field_selector: Annotated[
            str | None, Field(description="Field selector, e.g. status.phase=Running.")
        ] = None,
        fields: Fields = None,
        limit: Limit = 50,
        continue_token: Annotated[
            str | None, Field(description="The `continue` value of the previous page.")
        ] = None,
        api_version: ApiVersion = None,
    ) -> CallToolResult:
        """List objects of one kind, one page at a time. Each item is a short summary (name,
        namespace, age, readiness, revision/suspended for Flux kinds, phase/restarts for pods,
        replicas for workloads) unless `fields` selects paths. Pass `continue_token` to get
        the next page. Secret values are never listed."""
        api = await env.api()
        ref = await kinds.resource(api, kind, api_version)
        ns = None if all_namespaces else kinds.scope(ref, env.namespace(namespace))
        params: transport.Params = {
            "limit": limit,
            "continue": continue_token,
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
        }
        body = await transport.request(api, "GET", ref.path(ns), params=params)
        items: list[Obj] = []
        for item in body.get("items") or []:
            item.setdefault("apiVersion", ref.api_version)
            item.setdefault("kind", ref.kind)
            if fields:
                masked = mask_object(tidy(item), env.settings.mask_secrets)
                meta = item.get("metadata") or {}
                row: Obj = {"name": meta.get("name")}
                if meta.get("namespace"):
                    row["namespace"] = meta["namespace"]
                row.update(select(masked, fields))
                items.append(row)
            else:
                items.append(summary(item))
        meta = body.get("metadata") or {}
        data: Obj = {
            "kind": ref.kind,
            "apiVersion": ref.api_version,
            "namespace": "(all)" if ns is None and ref.namespaced else ns,
            "count": len(items),
            "items": items,
        }
        if meta.get("continue"):
            data["continue"] = meta["continue"]
            if meta.get("remainingItemCount") is not None:
                data["remaining"] = meta["remainingItemCount"]
        return respond(data, env.settings.max_output)

    return [
        ToolSpec(get_resource, "Get a Kubernetes object", READ),
        ToolSpec(list_resources, "List Kubernetes objects", READ),
    ]
