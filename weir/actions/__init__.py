"""The operations shared by the CLI, the web UI and the MCP server, on plain dicts of the API's
JSON through :mod:`weir.kube`. Each takes a kubernetes_asyncio ``ApiClient`` first.

- :mod:`~weir.actions.objects`: kinds by name (``ks``, ``sources``, ``all``), get and list, what
  a status says (:func:`summarize`, :func:`revision`), ``--status-selector``.
- :mod:`~weir.actions.reconcile`: request a reconcile (``reconcile.fluxcd.io/requestedAt``) and
  wait for ``status.lastHandledReconcileAt``, sources first on request.
- :mod:`~weir.actions.suspend`: ``spec.suspend`` on and off (resume requests a reconcile).
- :mod:`~weir.actions.export`: clean manifests for re-applying.
- :mod:`~weir.actions.tree`: the inventory of a Kustomization/HelmRelease as a tree.
- :mod:`~weir.actions.trace`: the manager, source and revision of any object.
- :mod:`~weir.actions.events`: Events of Flux objects and the objects they manage.
- :mod:`~weir.actions.stats`: counts per kind.
- :mod:`~weir.actions.check`: cluster prerequisites.
- :mod:`~weir.actions.errors`: the errors they raise.
"""

from weir.actions.errors import (
    EXIT_TIMEOUT,
    NotManagedError,
    NotSuspendableError,
    ObjectNotFoundError,
    ReconcileFailedError,
    ReconcileTimeoutError,
    SuspendedError,
)
from weir.actions.export import clean
from weir.actions.objects import (
    get_object,
    list_objects,
    resolve_kinds,
    resource_for,
    summarize,
)
from weir.actions.reconcile import (
    REQUESTED_AT,
    ReconcileOutcome,
    reconcile,
    request_reconcile,
    wait_reconciled,
)
from weir.actions.suspend import resume, suspend

__all__ = [
    "EXIT_TIMEOUT",
    "REQUESTED_AT",
    "NotManagedError",
    "NotSuspendableError",
    "ObjectNotFoundError",
    "ReconcileFailedError",
    "ReconcileOutcome",
    "ReconcileTimeoutError",
    "SuspendedError",
    "clean",
    "get_object",
    "list_objects",
    "reconcile",
    "request_reconcile",
    "resolve_kinds",
    "resource_for",
    "resume",
    "summarize",
    "suspend",
    "wait_reconciled",
]
