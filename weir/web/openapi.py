"""The OpenAPI 3.1 document of the JSON API (``<base>/api/openapi.json``), made from
:data:`weir.web.api.ENDPOINTS` so that it lists exactly the routes the app serves; the row and
graph schemas come from the pydantic models of :mod:`weir.web.schema` (as do the UI's
TypeScript types)."""

from __future__ import annotations

from typing import Any

from weir import __version__
from weir.web.api import ENDPOINTS, Endpoint, Param
from weir.web.schema import schemas

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(item: Schema) -> Schema:
    return {"type": "array", "items": item}


_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_OBJ: Schema = {"type": "object", "additionalProperties": True}


def _object(required: list[str], **props: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": props}


SCHEMAS: dict[str, Schema] = {
    "Error": _object(["error", "status"], error=_STR, status=_INT),
    "RowPage": _object(
        ["items", "total", "counts", "continue"],
        items=_array(_ref("Row")),
        total=_INT,
        counts={"type": "object", "additionalProperties": _INT},
        **{"continue": _NSTR},
    ),
    "Link": _object(
        ["key", "kind", "namespace", "name"],
        key=_STR,
        kind=_STR,
        namespace=_STR,
        name=_STR,
        view={"type": ["string", "null"], "enum": ["resource", "workload", None]},
        status={"type": ["string", "null"]},
    ),
    "Event": _object(
        ["time", "type", "reason", "message", "object"],
        time=_NSTR,
        type=_STR,
        reason=_STR,
        message=_STR,
        count=_INT,
        object=_STR,
        component=_STR,
        revision=_STR,
        namespace=_STR,
        user={"type": "string", "description": "Who did it (WebAction audit Events)"},
    ),
    "EventList": _object(["items"], items=_array(_ref("Event"))),
    "Names": _object(["items"], items=_array(_STR)),
    "Kinds": _object(
        ["flux", "workloads", "statuses"],
        flux=_array(_OBJ),
        workloads=_array(_OBJ),
        statuses=_array(_STR),
    ),
    "Controller": _object(
        ["name", "status", "kinds", "objects"],
        name=_STR,
        status={"type": "string", "enum": ["ok", "degraded", "idle", "syncing"]},
        kinds=_array(_STR),
        objects=_INT,
        unattended=_INT,
        runs=_OBJ,
        message=_STR,
        report={
            **_array(_OBJ),
            "description": "the FluxReport's components of this controller (and its shards): "
            "name, ready, status, image",
        },
    ),
    "Overview": _object(
        ["kinds", "totals", "failing", "controllers", "feed", "head", "synced"],
        mode=_STR,
        synced={"type": "boolean"},
        syncedKinds=_OBJ,
        kinds=_array(_OBJ),
        totals=_OBJ,
        workloads=_OBJ,
        failing=_array(_ref("Row")),
        failingTotal=_INT,
        controllers=_array(_ref("Controller")),
        feed=_array(_ref("Event")),
        head=_STR,
        access=_object(
            ["filtered", "limited"],
            filtered={"type": "boolean", "description": "Counts cover what the user may see"},
            limited={"type": "boolean", "description": "The user may see nothing at all"},
            namespaces={"type": ["array", "null"], "items": _STR},
        ),
    ),
    "Detail": _object(
        ["row", "object", "yaml", "conditions", "inventory", "actions"],
        row=_ref("Row"),
        object=_OBJ,
        yaml={"type": "object", "additionalProperties": _STR},
        conditions=_array(_OBJ),
        inventory=_array(_ref("Link")),
        history=_array(_OBJ),
        artifact={"type": ["object", "null"]},
        source={"oneOf": [_ref("Link"), {"type": "null"}]},
        dependsOn=_array(_ref("Link")),
        dependents=_array(_ref("Row")),
        managers=_array(_ref("Link")),
        actions=_array(_STR),
        allowed={
            "type": "object",
            "additionalProperties": {"type": "boolean"},
            "description": "Whether the signed-in user's RBAC grants each action",
        },
        values={"type": ["object", "null"], "description": "HelmRelease values (Secrets hidden)"},
    ),
    "WorkloadDetail": _object(
        ["row", "object", "pods", "events"],
        row=_ref("Row"),
        object=_OBJ,
        yaml=_OBJ,
        conditions=_array(_OBJ),
        pods=_array(_OBJ),
        podsError={"type": ["string", "null"]},
        events=_array(_ref("Event")),
        managers=_array(_ref("Link")),
        allowed={"type": "object", "additionalProperties": {"type": "boolean"}},
    ),
    "Logs": _object(
        ["lines", "containers", "errors", "cursor"],
        lines=_array(
            _object(
                ["time", "pod", "container", "text"],
                time=_STR,
                pod=_STR,
                container=_STR,
                text=_STR,
            )
        ),
        containers=_array(_OBJ),
        errors=_array(_STR),
        cursor={"type": ["string", "null"], "description": "Ask again with since=<cursor>"},
    ),
    "Revisions": _object(
        ["revisions", "unreadable", "valuesShown"],
        revisions=_array(
            _object(
                ["version", "status", "chart", "chartVersion", "changes"],
                version=_INT,
                status=_STR,
                chart=_STR,
                chartVersion=_STR,
                appVersion=_STR,
                deployed=_NSTR,
                description=_STR,
                current={"type": "boolean"},
                changes=_OBJ,
            )
        ),
        unreadable=_array(_STR),
        valuesShown={
            "type": "boolean",
            "description": "False: the caller may not read Secrets there, values are left out",
        },
        allowed={"type": "boolean", "description": "Whether the caller may roll back"},
    ),
    "WorkloadActionResult": _object(
        ["action", "key", "message"], action=_STR, key=_STR, message=_STR, job=_STR
    ),
    "ActionResult": _object(
        ["action", "key", "actionId", "row"],
        action=_STR,
        key=_STR,
        actionId={
            "type": ["string", "null"],
            "description": "Set when the outcome follows on the stream",
        },
        row=_ref("Row"),
    ),
    "WhoAmI": _object(
        ["mode", "authenticated", "user", "groups", "actions"],
        mode={"type": "string", "enum": ["none", "token", "proxy", "anonymous", "oidc"]},
        authenticated={"type": "boolean"},
        user={"type": ["string", "null"]},
        groups=_array(_STR),
        name={"type": ["string", "null"], "description": "The name to show (OIDC profile)"},
        provider={"type": ["string", "null"]},
        sessionStart={"type": ["number", "null"]},
        actions={"type": "boolean", "description": "Whether this user may run actions"},
        actionsDisabledReason={"type": ["string", "null"]},
        signInURL={"type": ["string", "null"], "description": "OIDC: where sign-in starts"},
        autoLogin={"type": "boolean"},
    ),
    "Change": _object(
        ["id", "type", "group", "key", "data", "time"],
        id=_INT,
        type={"type": "string", "enum": ["ADDED", "MODIFIED", "DELETED", "ACTION"]},
        group={"type": "string", "enum": ["flux", "workload", "event", "action"]},
        key=_STR,
        data=_OBJ,
        time={"type": "number"},
    ),
    "ChangePoll": _object(
        ["head", "reset", "changes"],
        head=_STR,
        reset={"type": "boolean"},
        changes=_array(_ref("Change")),
    ),
    "Health": _object(
        ["ok", "synced"], ok={"type": "boolean"}, synced={"type": "boolean"}, mode=_STR
    ),
    "EventStream": {"type": "string", "description": "text/event-stream"},
    "Binary": {"type": "string", "format": "binary"},
    **schemas(),  # Row, Graph, GraphNode, GraphEdge: defined once in weir.web.schema
}


def _param(p: Param) -> Schema:
    schema: Schema = {"type": p.type}
    if p.enum:
        schema["enum"] = list(p.enum)
    if p.repeated:
        schema = _array(schema)
    out: Schema = {
        "name": p.name,
        "in": p.where,
        "required": p.required or p.where == "path",
        "schema": schema,
    }
    if p.description:
        out["description"] = p.description
    if p.repeated:
        out["style"], out["explode"] = "form", True
    return out


def _operation(e: Endpoint) -> Schema:
    op: Schema = {
        "operationId": e.handler.__name__,
        "summary": e.summary,
        "parameters": [_param(p) for p in e.params],
        "responses": {
            str(e.status): {
                "description": "OK",
                "content": {e.media_type: {"schema": _ref(e.response)}},
            },
            "default": {
                "description": "Error",
                "content": {"application/json": {"schema": _ref("Error")}},
            },
        },
    }
    if e.method == "POST" and e.response == "ActionResult":
        op["responses"]["202"] = {
            "description": "Accepted: the outcome follows on the stream as an ACTION change",
            "content": {"application/json": {"schema": _ref("ActionResult")}},
        }
    return op


def document(base_path: str = "") -> Schema:
    paths: dict[str, Schema] = {}
    for e in ENDPOINTS:
        paths.setdefault(e.path, {})[e.method.lower()] = _operation(e)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "weir web API",
            "version": __version__,
            "description": "Flux objects and the workloads they manage, from weir's caches.",
        },
        "servers": [{"url": base_path or "/"}],
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
