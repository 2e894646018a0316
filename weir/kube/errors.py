"""Errors from the Kubernetes API, one class per status the callers branch on.

::

    KubeError (weir.errors)
    ├── ApiUnavailableError        transport failure: refused, reset, timed out
    ├── UnknownKindError           discovery has no resource for an apiVersion/kind
    ├── SyncTimeoutError           an informer did not finish its first list in time
    └── ApiError                   the API server answered with a failure Status
        ├── BadRequestError        400
        ├── UnauthorizedError      401
        ├── ForbiddenError         403
        ├── NotFoundError          404
        ├── ConflictError          409 (optimistic concurrency, apply field conflicts)
        │   └── AlreadyExistsError 409 reason AlreadyExists
        ├── GoneError              410 (expired resourceVersion or continue token)
        ├── InvalidError           422
        ├── TooManyRequestsError   429
        └── ServerError            5xx

:class:`ApiError` carries the API's ``Status`` (``code``, ``reason``, ``message``, ``details``).
"""

from __future__ import annotations

from typing import Any

import orjson

from weir.errors import KubeError

MAX_MESSAGE = 2000  # API messages can quote whole objects; keep errors bounded


class ApiUnavailableError(KubeError):
    """The API server could not be reached or the connection broke."""


class UnknownKindError(KubeError):
    """The API server serves no resource for an apiVersion/kind."""


class SyncTimeoutError(KubeError, TimeoutError):
    """An informer did not complete its initial list within the timeout."""


class ApiError(KubeError):
    """The API server answered with a failure ``Status``."""

    hint = ""

    def __init__(self, method: str, path: str, status: dict[str, Any]) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.code: int = int(status.get("code") or 0)
        self.reason: str = str(status.get("reason") or "")
        self.message: str = str(status.get("message") or "")[:MAX_MESSAGE]
        self.details: dict[str, Any] = status.get("details") or {}
        text = f"{method} {path}: {self.code} {self.reason or 'Failure'}: {self.message}"
        super().__init__(f"{text}; {self.hint}" if self.hint else text)


class BadRequestError(ApiError):
    hint = "the request was malformed; check the object's fields"


class UnauthorizedError(ApiError):
    hint = "check the credentials in the kubeconfig (expired token or certificate?)"


class ForbiddenError(ApiError):
    hint = "grant the missing RBAC permission to the identity named in the message"


class NotFoundError(ApiError):
    pass


class ConflictError(ApiError):
    hint = "re-read the object and retry, or force the apply if this manager should own the fields"


class AlreadyExistsError(ConflictError):
    hint = ""


class GoneError(ApiError):
    hint = "the resourceVersion expired; list again"


class InvalidError(ApiError):
    hint = "fix the object so that it passes the API server's validation"


class TooManyRequestsError(ApiError):
    hint = "the API server is throttling; retry later"


class ServerError(ApiError):
    hint = "the API server failed; retry later and check its logs"


_BY_CODE: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    422: InvalidError,
    429: TooManyRequestsError,
}


def status_from_body(code: int, body: bytes) -> dict[str, Any]:
    """The failure ``Status`` in ``body``, or a synthetic one when the body is not a Status."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("kind") == "Status":
        parsed.setdefault("code", code)
        return parsed
    text = body[:MAX_MESSAGE].decode(errors="replace").strip()
    return {"kind": "Status", "status": "Failure", "code": code, "message": text}


def error_for_status(method: str, path: str, status: dict[str, Any]) -> ApiError:
    """The :class:`ApiError` subclass matching a failure ``Status``."""
    code = int(status.get("code") or 0)
    if code == 409 and status.get("reason") == "AlreadyExists":
        return AlreadyExistsError(method, path, status)
    cls = _BY_CODE.get(code) or (ServerError if code >= 500 else ApiError)
    return cls(method, path, status)
