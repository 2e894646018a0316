"""Errors of the shared operations. Each says what went wrong and what to do next.

::

    WeirError
    ├── UsageError
    │   └── NotSuspendableError     the kind has no spec.suspend
    └── KubeError
        ├── ObjectNotFoundError     the object (or its CRD) does not exist
        ├── SuspendedError          reconcile asked of a suspended object
        ├── NotManagedError         trace of an object no Kustomization/HelmRelease manages
        ├── ReconcileFailedError    the controller handled the request; Ready is False
        └── ReconcileTimeoutError   the controller did not finish in time (exit code 3)
"""

from __future__ import annotations

from weir.errors import KubeError, UsageError

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3


class ObjectNotFoundError(KubeError):
    """The object asked for does not exist (or its kind is not served)."""


class SuspendedError(KubeError):
    """A reconcile was asked of a suspended object. The message says how to resume it with the
    CLI; other front ends build their own from ``kind``, ``namespace`` and ``name`` (the MCP
    server names its ``resume`` tool)."""

    def __init__(
        self, message: str, *, kind: str = "", namespace: str = "", name: str = ""
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.namespace = namespace
        self.name = name


class NotSuspendableError(UsageError):
    """The kind cannot be suspended."""


class NotManagedError(KubeError):
    """No Kustomization or HelmRelease manages the object."""


class ReconcileFailedError(KubeError):
    """The controller handled the request and reported Ready=False (or Stalled)."""

    exit_code = EXIT_FAILED


class ReconcileTimeoutError(KubeError, TimeoutError):
    """The controller did not handle the request, or did not finish, within the timeout."""

    exit_code = EXIT_TIMEOUT
