"""Failure Statuses become the matching ApiError subclass, with the API's message."""

from __future__ import annotations

import orjson
import pytest

from weir.errors import KubeError
from weir.kube import errors as e


def status(code: int, reason: str, message: str = "msg") -> bytes:
    return orjson.dumps(
        {"kind": "Status", "status": "Failure", "code": code, "reason": reason, "message": message}
    )


@pytest.mark.parametrize(
    ("code", "reason", "cls"),
    [
        (400, "BadRequest", e.BadRequestError),
        (401, "Unauthorized", e.UnauthorizedError),
        (403, "Forbidden", e.ForbiddenError),
        (404, "NotFound", e.NotFoundError),
        (409, "Conflict", e.ConflictError),
        (409, "AlreadyExists", e.AlreadyExistsError),
        (410, "Expired", e.GoneError),
        (422, "Invalid", e.InvalidError),
        (429, "TooManyRequests", e.TooManyRequestsError),
        (500, "InternalError", e.ServerError),
        (504, "Timeout", e.ServerError),
        (418, "Teapot", e.ApiError),
    ],
)
def test_error_class_by_status(code: int, reason: str, cls: type[e.ApiError]) -> None:
    err = e.error_for_status("GET", "/api/v1/x", e.status_from_body(code, status(code, reason)))
    assert type(err) is cls
    assert isinstance(err, KubeError)
    assert err.code == code
    assert err.reason == reason
    assert "msg" in str(err)
    assert "GET /api/v1/x" in str(err)


def test_already_exists_is_a_conflict() -> None:
    assert issubclass(e.AlreadyExistsError, e.ConflictError)


def test_non_status_body_is_kept_bounded() -> None:
    st = e.status_from_body(502, b"<html>" + b"x" * 10_000)
    err = e.error_for_status("GET", "/p", st)
    assert isinstance(err, e.ServerError)
    assert len(err.message) <= e.MAX_MESSAGE
    assert "retry later" in str(err)


def test_sync_timeout_is_a_timeout() -> None:
    assert issubclass(e.SyncTimeoutError, TimeoutError)
