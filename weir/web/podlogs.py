"""The log viewer's data: the logs of a workload's pods, read as the signed-in user
(``pods/log`` ``get``, impersonated), merged by the kubelet's timestamps.

``GET /api/v1/workloads/{kind}/{namespace}/{name}/logs`` with ``pod`` and ``container`` (``*``
or absent: all), ``tailLines`` (default 500, at most 5,000 per container), ``previous`` (the
last terminated container), ``since`` (an RFC 3339 timestamp: only newer lines, how the viewer
follows: it asks again with the newest timestamp it has) and ``search`` (a substring; ``!``
in front excludes). At most :data:`MAX_STREAMS` containers are read, and at most
:data:`MAX_BYTES` per container.

The answer: ``{lines: [{time, pod, container, text}], containers: [...], errors: [...],
cursor}``; ``cursor`` is the newest timestamp, for the next ``since``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.actions.logs import Container
from weir.errors import KubeError, UsageError
from weir.kube import transport
from weir.kube.errors import ApiError
from weir.types import Obj
from weir.web.cache import ViewCache
from weir.web.workloads import raw_pods_of

DEFAULT_TAIL = 500
MAX_TAIL = 5000
MAX_STREAMS = 50
MAX_BYTES = 512 * 1024


def _containers(pods: list[Obj], pod: str | None, container: str | None) -> list[Container]:
    found = []
    for p in pods:
        meta = p.get("metadata") or {}
        if pod not in (None, "", "*") and meta.get("name") != pod:
            continue
        spec = p.get("spec") or {}
        for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
            if container not in (None, "", "*") and c.get("name") != container:
                continue
            found.append(
                Container(str(meta.get("namespace")), str(meta.get("name")), str(c.get("name")))
            )
    return found


async def _read(
    api: ApiClient, c: Container, tail: int, previous: bool, since: str | None
) -> list[tuple[str, str]]:
    params: transport.Params = {
        "container": c.name,
        "timestamps": True,
        "tailLines": None if since else tail,
        "previous": previous or None,
        "sinceTime": since,
        "limitBytes": MAX_BYTES,
    }
    async with transport.open_response(api, "GET", c.path, params=params) as resp:
        body = await resp.read()
    out = []
    for raw in body.decode(errors="replace").splitlines():
        stamp, _, text = raw.partition(" ")
        if since and stamp <= since:
            continue
        out.append((stamp, text))
    return out


def _search(pattern: str) -> Any:
    exclude = pattern.startswith("!")
    needle = pattern[1:] if exclude else pattern
    needle = needle.lower()
    return lambda text: (needle not in text.lower()) if exclude else (needle in text.lower())


async def workload_logs(
    api: ApiClient, cache: ViewCache, workload: Obj, query: Mapping[str, str]
) -> Obj:
    """See the module docstring; ``api`` acts as the user."""
    tail_text = query.get("tailLines") or str(DEFAULT_TAIL)
    if not tail_text.isdigit() or not 1 <= int(tail_text) <= MAX_TAIL:
        raise UsageError(f"tailLines: a number from 1 to {MAX_TAIL}")
    tail = int(tail_text)
    previous = query.get("previous") in ("1", "true")
    since = query.get("since") or None
    pods = await raw_pods_of(api, cache, workload)
    containers = _containers(pods, query.get("pod"), query.get("container"))
    errors = []
    if len(containers) > MAX_STREAMS:
        errors.append(f"only the first {MAX_STREAMS} of {len(containers)} containers are read")
        containers = containers[:MAX_STREAMS]
    results = await asyncio.gather(
        *(_read(api, c, tail, previous, since) for c in containers), return_exceptions=True
    )
    lines: list[dict[str, str]] = []
    for c, result in zip(containers, results, strict=True):
        if isinstance(result, ApiError | KubeError):
            errors.append(f"{c.pod}/{c.name}: {result}")
            continue
        if isinstance(result, BaseException):
            raise result
        lines.extend(
            {"time": stamp, "pod": c.pod, "container": c.name, "text": text}
            for stamp, text in result
        )
    lines.sort(key=lambda line: line["time"])
    cursor = lines[-1]["time"] if lines else since
    if query.get("search"):
        keep = _search(query["search"])
        lines = [line for line in lines if keep(line["text"])]
    return {
        "lines": lines[-MAX_TAIL:],
        "containers": [{"pod": c.pod, "container": c.name} for c in containers],
        "errors": errors,
        "cursor": cursor,
    }
