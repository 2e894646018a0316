"""JSON responses encoded with orjson, and errors as ``{"error": message, "status": code}``."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def error(status: int, message: str) -> JSON:
    return JSON({"error": message, "status": status}, status_code=status)
