"""Structured logs: JSON lines, bound fields, redaction."""

from __future__ import annotations

import ast
import json
import logging
from pathlib import Path

import pytest

from weir.log import (
    ConsoleFormatter,
    JSONFormatter,
    configure,
    kv,
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
    olog.info("reconciliation finished", extra=kv(next="10m0s"))
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
        extra=kv(
            url="https://bob:hunter2@git.example.com/repo.git",
            password="hunter2",
            bearerToken="abc",
            headers={"Authorization": "Bearer abc", "Accept": "json"},
        ),
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


def test_reserved_record_names_are_safe_fields(captured: tuple[logging.Logger, _Capture]) -> None:
    """``name``, ``msg`` and the other LogRecord attributes are ordinary fields through kv():
    a plain ``extra={"name": ...}`` raised KeyError at info level, which failed every source
    reconcile once and answered HTTP 500 to every UI action."""
    logger, cap = captured
    logger.info("stored", extra=kv(name="podinfo", msg="m", args="a", levelname="x", message="y"))
    line = json.loads(JSONFormatter().format(cap.records[-1]))
    assert (line["msg"], line["level"], line["logger"]) == ("stored", "info", logger.name)
    bound = object_logger(logger, "GitRepository", {"metadata": {"name": "repo"}})
    bound.info("stored", extra=kv(name="other", revision="main@sha1:1"))
    line = json.loads(JSONFormatter().format(cap.records[-1]))
    assert (line["name"], line["revision"]) == ("other", "main@sha1:1")


_LOG_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "critical", "log"})


def _bad_extras(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    bad = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in _LOG_METHODS:
            continue
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg == "extra" and not (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and value.func.id == "kv"
            ):
                bad.append(f"{path}:{node.lineno}")
    return bad


def test_every_log_call_passes_fields_through_kv() -> None:
    """By construction no log call can collide with a LogRecord attribute: every ``extra=`` of
    a logging call in weir, tests and bench is ``kv(...)``."""
    root = Path(__file__).resolve().parents[2]
    files = [p for d in ("weir", "tests", "bench") for p in (root / d).rglob("*.py")]
    assert len(files) > 100
    bad = [where for path in files for where in _bad_extras(path)]
    assert bad == [], f"log calls must use extra=kv(...): {bad}"
