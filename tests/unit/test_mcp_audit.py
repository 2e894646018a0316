"""The tool-call log: one JSON record per call, arguments sanitized, never a secret value."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from weir.mcp.audit import CallLog, sanitize

MANIFEST = """apiVersion: v1
kind: Secret
metadata: {name: db, namespace: prod}
stringData: {password: hunter2-long}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
"""


def test_manifests_are_summarized_and_secret_keys_redacted() -> None:
    out = sanitize(
        {
            "manifest": MANIFEST,
            "name": "db",
            "api_token": "abc",
            "continue_token": None,
            "url": "https://user:pa55@git.example.com/repo",
            "fields": ["data", "x" * 500],
        }
    )
    assert out["manifest"] == {
        "objects": ["Secret/prod/db", "ConfigMap/cfg"],
        "chars": len(MANIFEST),
    }
    assert out["api_token"] == "***"
    assert out["continue_token"] is None
    assert out["url"] == "https://***@git.example.com/repo"
    assert out["fields"][0] == "data"
    assert len(out["fields"][1]) <= 201
    assert sanitize({"manifest": "kind: [x"})["manifest"]["objects"] == ["<unparsable YAML>"]


def test_records_go_to_the_logger_and_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "calls.jsonl"
    calls = CallLog("alice (groups ops)", read_only=True, path=str(path))
    with caplog.at_level(logging.INFO, logger="weir.mcp.calls"):
        calls.record(
            "apply_manifest", {"manifest": MANIFEST}, error=None, duration=0.01234, result_chars=7
        )
        calls.record(
            "get_resource", {"kind": "x"}, error="boom https://u:p@h/x", duration=1, result_chars=0
        )
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["tool"] for r in lines] == ["apply_manifest", "get_resource"]
    first, second = lines
    assert first["outcome"] == "ok"
    assert first["durationMs"] == 12.3
    assert first["readOnly"] is True
    assert first["identity"] == "alice (groups ops)"
    assert second["outcome"] == "error"
    assert second["error"] == "boom https://***@h/x"
    assert "hunter2" not in path.read_text()
    assert [r.getMessage() for r in caplog.records] == ["tool call", "tool call"]
