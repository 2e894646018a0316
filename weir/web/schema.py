"""The shapes of the JSON API defined once, as pydantic models: the OpenAPI document
(:mod:`weir.web.openapi`) takes its schemas from here, and the UI's TypeScript types
(``ui/src/generated/api-types.ts``) are generated from the same JSON Schema by
json-schema-to-typescript (``scripts/gen-ui-types.sh``, run by ``make ui``; a test checks the
committed file is current).

The row builders (:func:`weir.web.status.flux_row`, :func:`~weir.web.status.workload_row`)
build plain dicts for speed; a unit test validates them against :class:`Row` (extra keys are
refused), so the builders, the OpenAPI schema and the TypeScript types cannot drift apart.

``python -m weir.web.schema`` prints the JSON Schema of every model (what the generator reads).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["failed", "progressing", "unknown", "suspended", "ready"]
"""A status word (:mod:`weir.actions.health`), most urgent first."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Row(_Model):
    """One row of a list: a Flux object (status from its conditions) or a workload (status
    from kstatus)."""

    key: str = Field(description="Kind/namespace/name")
    kind: str
    namespace: str
    name: str
    status: Status
    ready: str = Field(description="Ready condition status (Flux) or ready count (workloads)")
    message: str
    manager: str | None = Field(
        description="Kind/namespace/name of the Kustomization or HelmRelease that applied it"
    )
    created: str | None
    reason: str = ""
    revision: str = ""
    suspended: bool = False
    lastTransition: str | None = None
    lastHandled: str | None = Field(default=None, description="status.lastHandledReconcileAt")
    source: str | None = Field(default=None, description="Kind/namespace/name of its source")
    pending: bool = Field(
        default=False, description="The spec changed since the controller last looked at it"
    )
    images: list[str] = Field(default_factory=list, description="Container images (workloads)")


class GraphNode(_Model):
    """A node of the pipeline graph (:mod:`weir.actions.graph`)."""

    id: str = Field(description="Kind/namespace/name")
    kind: str
    namespace: str
    name: str
    layer: Literal["source", "chart", "applier", "workload", "other"]
    status: Status | Literal["missing"]
    message: str
    revision: str
    view: Literal["resource", "workload"]
    group: str | None = Field(
        default=None,
        description="The node's group when the graph is grouped (Namespace/<name>, or the "
        "Kind/namespace/name of the root applier that manages it)",
    )


class GraphEdge(_Model):
    from_: str = Field(alias="from")
    to: str
    type: Literal["source", "manages", "dependsOn", "inputs"]

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Graph(_Model):
    """``/api/v1/graph``: the pipeline graph of a scope."""

    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool
    total: int
    group: Literal["namespace", "kustomization"] | None = None


MODELS: tuple[type[BaseModel], ...] = (Row, GraphNode, GraphEdge, Graph)


def schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each model, by name, with references to each other (for OpenAPI's
    ``components.schemas`` and the TypeScript generator)."""
    out: dict[str, dict[str, Any]] = {}
    for model in MODELS:
        schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            out.setdefault(name, sub)
        out[model.__name__] = schema
    return out


def _untitled(schema: Any) -> Any:
    """``schema`` without pydantic's per-property titles (they would become type aliases)."""
    if isinstance(schema, dict):
        props = schema.get("properties")
        out = {k: _untitled(v) for k, v in schema.items() if k != "properties"}
        if isinstance(props, dict):
            out["properties"] = {
                k: {kk: _untitled(vv) for kk, vv in v.items() if kk != "title"}
                for k, v in props.items()
            }
        return out
    if isinstance(schema, list):
        return [_untitled(v) for v in schema]
    return schema


def generator_input() -> dict[str, Any]:
    """One JSON Schema document naming every model, for json-schema-to-typescript."""
    defs = {
        name: _untitled(json.loads(json.dumps(s).replace("#/components/schemas/", "#/$defs/")))
        for name, s in schemas().items()
    }
    return {
        "title": "WeirApi",
        "type": "object",
        "properties": {name: {"$ref": f"#/$defs/{name}"} for name in defs},
        "$defs": defs,
        "additionalProperties": False,
    }


if __name__ == "__main__":
    print(json.dumps(generator_input(), indent=2, sort_keys=True))
