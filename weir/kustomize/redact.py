"""Keep secret values and the controller's own paths out of what the controller writes.

A ``postBuild.substituteFrom`` Secret puts its values into the built objects; when the API server
refuses one (``Invalid value: "S3cr3t"``) or the substituted YAML does not parse, the error text
holds the value, and from the ``Ready`` condition it would reach Events, logs, the web UI and
MCP. :class:`Scrubber` replaces every such value -- as written, JSON-escaped, and base64-encoded
-- by ``***`` (as Flux masks secret data), and the paths of the controller's working directories
by ``<artifact>``/``<workspace>``. Values shorter than :data:`MIN_LENGTH` characters are left
alone: replacing every ``1`` or ``on`` would garble messages and hide nothing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any

MASK = "***"
MIN_LENGTH = 4


class Scrubber:
    """Secret values and host paths to remove from messages; grows during a run."""

    def __init__(self) -> None:
        self._forms: list[str] = []
        self._paths: list[tuple[str, str]] = []

    def add_secrets(self, values: Iterable[str]) -> None:
        forms = set(self._forms)
        for value in values:
            if len(value) < MIN_LENGTH:
                continue
            forms.add(value)
            forms.add(json.dumps(value)[1:-1])
            forms.add(base64.b64encode(value.encode()).decode())
        self._forms = sorted(forms, key=len, reverse=True)

    def add_path(self, path: str, label: str) -> None:
        self._paths.append((path.rstrip("/"), label))

    def __bool__(self) -> bool:
        return bool(self._forms or self._paths)

    def __call__(self, text: str) -> str:
        for path, label in self._paths:
            text = text.replace(path + "/", "").replace(path, label)
        for form in self._forms:
            text = text.replace(form, MASK)
        return text

    def conditions(self, obj: dict[str, Any]) -> None:
        """Scrub the messages of ``obj``'s status conditions in place."""
        for condition in (obj.get("status") or {}).get("conditions") or []:
            if isinstance(condition.get("message"), str):
                condition["message"] = self(condition["message"])
