"""The base every API model derives from, the scalar types Flux's schemas use, and CEL rules.

Wire names are camelCase (aliases generated from the snake_case Python names, or given
explicitly where Go's JSON tags are not plain camelCase, e.g. ``disableOpenAPIValidation``).
Optional fields default to ``None`` so that ``model_dump(exclude_none=True)`` gives back exactly
what was parsed; the defaults the API server fills in are recorded in the JSON schema (see
:func:`crd_default`) and applied by :func:`weir.api.defaults.with_defaults`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
"""Go duration strings as Flux validates them: ``30s``, ``5m``, ``1h30m``, ``1.5h``."""

TIMEOUT_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"
"""Timeouts of source operations: like :data:`DURATION_PATTERN` but without hours."""


def _check_timestamp(value: str) -> str:
    """Accept RFC 3339 date-times (what Kubernetes writes), keep the string as written."""
    try:
        datetime.fromisoformat(value)
    except ValueError as e:
        raise ValueError(f"not an RFC 3339 date-time: {value!r}") from e
    return value


Duration = Annotated[str, StringConstraints(pattern=DURATION_PATTERN)]
"""A Go duration such as ``10m`` or ``1h30m``."""

TimeoutDuration = Annotated[str, StringConstraints(pattern=TIMEOUT_PATTERN)]
"""A Go duration without hours, used by the sources' ``timeout``."""

Timestamp = Annotated[
    str,
    AfterValidator(_check_timestamp),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An RFC 3339 date-time, kept as the string the API server returned."""


@dataclass(frozen=True)
class _Format:
    """Adds a JSON schema ``format`` to a type, keeping its other constraints."""

    format: str

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["format"] = self.format
        return json_schema


Int64 = Annotated[int, _Format("int64")]
"""An integer that Go stores as int64 (generations, counters, sizes)."""

JSONObject = Annotated[
    dict[str, Any], WithJsonSchema({"x-kubernetes-preserve-unknown-fields": True})
]
"""Free-form JSON (HelmRelease ``values``): kept as is, not pruned by the API server."""


def bounded(min_length: int | None = None, max_length: int | None = None) -> Any:
    """Length constraints for a string, as ``Annotated[str, bounded(1, 253)]``."""
    return StringConstraints(min_length=min_length, max_length=max_length)


def crd_default(value: Any, **kwargs: Any) -> Any:
    """A field the API server defaults to ``value`` when absent.

    The Python default stays ``None`` (so parsing and dumping round-trip); the default is
    written into the generated CRD schema and applied by :func:`weir.api.defaults.with_defaults`.
    """
    extra: dict[str, Any] = {"default": value}
    extra.update(kwargs.pop("json_schema_extra", None) or {})
    return Field(default=None, json_schema_extra=extra, **kwargs)


def list_map(*keys: str) -> Any:
    """A list the API server merges by ``keys`` (``x-kubernetes-list-type: map``)."""
    return Field(
        default=None,
        json_schema_extra={
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": list(keys),
        },
    )


@dataclass(frozen=True)
class CelRule:
    """A validation rule Flux enforces with CEL (``x-kubernetes-validations``).

    ``rule`` and ``message`` go into the CRD; ``check`` is the same rule written in Python, run
    when a model is validated so weir refuses what the API server would refuse.
    """

    rule: str
    message: str
    check: Callable[[Any], bool]


class ApiModel(BaseModel):
    """Base of every spec/status type: camelCase on the wire, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        use_attribute_docstrings=True,
    )

    cel_rules: ClassVar[tuple[CelRule, ...]] = ()
    """Flux's CEL rules for this type (evaluated in Python, emitted into the CRD)."""

    @model_validator(mode="after")
    def _check_cel_rules(self) -> ApiModel:
        for rule in type(self).cel_rules:
            if not rule.check(self):
                raise ValueError(rule.message)
        return self

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        if cls.cel_rules:
            target = handler.resolve_ref_schema(json_schema)
            target["x-kubernetes-validations"] = [
                {"rule": r.rule, "message": r.message} for r in cls.cel_rules
            ]
        return json_schema


def has(value: Any) -> bool:
    """CEL's ``has(self.field)`` for a parsed model: the field was given."""
    return value is not None
