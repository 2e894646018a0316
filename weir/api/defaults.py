"""Apply the CRD defaults to a model, as the API server does when it stores an object."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter

M = TypeVar("M", bound=BaseModel)

_NO_DEFAULT = object()


@cache
def _adapter(model: type[BaseModel], field: str) -> TypeAdapter[Any]:
    annotation = model.model_fields[field].annotation
    if annotation is None:  # pragma: no cover - every model field is annotated
        raise TypeError(f"{model.__name__}.{field} has no annotation")
    return TypeAdapter(annotation)


def crd_default_of(model: type[BaseModel], field: str) -> Any:
    """The CRD default of ``model.field`` (a wire value), or ``_NO_DEFAULT``."""
    extra = model.model_fields[field].json_schema_extra
    if isinstance(extra, dict) and "default" in extra:
        return extra["default"]
    return _NO_DEFAULT


def _fill(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return with_defaults(value)
    if isinstance(value, list):
        return [_fill(v) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v) for k, v in value.items()}
    return value


def with_defaults(model: M) -> M:
    """A copy of ``model`` with every absent field that has a CRD default set to it, in the
    objects that are present (an absent ``spec.verify`` stays absent; a present one gets its
    ``mode``). Values are validated like parsed ones."""
    update: dict[str, Any] = {}
    cls = type(model)
    for name in cls.model_fields:
        value = getattr(model, name)
        if value is None:
            default = crd_default_of(cls, name)
            if default is not _NO_DEFAULT:
                update[name] = _fill(_adapter(cls, name).validate_python(default))
        else:
            filled = _fill(value)
            if filled is not value:
                update[name] = filled
    return model.model_copy(update=update) if update else model
