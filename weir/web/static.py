"""The single-page UI bundle (``weir/web/static``, built from ``ui/`` by
``scripts/build-ui.sh``): files as they are, ``index.html`` for every other path (the UI's own
routes, deep links), with ``<base href>`` set to the base path so the relative asset URLs of
the bundle resolve under any prefix.

Hashed assets (``assets/*``) are cached for a year; ``index.html`` never."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

PACKAGE_STATIC = Path(__file__).parent / "static"
_BASE = re.compile(r'<base href="[^"]*"\s*/?>')
MISSING = """<!doctype html><html><head><meta charset="utf-8"><title>weir</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>weir</h1><p>The UI bundle is not built. Run <code>scripts/build-ui.sh</code> (needs
Node.js 20.19+), then reload. The JSON API is served at
<a href="{base}/api/openapi.json">{base}/api/openapi.json</a>.</p></body></html>"""


class StaticUI:
    """Serves the bundle under ``base_path``."""

    def __init__(self, directory: Path | None, base_path: str) -> None:
        self.directory = (directory or PACKAGE_STATIC).resolve()
        self.base_path = base_path
        self._index: str | None = None

    def index_html(self) -> str:
        if self._index is None:
            index = self.directory / "index.html"
            if not index.is_file():
                return MISSING.replace("{base}", self.base_path)
            text = index.read_text()
            tag = f'<base href="{self.base_path}/">'
            self._index = (
                _BASE.sub(tag, text, count=1)
                if _BASE.search(text)
                else text.replace("<head>", f"<head>{tag}", 1)
            )
        return self._index

    def _file(self, relative: str) -> Path | None:
        if not relative or relative.startswith(".") or "/." in relative:
            return None
        path = (self.directory / relative).resolve()
        if not path.is_relative_to(self.directory) or not path.is_file():
            return None
        return path

    async def serve(self, request: Request) -> Response:
        relative = request.path_params.get("path", "")
        path = self._file(relative)
        if path is not None and path.name != "index.html":
            cache = (
                "public, max-age=31536000, immutable"
                if relative.startswith("assets/")
                else "no-cache"
            )
            media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return FileResponse(path, media_type=media, headers={"Cache-Control": cache})
        if relative.startswith(("assets/", "api/")):
            return Response("not found", status_code=404, media_type="text/plain")
        return HTMLResponse(self.index_html(), headers={"Cache-Control": "no-cache"})
