"""Post-build variable substitution (``spec.postBuild``), per object, on its YAML text, as Flux.

For each built object (:class:`~weir.kustomize.build.Manifest`):

- objects labelled or annotated ``kustomize.toolkit.fluxcd.io/substitute: disabled`` (exactly
  that value, case-sensitive as in Flux) are left alone;
- with strategy ``WithVariables`` (the default) nothing happens unless at least one variable is
  defined; ``Always`` substitutes even then (manifests using only defaults);
- the object's YAML text is expanded (:func:`weir.kustomize.envsubst.expand`) and parsed again,
  so substituted values are re-typed by YAML: ``replicas: ${N}`` becomes a number.

Variable names must match ``^[_[:alpha:]][_[:alpha:][:digit:]]*$``. Strictness (Flux's
``StrictPostBuildSubstitutions`` feature gate) is the ``strict`` argument, on by default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from weir import yamlio
from weir.kustomize.build import Manifest, objects_digest
from weir.kustomize.envsubst import UndefinedVariableError, expand
from weir.kustomize.errors import SubstitutionError

SUBSTITUTE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
DISABLED = "disabled"
VAR_NAME = re.compile(r"^[_A-Za-z][_A-Za-z0-9]*$")

Strategy = Literal["WithVariables", "Always"]


@dataclass(frozen=True)
class SubstituteSettings:
    """Controller-wide substitution settings (feature gates, resolved once at start-up)."""

    strict: bool = True
    """Flux's ``StrictPostBuildSubstitutions``: an undefined variable without a default fails
    the build instead of expanding to an empty string."""


def substitution_disabled(obj: Mapping[str, Any]) -> bool:
    """True when the object opts out with ``kustomize.toolkit.fluxcd.io/substitute: disabled``."""
    meta = obj.get("metadata") or {}
    return any(
        (meta.get(field) or {}).get(SUBSTITUTE_KEY) == DISABLED
        for field in ("labels", "annotations")
    )


def validate_names(variables: Iterable[str]) -> None:
    """Refuse variable names Flux refuses."""
    for name in variables:
        if not VAR_NAME.match(name):
            raise SubstitutionError(
                f"'{name}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$': "
                "rename the key in postBuild.substitute or the ConfigMap/Secret"
            )


def _hint(error: SubstitutionError) -> str:
    if isinstance(error, UndefinedVariableError):
        return (
            f"define {error.name} in postBuild.substitute or substituteFrom, give it a default "
            f"(${{{error.name}:=value}}), or write $${{{error.name}}} for a literal"
        )
    return "fix the ${...} expression, or write $$ for a literal $"


def substitute_manifest(
    manifest: Manifest,
    variables: Mapping[str, str],
    *,
    strict: bool = True,
    always: bool = False,
) -> dict[str, Any]:
    """The object of ``manifest`` with variables substituted (the parsed object unchanged when
    substitution does not apply to it)."""
    if substitution_disabled(manifest.object) or not (variables or always):
        return manifest.object
    try:
        text = expand(manifest.text, variables, strict=strict)
    except SubstitutionError as e:
        raise SubstitutionError(
            f"post build failed for '{manifest.display}': variable substitution failed: {e}; "
            f"{_hint(e)}"
        ) from e
    try:
        obj = yamlio.load(text)
    except yamlio.YAMLError as e:
        raise SubstitutionError(
            f"post build failed for '{manifest.display}': the substituted YAML does not parse: "
            f"{e}; quote values that contain YAML syntax"
        ) from e
    if not isinstance(obj, dict):
        raise SubstitutionError(
            f"post build failed for '{manifest.display}': substitution left no object"
        )
    return obj


def substitute_all(
    manifests: Iterable[Manifest],
    variables: Mapping[str, str],
    *,
    strict: bool = True,
    strategy: Strategy | None = None,
) -> list[dict[str, Any]]:
    """Every manifest's object after substitution (see the module docstring)."""
    validate_names(variables)
    always = strategy == "Always"
    return [substitute_manifest(m, variables, strict=strict, always=always) for m in manifests]


def substitute_job(
    manifests: list[Manifest], variables: dict[str, str], strict: bool, strategy: Strategy | None
) -> tuple[list[dict[str, Any]], str]:
    """:func:`substitute_all` as a build-worker job (:mod:`weir.kustomize.pool`): the objects
    and their history digest."""
    objects = substitute_all(manifests, variables, strict=strict, strategy=strategy)
    return objects, objects_digest(objects)
