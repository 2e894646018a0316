"""Pydantic JSON schema -> Kubernetes structural OpenAPI v3 schema.

A structural schema (what ``apiextensions.k8s.io/v1`` requires) has a ``type`` on every node,
no ``$ref``, and no ``anyOf``/``oneOf`` that introduce types. So: ``$ref`` is inlined,
``Optional[X]`` becomes ``X``, ``int | str`` becomes ``x-kubernetes-int-or-string``, titles and
``default: null`` go away, free-form objects get ``x-kubernetes-preserve-unknown-fields``.
Anything else the converter does not know is an error, so a model change that would produce an
invalid CRD fails here, not in the API server.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

_PASS_THROUGH = frozenset(
    {
        "type",
        "format",
        "description",
        "required",
        "enum",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "default",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
        "x-kubernetes-validations",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-map-type",
        "x-kubernetes-embedded-resource",
    }
)
_DROPPED = frozenset({"title", "examples", "readOnly", "writeOnly", "deprecated"})


class SchemaError(ValueError):
    """The model uses a construct that has no structural-schema equivalent."""


def structural_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of ``model`` (wire names, validation view)."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.pop("$defs", {})
    return _convert(raw, defs, path=model.__name__)


def _resolve(node: dict[str, Any], defs: dict[str, Any], path: str) -> dict[str, Any]:
    """Inline ``$ref`` and collapse nullable ``anyOf`` until neither is left at the top."""
    while True:
        if "$ref" in node:
            node = dict(node)
            name = node.pop("$ref").rsplit("/", 1)[-1]
            if name not in defs:
                raise SchemaError(f"{path}: unresolved $ref {name}")
            # the referring node's own keys (description, default, ...) win
            node = {**copy.deepcopy(defs[name]), **node}
            continue
        if "anyOf" in node:
            node = dict(node)
            options = [o for o in node.pop("anyOf") if o != {"type": "null"}]
            if node.get("default", 0) is None:
                del node["default"]
            if len(options) == 1:
                node = {**options[0], **node}
                continue
            types = {o.get("type") for o in options}
            if types == {"integer", "string"} and all(set(o) == {"type"} for o in options):
                node["x-kubernetes-int-or-string"] = True
                return node
            raise SchemaError(f"{path}: unions other than Optional[X] and int|str: {options}")
        return node


def _one_line(text: str) -> str:
    """Docstrings as CRD descriptions: one paragraph, Markdown-style code spans."""
    return " ".join(text.replace("``", "`").split())


def _convert(node: dict[str, Any], defs: dict[str, Any], path: str) -> dict[str, Any]:
    node = _resolve(node, defs, path)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or (key == "default" and value is None):
            continue
        if key == "const":
            out["enum"] = [value]
        elif key == "properties":
            out["properties"] = {
                name: _convert(sub, defs, f"{path}.{name}") for name, sub in value.items()
            }
        elif key == "items":
            out["items"] = _convert(value, defs, f"{path}[]")
        elif key == "additionalProperties":
            if value is True:
                out["x-kubernetes-preserve-unknown-fields"] = True
            elif isinstance(value, dict):
                out["additionalProperties"] = _convert(value, defs, f"{path}{{}}")
            # False (extra="forbid"): the structural default, nothing to write
        elif key == "description":
            out[key] = _one_line(value)
        elif key in _PASS_THROUGH:
            out[key] = value
        else:
            raise SchemaError(f"{path}: unsupported JSON schema keyword {key!r}")
    if "properties" in out and "additionalProperties" in out:
        raise SchemaError(f"{path}: properties and additionalProperties together")
    if "required" in out and not out["required"]:
        del out["required"]
    untyped_ok = out.get("x-kubernetes-preserve-unknown-fields") or out.get(
        "x-kubernetes-int-or-string"
    )
    if "type" not in out and not untyped_ok:
        raise SchemaError(f"{path}: no type")
    return out
