"""``spec.dependsOn``: one rule for every kind that has it (Kustomization, HelmRelease, and the
operator's kinds to come), its informer index, and the requeue while a dependency is not ready.

Flux's rule: the dependency exists, has observed its generation and is ``Ready``; a kind may
add a rule of its own (a Kustomization using the same source also needs the dependency to
have applied the same revision). A ``readyExpr`` (CEL over ``self`` and ``dep``) replaces the
whole rule. A dependency in another namespace is refused with ``--no-cross-namespace-refs``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import cel

from weir.runtime import conditions, reasons
from weir.runtime.result import Result, Stalled
from weir.types import Obj

DEPENDS_INDEX = "dependsOn"
"""The informer index :func:`index_by_dependency` fills."""

Lookup = Callable[[str | None, str], Obj | None]
"""(namespace, name) -> cached object or None."""


class DependencyRef(Protocol):
    """An entry of ``spec.dependsOn`` (the pydantic models of :mod:`weir.api` fit)."""

    @property
    def name(self) -> str: ...
    @property
    def namespace(self) -> str | None: ...
    @property
    def ready_expr(self) -> str | None: ...


def index_by_dependency(obj: Obj) -> list[str]:
    """``<namespace>/<name>`` of every object in ``spec.dependsOn`` (the namespace defaults to
    the object's own)."""
    ns = (obj.get("metadata") or {}).get("namespace") or ""
    deps = (obj.get("spec") or {}).get("dependsOn") or []
    return [f"{d.get('namespace') or ns}/{d.get('name')}" for d in deps if d.get("name")]


def dependency_ready(
    obj: Obj,
    dep: Obj | None,
    ready_expr: str | None = None,
    also: Callable[[Obj], bool] | None = None,
) -> bool:
    """Whether ``dep`` lets ``obj`` proceed (see the module docstring); ``also`` is the kind's
    own extra rule. An invalid ``readyExpr`` is terminal (``InvalidCELExpression``)."""
    if dep is None:
        return False
    if ready_expr:
        try:
            return bool(cel.compile(ready_expr).execute({"self": obj, "dep": dep}))
        except Exception as e:
            raise Stalled("InvalidCELExpression", f"readyExpr {ready_expr!r}: {e}") from e
    status = dep.get("status") or {}
    if (dep.get("metadata") or {}).get("generation") != status.get("observedGeneration"):
        return False
    if not conditions.is_true(dep, reasons.READY):
        return False
    return also is None or also(dep)


@dataclass(frozen=True)
class Dependencies:
    """The dependsOn check of one kind: where dependencies are looked up and how long to wait."""

    kind: str
    lookup: Lookup
    requeue_after: float = 30.0
    """``--requeue-dependency``."""
    no_cross_namespace_refs: bool = False
    """``--no-cross-namespace-refs``."""

    def waiting(
        self,
        obj: Obj,
        deps: Iterable[DependencyRef] | None,
        *,
        revision: str | None = None,
        also: Callable[[Obj], bool] | None = None,
    ) -> Result | None:
        """None when every dependency is ready; else the ``DependencyNotReady`` requeue of the
        first that is not. Raises :class:`~weir.runtime.result.Stalled` for a refused
        cross-namespace reference or an invalid ``readyExpr``."""
        ns = (obj.get("metadata") or {}).get("namespace") or ""
        for dep in deps or ():
            dep_ns = dep.namespace or ns
            if dep_ns != ns and self.no_cross_namespace_refs:
                raise Stalled(
                    "AccessDenied",
                    f"can't access '{self.kind}/{dep_ns}/{dep.name}', cross-namespace "
                    "references have been blocked",
                )
            other = self.lookup(dep_ns, dep.name)
            if not dependency_ready(obj, other, dep.ready_expr, also):
                return Result.requeue_after(
                    self.requeue_after,
                    f"dependency '{dep_ns}/{dep.name}' is not ready",
                    reason=reasons.DEPENDENCY_NOT_READY,
                    revision=revision,
                )
        return None
