"""Structured logs: JSON lines, bound fields, redaction."""

from __future__ import annotations

import json
import logging

import pytest

from weir.runtime.logging import (
    ConsoleFormatter,
    JSONFormatter,
    configure,
    object_logger,
    redact,
)


def _record(logger: logging.Logger, handler_records: list[logging.LogRecord]) -> logging.LogRecord:
    return handler_records[-1]


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> tuple[logging.Logger, _Capture]:
    logger = logging.getLogger("weir.test.runtime-logging")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    cap = _Capture()
    logger.addHandler(cap)
    return logger, cap


def test_json_lines_carry_bound_object_fields(captured: tuple[logging.Logger, _Capture]) -> None:
    logger, cap = captured
    obj = {"metadata": {"name": "podinfo", "namespace": "apps"}, "spec": {"password": "x"}}
    olog = object_logger(logger, "Kustomization", obj).bind(revision="main@sha1:abc", none=None)
    olog.info("reconciliation finished", extra={"next": "10m0s"})
    line = json.loads(JSONFormatter().format(cap.records[-1]))
    assert line["msg"] == "reconciliation finished"
    assert line["level"] == "info"
    assert line["ts"].endswith("Z")
    assert {k: line[k] for k in ("kind", "namespace", "name", "revision", "next")} == {
        "kind": "Kustomization",
        "namespace": "apps",
        "name": "podinfo",
        "revision": "main@sha1:abc",
        "next": "10m0s",
    }
    assert "none" not in line
    assert "spec" not in line, "objects are logged by reference"
    assert "x" not in line.values()


def test_secrets_are_redacted(captured: tuple[logging.Logger, _Capture]) -> None:
    logger, cap = captured
    logger.warning(
        "fetch failed for https://bob:hunter2@git.example.com/repo.git",
        extra={
            "url": "https://bob:hunter2@git.example.com/repo.git",
            "password": "hunter2",
            "bearerToken": "abc",
            "headers": {"Authorization": "Bearer abc", "Accept": "json"},
        },
    )
    text = JSONFormatter().format(cap.records[-1])
    assert "hunter2" not in text
    assert "abc" not in text.replace("Accept", "")
    line = json.loads(text)
    assert line["url"] == "https://***@git.example.com/repo.git"
    assert line["password"] == "***"
    assert line["headers"] == {"Authorization": "***", "Accept": "json"}
    console = ConsoleFormatter().format(cap.records[-1])
    assert "hunter2" not in console


def test_exceptions_are_included(captured: tuple[logging.Logger, _Capture]) -> None:
    logger, cap = captured
    try:
        _fail("clone https://u:p@h/r failed")
    except RuntimeError:
        logger.exception("failed")
    line = json.loads(JSONFormatter().format(cap.records[-1]))
    assert "RuntimeError" in line["error"]
    assert "u:p@" not in line["error"]


def _fail(message: str) -> None:
    raise RuntimeError(message)


def test_redact_leaves_plain_urls() -> None:
    assert redact("see https://example.com/a@b") == "see https://example.com/a@b"
    assert redact("ssh://git@github.com/x") == "ssh://***@github.com/x"


def test_configure() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure("debug", "console")
        assert root.level == logging.DEBUG
        assert isinstance(root.handlers[0].formatter, ConsoleFormatter)
        configure("error", "json")
        assert root.level == logging.ERROR
        assert isinstance(root.handlers[0].formatter, JSONFormatter)
        with pytest.raises(ValueError, match="log level"):
            configure("loud")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
