"""Write tools for any object: ``apply_manifest`` (server-side apply) and ``delete_resource``.

Objects that a Kustomization or HelmRelease manages (they carry its owner labels) are refused
unless ``allow_flux_managed`` is set: a change made beside Git is reverted at the next
reconciliation, and a deleted object is recreated, so the fix belongs in the source.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from kubernetes_asyncio.client import ApiClient
from mcp_types import CallToolResult
from pydantic import Field

from weir import yamlio
from weir.actions.trace import manager_of
from weir.errors import UsageError
from weir.kube import apply as kapi
from weir.kube.errors import ConflictError, NotFoundError
from weir.kube.resources import ResourceRef, mapper_for
from weir.mcp import kinds
from weir.mcp.env import ToolEnv
from weir.mcp.output import respond
from weir.mcp.settings import FIELD_MANAGER
from weir.mcp.tooling import ToolSpec, writes
from weir.mcp.tools.params import ApiVersion, Kind, Name, Namespace
from weir.types import Obj

MAX_OBJECTS = 50

AllowFluxManaged = Annotated[
    bool,
    Field(
        description=(
            "Also change objects a Kustomization/HelmRelease manages (the controller reverts "
            "such changes at its next reconcile; prefer changing the source)."
        )
    ),
]
DryRun = Annotated[bool, Field(description="Only check with the API server; change nothing.")]


def parse_manifest(text: str) -> list[Obj]:
    """The objects of a YAML (or JSON) stream; ``kind: List`` documents are expanded."""
    try:
        docs = [d for d in yamlio.load_all(text) if d is not None]
    except yamlio.YAMLError as e:
        raise UsageError(f"manifest is not valid YAML: {e}") from e
    objects: list[Obj] = []
    for doc in docs:
        items = doc.get("items") if isinstance(doc, dict) else None
        if (
            isinstance(doc, dict)
            and str(doc.get("kind", "")).endswith("List")
            and isinstance(items, list)
        ):
            objects.extend(i for i in items if isinstance(i, dict))
        elif isinstance(doc, dict):
            objects.append(doc)
        else:
            raise UsageError("every YAML document of the manifest must be a Kubernetes object")
    for obj in objects:
        name = (obj.get("metadata") or {}).get("name")
        if not (obj.get("apiVersion") and obj.get("kind") and name):
            raise UsageError(
                "every object needs apiVersion, kind and metadata.name "
                f"(got {obj.get('kind') or 'an object'} {name or 'without a name'})"
            )
    if not objects:
        raise UsageError("the manifest holds no object")
    if len(objects) > MAX_OBJECTS:
        raise UsageError(f"the manifest holds {len(objects)} objects; apply at most {MAX_OBJECTS}")
    return objects


def managed_by(obj: Mapping[str, Any]) -> str | None:
    owner = manager_of(obj)
    if owner is None:
        return None
    info, namespace, name = owner
    return kinds.display(info.kind, namespace, name)


def refuse_managed(what: str, manager: str, verb: str) -> UsageError:
    return UsageError(
        f"{what} is managed by {manager}: {verb} it in the source (Git) instead, or suspend "
        f"{manager} first; pass allow_flux_managed=true to {verb} it anyway"
    )


async def _live(api: ApiClient, ref: ResourceRef, namespace: str | None, name: str) -> Obj | None:
    try:
        return await kapi.get(api, ref, namespace, name)
    except NotFoundError:
        return None


def _spec_view(obj: Mapping[str, Any]) -> Obj:
    m = obj.get("metadata") or {}
    out = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
    out["labels"] = m.get("labels") or {}
    out["annotations"] = m.get("annotations") or {}
    return out


def tools(env: ToolEnv) -> list[ToolSpec]:
    async def apply_manifest(
        *,
        manifest: Annotated[
            str, Field(description="YAML (or JSON) of one or more objects, `---` separated.")
        ],
        namespace: Annotated[
            str | None,
            Field(
                description="Namespace for namespaced objects that name none (default: the "
                "server's default namespace)."
            ),
        ] = None,
        dry_run: DryRun = False,
        force_conflicts: Annotated[
            bool, Field(description="Take over fields owned by other field managers.")
        ] = False,
        allow_flux_managed: AllowFluxManaged = False,
    ) -> CallToolResult:
        """Create or update objects by server-side apply (field manager weir-mcp). Refuses
        objects managed by a Kustomization/HelmRelease unless allow_flux_managed. Reports
        created/configured/unchanged per object; use dry_run to check first."""
        api = await env.api()
        mapper = mapper_for(api)
        default_ns = env.namespace(namespace)
        planned: list[tuple[Obj, ResourceRef, Obj | None]] = []
        for given in parse_manifest(manifest):
            ref = await mapper.for_object(given)
            meta = dict(given.get("metadata") or {})
            if ref.namespaced:
                meta.setdefault("namespace", default_ns)
            else:
                meta.pop("namespace", None)
            obj = {**given, "metadata": meta}
            ns = meta.get("namespace")
            live = await _live(api, ref, ns, str(meta["name"]))
            what = kinds.display(ref.kind, ns, str(meta["name"]))
            manager = managed_by(live) if live is not None else None
            if manager and not allow_flux_managed:
                raise refuse_managed(what, manager, "change")
            planned.append((obj, ref, live))
        results = []
        for obj, ref, live in planned:
            meta = obj["metadata"]
            what = kinds.display(ref.kind, meta.get("namespace"), str(meta["name"]))
            try:
                stored = await kapi.apply(
                    api, obj, FIELD_MANAGER, force=force_conflicts, dry_run=dry_run, mapper=mapper
                )
            except ConflictError as e:
                raise UsageError(
                    f"{what}: {e.message}; another field manager owns these fields: pass "
                    "force_conflicts=true to take them over"
                ) from e
            if live is None:
                action = "created"
            elif _spec_view(live) != _spec_view(stored):
                action = "configured"
            else:
                action = "unchanged"
            results.append({"object": what, "action": action})
        return respond({"dryRun": dry_run, "results": results}, env.settings.max_output)

    async def delete_resource(
        *,
        kind: Kind,
        name: Name,
        namespace: Namespace = None,
        api_version: ApiVersion = None,
        propagation: Annotated[
            Literal["Background", "Foreground", "Orphan"],
            Field(description="What happens to dependents (Orphan keeps them)."),
        ] = "Background",
        dry_run: DryRun = False,
        allow_flux_managed: AllowFluxManaged = False,
    ) -> CallToolResult:
        """Delete one object. Refuses objects managed by a Kustomization/HelmRelease (they
        would be recreated) unless allow_flux_managed; use dry_run to check first."""
        api = await env.api()
        ref = await kinds.resource(api, kind, api_version)
        ns = kinds.scope(ref, env.namespace(namespace))
        what = kinds.display(ref.kind, ns, name)
        live = await _live(api, ref, ns, name)
        if live is None:
            raise UsageError(f"{what} not found: nothing to delete (check kind, name, namespace)")
        manager = managed_by(live)
        if manager and not allow_flux_managed:
            raise refuse_managed(what, manager, "delete")
        uid = (live.get("metadata") or {}).get("uid")
        answer = await kapi.delete(
            api, ref, ns, name, propagation_policy=propagation, dry_run=dry_run, uid=uid
        )
        data: Obj = {"object": what, "dryRun": dry_run, "deleted": not dry_run}
        finalizers = ((answer or {}).get("metadata") or {}).get("finalizers")
        if finalizers and not dry_run:
            data["terminating"] = f"waiting for finalizers: {', '.join(finalizers)}"
        return respond(data, env.settings.max_output)

    return [
        ToolSpec(apply_manifest, "Apply a manifest", writes(destructive=True, idempotent=True)),
        ToolSpec(delete_resource, "Delete an object", writes(destructive=True, idempotent=True)),
    ]
