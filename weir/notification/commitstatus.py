"""The id of a Git commit status (GitHub's ``context``, GitLab's ``name``, ...).

By default ``<kind>/<name>/<first block of the Provider's UID>``, lower case
(``kustomization/apps/8a2c1b3e``): unique per object and per cluster. A Provider's
``commitStatusExpr`` (Flux 2.6) replaces it with a CEL expression over ``event`` (the event as
notifiers get it), ``provider`` and ``alert`` (the objects), e.g.
``event.involvedObject.kind + '/' + event.involvedObject.name + '/' + event.metadata.cluster``.
The CEL string extensions (``lowerAscii()``, ``replace()``, ``split()``, ...) are available.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cel
from cel import stdlib

from weir.errors import ConfigError


class CommitStatusExpressionError(ConfigError):
    """A ``commitStatusExpr`` that does not compile or does not give a string."""


def default_commit_status(provider_uid: str, kind: str, name: str) -> str:
    return f"{kind}/{name}/{provider_uid.split('-', maxsplit=1)[0]}".lower()


def compile_expression(expression: str) -> cel.Program:
    try:
        return cel.compile(expression)
    except (ValueError, RuntimeError) as e:
        raise CommitStatusExpressionError(
            f"spec.commitStatusExpr {expression!r} does not compile: {e}; fix the expression"
        ) from e


def evaluate(
    expression: str,
    event: Mapping[str, Any],
    provider: Mapping[str, Any],
    alert: Mapping[str, Any],
) -> str:
    """The commit status id ``expression`` gives; raises
    :class:`CommitStatusExpressionError`."""
    program = compile_expression(expression)
    context = cel.Context({"event": dict(event), "provider": dict(provider), "alert": dict(alert)})
    stdlib.add_stdlib_to_context(context)
    try:
        value = program.execute(context)
    except Exception as e:  # the library raises several types for evaluation errors
        raise CommitStatusExpressionError(
            f"spec.commitStatusExpr {expression!r} failed: {e}"
        ) from e
    if not isinstance(value, str) or not value:
        raise CommitStatusExpressionError(
            f"spec.commitStatusExpr {expression!r} gave {value!r}, not a non-empty string"
        )
    return value
