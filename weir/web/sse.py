"""Live updates as Server-Sent Events, and the same changes for polling clients.

The stream (``GET /api/v1/stream``) sends:

- ``retry: 2000`` first (how long EventSource waits before reconnecting);
- ``hello`` (``{"head": id}``) to a new client, or ``reset`` when the id it resumes from
  (``Last-Event-ID`` header, or ``?lastEventId=`` when a page reopens the stream itself) is
  unknown or too old: the client reloads what it shows;
- ``changes`` (``{"changes": [...]}``) with the id of the last change in it, in batches of at
  most ``BATCH``;
- ``heartbeat`` (``{"head": id, "time": t}``) when nothing happened for ``heartbeat`` seconds,
  so proxies keep the connection and clients notice a dead one.

``GET /api/v1/changes?since=<id>`` answers the same question once (the polling fallback).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import orjson

from weir.web.changes import Change, ChangeLog

BATCH = 500
RETRY_MS = 2000

ChangeFilter = Callable[[list[Change]], Awaitable[list[Change]]]
"""Keeps the changes of a batch that one client may see (its user's scope)."""


def frame(event: str, data: Any, event_id: str | None = None) -> bytes:
    """One SSE message."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\n".encode() + b"data: " + orjson.dumps(data) + b"\n\n"


def _batch(log: ChangeLog, changes: list[Change], last: int | None = None) -> bytes:
    return frame(
        "changes",
        {"changes": [c.to_dict() for c in changes]},
        log.event_id(changes[-1].id if last is None else last),
    )


async def stream(
    log: ChangeLog,
    last_event_id: str | None,
    heartbeat: float,
    visible: ChangeFilter | None = None,
) -> AsyncGenerator[bytes, None]:
    """The event stream of one client (see the module docstring). With ``visible``, only the
    changes it keeps are sent; a batch it empties still moves the client's position (the
    heartbeat carries it)."""
    yield f"retry: {RETRY_MS}\n\n".encode()
    after = log.parse_id(last_event_id)
    if after is None or log.since(after, 0) is None:
        after = log.head
        kind = "reset" if last_event_id else "hello"
        yield frame(kind, {"head": log.event_id(after)}, log.event_id(after))
    while True:
        batch = log.since(after, BATCH)
        if batch is None:
            after = log.head
            yield frame("reset", {"head": log.event_id(after)}, log.event_id(after))
            continue
        if batch:
            after = batch[-1].id
            shown = await visible(batch) if visible is not None else batch
            if shown:
                yield _batch(log, shown, after)
            continue
        if log.closed:
            return
        if not await log.wait(after, heartbeat) and not log.closed:
            yield frame(
                "heartbeat", {"head": log.event_id(after), "time": time.time()}, log.event_id(after)
            )


async def poll(
    log: ChangeLog, since: str | None, limit: int = BATCH, visible: ChangeFilter | None = None
) -> dict[str, Any]:
    """``{head, reset, changes}`` for ``GET /api/v1/changes``: the changes after ``since``
    (at most ``limit``; ``head`` is the id to ask from next time), those ``visible`` keeps."""
    after = log.parse_id(since)
    batch = log.since(after, limit) if after is not None else None
    if batch is None:
        return {"head": log.event_id(log.head), "reset": True, "changes": []}
    last = batch[-1].id if batch else after
    assert last is not None
    shown = await visible(batch) if visible is not None and batch else batch
    return {
        "head": log.event_id(last),
        "reset": False,
        "changes": [c.to_dict() for c in shown],
    }
