"""Shaping tool results for a model's context: YAML text plus the same data as structured
content, field selection, and hard caps with an explicit "truncated" marker.

Tools bound their own output first (``limit``, ``tail_lines``, ...); :func:`respond` is the last
line of defence: text longer than the server's ``max_output`` is cut, and the structured
content is then replaced by a note saying so (it cannot be cut and stay valid).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from mcp_types import CallToolResult, TextContent

from weir import yamlio
from weir.errors import UsageError
from weir.types import Obj

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MESSAGE_LIMIT = 400
"""Characters of a condition or Event message kept in summaries."""


def jsonable(data: Any) -> Any:
    """``data`` as plain JSON types (dates and other objects become strings)."""
    return orjson.loads(orjson.dumps(data, default=str))


def respond(data: Mapping[str, Any], max_output: int, *, text: str | None = None) -> CallToolResult:
    """A tool result: ``text`` (default: ``data`` as YAML) and ``data`` as structured content,
    both capped at ``max_output`` characters."""
    plain = jsonable(dict(data))
    body = text if text is not None else yamlio.dump(plain)
    structured: Obj = plain
    if len(body) > max_output:
        total = len(body)
        body = (
            body[:max_output]
            + f"\n... truncated: {max_output} of {total} characters shown; narrow the request "
            "(fields=, limit=, a namespace or a label selector)\n"
        )
        structured = {
            "truncated": True,
            "shownCharacters": max_output,
            "totalCharacters": total,
            "hint": "narrow the request (fields=, limit=, a namespace or a label selector)",
        }
    elif len(orjson.dumps(plain)) > 2 * max_output:
        structured = {"truncated": True, "hint": "the text content holds the result"}
    return CallToolResult(
        content=[TextContent(type="text", text=body)], structured_content=structured
    )


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def tidy(obj: Mapping[str, Any]) -> Obj:
    """A copy without ``managedFields`` and the last-applied annotation (both large and
    redundant; the annotation also holds every value of the object, Secret data included)."""
    out = dict(obj)
    meta = out.get("metadata")
    if isinstance(meta, Mapping):
        meta = {k: v for k, v in meta.items() if k != "managedFields"}
        annotations = meta.get("annotations")
        if isinstance(annotations, Mapping) and LAST_APPLIED in annotations:
            kept = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
            if kept:
                meta["annotations"] = kept
            else:
                meta.pop("annotations")
        out["metadata"] = meta
    return out


# ------------------------------------------------------------------------- field selection
_TOKEN = re.compile(r"""\.?([^.\[\]]+)|\[(\*|-?\d+)\]|\[['"]([^'"]+)['"]\]""")


class FieldPathError(UsageError):
    """A ``fields`` entry that is not a path."""


def parse_path(path: str) -> list[str | int]:
    """``spec.containers[0].image``, ``metadata.labels['app.kubernetes.io/name']``,
    ``status.conditions[*].type`` (kubectl's ``{.a.b}`` and a leading ``.`` are accepted) ->
    keys, indexes and ``"*"``."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    text = text.lstrip(".")
    parts: list[str | int] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise FieldPathError(
                f"field path {path!r} does not parse at position {pos}: use dotted keys, [n], "
                "[*] or ['key.with.dots'], e.g. status.conditions[*].type"
            )
        key, index, quoted = match.groups()
        if key is not None:
            parts.append(key)
        elif quoted is not None:
            parts.append(quoted)
        elif index == "*":
            parts.append("*")
        else:
            parts.append(int(index))
        pos = match.end()
    if not parts:
        raise FieldPathError(f"empty field path {path!r}: name a field, e.g. status.conditions")
    return parts


def _walk(node: Any, parts: Sequence[str | int]) -> Any:
    if not parts:
        return node
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(node, list):
            return [_walk(item, rest) for item in node]
        if isinstance(node, Mapping):
            return {k: _walk(v, rest) for k, v in node.items()}
        return None
    if isinstance(head, int):
        if isinstance(node, list) and -len(node) <= head < len(node):
            return _walk(node[head], rest)
        return None
    if isinstance(node, Mapping):
        return _walk(node.get(head), rest) if head in node else None
    return None


def select(obj: Mapping[str, Any], paths: Iterable[str]) -> Obj:
    """``{path: value}`` for each path (None where the object has nothing there)."""
    return {path: _walk(obj, parse_path(path)) for path in paths}
