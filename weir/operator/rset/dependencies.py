"""``spec.dependsOn`` of a ResourceSet, as the Flux Operator checks it.

Each entry names any object (``apiVersion``, ``kind``, ``name``, ``namespace`` defaulting to
the ResourceSet's). The object must exist; with ``ready: true`` it must also be ready: its
kstatus is Current, or, with ``readyExpr``, the CEL expression (over the object's top-level
fields: ``metadata``, ``spec``, ``status``, ``data``, ...) is true. An expression that does not
parse is terminal (``InvalidCELExpression``); one that cannot be evaluated yet (a field not
written) counts as not ready. Dependencies are read from the API server on each check (not
from a cache: they may be of any kind), and an unmet one is re-checked every 5s
(``--requeue-dependency``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cel
from kubernetes_asyncio.client import ApiClient

from weir.api.resourceset import Dependency
from weir.kube import apply as kube
from weir.kube import kstatus
from weir.kube.errors import ApiError, NotFoundError, UnknownKindError
from weir.kube.resources import mapper_for
from weir.ssa.errors import InvalidCELExpressionError


def _describe(dep: Dependency, namespace: str) -> str:
    where = f"{namespace}/" if namespace else ""
    return f"{dep.api_version}/{dep.kind}/{where}{dep.name}"


@dataclass(frozen=True)
class Checked:
    """The compiled expressions of one ResourceSet's dependencies."""

    deps: Sequence[Dependency]
    programs: Sequence[cel.Program | None]


def compile_expressions(deps: Sequence[Dependency] | None) -> Checked:
    """Compile every ``readyExpr``; raises :class:`InvalidCELExpressionError`."""
    programs: list[cel.Program | None] = []
    for dep in deps or ():
        if dep.ready and dep.ready_expr:
            try:
                programs.append(cel.compile(dep.ready_expr))
            except (ValueError, RuntimeError) as e:
                raise InvalidCELExpressionError(
                    f"failed to parse expression for dependency {dep.api_version}/{dep.kind}/"
                    f"{dep.name}: {e}"
                ) from e
        else:
            programs.append(None)
    return Checked(list(deps or ()), programs)


async def unmet(api: ApiClient, checked: Checked, namespace: str) -> str | None:
    """None when every dependency is met; else why the first is not."""
    for dep, program in zip(checked.deps, checked.programs, strict=True):
        ns = dep.namespace or namespace
        what = _describe(dep, ns)
        try:
            resource = await mapper_for(api).resolve(dep.api_version, dep.kind)
            live = await kube.get(api, resource, ns if resource.namespaced else None, dep.name)
        except (NotFoundError, UnknownKindError):
            return f"dependency {what} not found"
        except ApiError as e:
            return f"dependency {what} could not be read: {e.message or e}"
        if not dep.ready:
            continue
        if program is not None:
            try:
                ready = program.execute(dict(live)) is True
            except Exception as e:  # an unwritten field: not ready yet
                return f"dependency {what} not ready: expression '{dep.ready_expr}': {e}"
            if not ready:
                return f"dependency {what} not ready: expression '{dep.ready_expr}'"
            continue
        result = kstatus.compute(live)
        if result.status is not kstatus.Status.CURRENT:
            return f"dependency {what} not ready: status {result.status.value}"
    return None
