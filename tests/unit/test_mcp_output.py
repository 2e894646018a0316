"""Shaping tool results: field paths, selection, caps with a marker, tidy objects."""

from __future__ import annotations

from typing import Any

import pytest
from mcp_types import TextContent

from weir.mcp.output import FieldPathError, clip, parse_path, respond, select, tidy

POD: dict[str, Any] = {
    "metadata": {
        "name": "web-0",
        "labels": {"app.kubernetes.io/name": "web", "tier": "front"},
        "managedFields": [{"manager": "x"}],
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
    },
    "spec": {"containers": [{"name": "main", "image": "a:1"}, {"name": "side", "image": "b:2"}]},
    "status": {"conditions": [{"type": "Ready", "status": "True"}]},
}


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("spec.replicas", ["spec", "replicas"]),
        (".spec.containers[0].image", ["spec", "containers", 0, "image"]),
        ("{.status.conditions[*].type}", ["status", "conditions", "*", "type"]),
        (
            "metadata.labels['app.kubernetes.io/name']",
            ["metadata", "labels", "app.kubernetes.io/name"],
        ),
        ("items[-1]", ["items", -1]),
    ],
)
def test_parse_path(path: str, parts: list[str | int]) -> None:
    assert parse_path(path) == parts


@pytest.mark.parametrize("path", ["", "spec..x[", "a[b"])
def test_bad_paths_say_how_to_write_them(path: str) -> None:
    with pytest.raises(FieldPathError, match=r"field path|empty field path"):
        parse_path(path)


def test_select_paths_wildcards_and_missing_fields() -> None:
    got = select(
        POD,
        [
            "spec.containers[*].image",
            "metadata.labels['app.kubernetes.io/name']",
            "status.conditions[0].status",
            "spec.containers[5].image",
            "spec.nothing.here",
            "metadata.labels.*",
        ],
    )
    assert got == {
        "spec.containers[*].image": ["a:1", "b:2"],
        "metadata.labels['app.kubernetes.io/name']": "web",
        "status.conditions[0].status": "True",
        "spec.containers[5].image": None,
        "spec.nothing.here": None,
        "metadata.labels.*": {"app.kubernetes.io/name": "web", "tier": "front"},
    }


def test_tidy_drops_managed_fields_and_last_applied() -> None:
    out = tidy(POD)
    assert "managedFields" not in out["metadata"]
    assert "annotations" not in out["metadata"]
    assert "managedFields" in POD["metadata"]  # the input is not changed


def test_respond_gives_yaml_text_and_structured_content() -> None:
    result = respond({"name": "x", "log": "line 1\nline 2\n"}, 10_000)
    assert result.structured_content == {"name": "x", "log": "line 1\nline 2\n"}
    body = result.content[0]
    assert isinstance(body, TextContent)
    assert "log: |" in body.text


def test_respond_cuts_long_output_with_a_marker() -> None:
    result = respond({"items": ["x" * 100] * 100}, 2048)
    body = result.content[0]
    assert isinstance(body, TextContent)
    assert len(body.text) < 2300
    assert "truncated: 2048 of" in body.text
    assert result.structured_content is not None
    assert result.structured_content["truncated"] is True


def test_clip() -> None:
    assert clip("abc", 5) == "abc"
    assert clip("abcdef", 5) == "abcd…"
