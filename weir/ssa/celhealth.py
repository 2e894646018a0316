"""``spec.healthCheckExprs``: health of custom resources from CEL expressions (Flux RFC-0009).

Each expression sees the object's top-level fields as variables (``status``, ``metadata``,
``spec``, ...), e.g. ``status.conditions.filter(e, e.type == 'Ready').all(e, e.status ==
'True')``. For an object:

1. ``status.observedGeneration`` present and != ``metadata.generation`` -> InProgress;
2. ``inProgress`` true -> InProgress, else ``failed`` true -> Failed, else ``current`` true ->
   Current, else InProgress.

An expression that cannot be evaluated (say it reads ``status`` before the controller wrote it)
gives Unknown with the error, and the wait goes on, as in Flux. Rules are matched on the API
group of ``apiVersion`` (the version is ignored); a rule naming the kind beats one for the whole
group. Expressions that do not parse are refused up front
(:class:`~weir.ssa.errors.InvalidCELExpressionError`, terminal).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cel

from weir.api.meta import CustomHealthCheck
from weir.kube import kstatus
from weir.kube.kstatus import Result, Status
from weir.ssa.errors import InvalidCELExpressionError


def _compile(expression: str, field: str, check: CustomHealthCheck) -> cel.Program:
    try:
        return cel.compile(expression)
    except (ValueError, RuntimeError) as e:
        target = f"{check.api_version}/{check.kind}" if check.kind else check.api_version
        raise InvalidCELExpressionError(
            f"healthCheckExprs for {target}: failed to parse the expression {field} "
            f"{expression!r}: {e}; fix the expression"
        ) from e


@dataclass(frozen=True)
class HealthExpressions:
    """The compiled expressions of one ``healthCheckExprs`` entry."""

    group: str
    kind: str | None
    current: cel.Program
    in_progress: cel.Program | None = None
    failed: cel.Program | None = None

    @classmethod
    def compile(cls, check: CustomHealthCheck) -> HealthExpressions:
        """Compile one entry; raises :class:`InvalidCELExpressionError`."""
        if not check.current:
            raise InvalidCELExpressionError(
                f"healthCheckExprs for {check.api_version}: the expression current is required"
            )
        return cls(
            group=check.api_version.rpartition("/")[0],
            kind=check.kind or None,
            current=_compile(check.current, "current", check),
            in_progress=_compile(check.in_progress, "inProgress", check)
            if check.in_progress
            else None,
            failed=_compile(check.failed, "failed", check) if check.failed else None,
        )

    def evaluate(self, obj: Mapping[str, Any]) -> Result:
        """The health of ``obj`` (see the module docstring)."""
        observed = (obj.get("status") or {}).get("observedGeneration")
        generation = (obj.get("metadata") or {}).get("generation")
        if observed is not None and generation is not None and observed != generation:
            return kstatus.in_progress(
                f"generation is {generation}, but latest observed generation is {observed}"
            )
        variables = dict(obj)
        for status, program, name in (
            (Status.IN_PROGRESS, self.in_progress, "inProgress"),
            (Status.FAILED, self.failed, "failed"),
            (Status.CURRENT, self.current, "current"),
        ):
            if program is None:
                continue
            try:
                value = program.execute(variables)
            except Exception as e:  # any evaluation error means "unknown yet"
                return Result(Status.UNKNOWN, f"failed to evaluate the {name} expression: {e}")
            if not isinstance(value, bool):
                return Result(
                    Status.UNKNOWN, f"the {name} expression gave {value!r}, not a boolean"
                )
            if value:
                return Result(status, f"healthCheckExprs: {name} is true")
        return kstatus.in_progress("healthCheckExprs: no expression is true yet")


class HealthRules:
    """kstatus plus the ``healthCheckExprs`` of a Kustomization."""

    def __init__(self, checks: Iterable[CustomHealthCheck] = ()) -> None:
        self._by_kind: dict[tuple[str, str], HealthExpressions] = {}
        self._by_group: dict[str, HealthExpressions] = {}
        for check in checks:
            compiled = HealthExpressions.compile(check)
            if compiled.kind:
                self._by_kind[(compiled.group, compiled.kind)] = compiled
            else:
                self._by_group[compiled.group] = compiled

    def expressions_for(self, obj: Mapping[str, Any]) -> HealthExpressions | None:
        """The expressions that apply to ``obj``, if any."""
        group = str(obj.get("apiVersion") or "").rpartition("/")[0]
        kind = str(obj.get("kind") or "")
        return self._by_kind.get((group, kind)) or self._by_group.get(group)

    def status(self, obj: Mapping[str, Any], *, now: datetime | None = None) -> Result:
        """The health of ``obj``: its CEL expressions when it has some, else kstatus."""
        expressions = self.expressions_for(obj)
        if expressions is not None:
            return expressions.evaluate(obj)
        return kstatus.compute(obj, now=now)
