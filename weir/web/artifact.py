"""Download of a source's artifact: the tarball at ``status.artifact.url`` (served by the
source controller's artifact server), streamed through the UI so the browser needs no route to
that server. In ``weir run`` an artifact of the process's own storage is read from disk
(:mod:`weir.artifact.local`): with several replicas behind one storage address, the address may
route to a standby."""

from __future__ import annotations

import posixpath
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
from starlette.responses import FileResponse, Response, StreamingResponse

from weir.artifact.local import LocalArtifacts
from weir.web.operations import ActionError

CHUNK = 1 << 16
TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def artifact_filename(kind: str, namespace: str, name: str, artifact: Mapping[str, Any]) -> str:
    """``gitrepository-<ns>-<name>-<file>`` with only safe characters."""
    base = posixpath.basename(str(artifact.get("path") or artifact.get("url") or "artifact"))
    return _UNSAFE.sub("_", f"{kind.lower()}-{namespace}-{name}-{base}")


async def artifact_response(
    obj: Mapping[str, Any], local: LocalArtifacts | None = None
) -> Response:
    """A streaming response with the object's artifact; :class:`ActionError` (404/502) when
    it has none or the artifact server does not deliver it."""
    meta = obj.get("metadata") or {}
    artifact = (obj.get("status") or {}).get("artifact") or {}
    url = artifact.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ActionError(404, "this object has no artifact yet")
    filename = artifact_filename(
        str(obj.get("kind", "")), meta.get("namespace", ""), meta.get("name", ""), artifact
    )
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if artifact.get("digest"):
        headers["X-Artifact-Digest"] = str(artifact["digest"])
    own = local.path(url) if local is not None else None
    if own is not None:
        return FileResponse(own, media_type="application/gzip", headers=headers)
    session = aiohttp.ClientSession(timeout=TIMEOUT)
    try:
        upstream = await session.get(url)
    except (aiohttp.ClientError, TimeoutError) as e:
        await session.close()
        raise ActionError(502, f"the artifact server did not answer: {e}") from e
    if upstream.status != 200:
        upstream.release()
        await session.close()
        raise ActionError(502, f"the artifact server answered {upstream.status} for {url}")

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.content.iter_chunked(CHUNK):
                yield chunk
        finally:
            upstream.release()
            await session.close()

    length = upstream.headers.get("Content-Length")
    if length:
        headers["Content-Length"] = length
    return StreamingResponse(body(), media_type="application/gzip", headers=headers)
