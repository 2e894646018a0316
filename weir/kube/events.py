"""Kubernetes Events about the objects weir reconciles.

We write **core/v1** Events, the kind ``kubectl describe`` and ``kubectl events`` show and Flux's
controllers emit: ``source.component`` and ``reportingComponent`` name the controller,
``reportingInstance`` the process, and metadata annotations carry extra data such as the
revision (``<group>/revision``); the object's own ``event.toolkit.fluxcd.io/<key>`` annotations
are added to every Event about it (Flux 2.5: they reach the notification controller's Alerts as
event metadata). A repeat of the same event (same object, type, reason, message
and annotations) within ``window`` seconds does not create a new Event: it bumps ``count`` and
``lastTimestamp`` of the existing one, as client-go's event correlator does.

Recording is best effort: failures are logged, never raised into the reconciler.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.errors import KubeError
from weir.kube import apply
from weir.kube.errors import NotFoundError
from weir.kube.resources import ResourceRef
from weir.log import kv
from weir.types import Obj

log = logging.getLogger(__name__)

EVENTS = ResourceRef("", "v1", "events", True, "Event")
NORMAL, WARNING = "Normal", "Warning"
MAX_MESSAGE = 16 * 1024
DEFAULT_WINDOW = 600.0
MAX_TRACKED = 4096
EVENT_ANNOTATION_PREFIX = "event.toolkit.fluxcd.io/"


def now_rfc3339() -> str:
    """The current time as a ``metav1.Time`` (seconds, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def involved_object(obj: Obj) -> dict[str, Any]:
    """The ``involvedObject`` reference of an object."""
    meta = obj.get("metadata") or {}
    ref = {
        "apiVersion": obj.get("apiVersion", ""),
        "kind": obj.get("kind", ""),
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
        "uid": meta.get("uid", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    return {k: v for k, v in ref.items() if v}


@dataclass
class _Seen:
    name: str
    namespace: str
    count: int
    at: float  # monotonic time of the last emission
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class EventRecorder:
    """Emits core/v1 Events as ``component`` (e.g. ``kustomize-controller``)."""

    def __init__(
        self,
        api: ApiClient,
        component: str,
        *,
        instance: str | None = None,
        window: float = DEFAULT_WINDOW,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        self.api = api
        self.component = component
        self.instance = instance or socket.gethostname()
        self.window = window
        self._max_tracked = max_tracked
        self._seen: OrderedDict[tuple[Any, ...], _Seen] = OrderedDict()

    async def normal(
        self, obj: Obj, reason: str, message: str, annotations: Mapping[str, str] | None = None
    ) -> Obj | None:
        return await self.event(obj, NORMAL, reason, message, annotations)

    async def warning(
        self, obj: Obj, reason: str, message: str, annotations: Mapping[str, str] | None = None
    ) -> Obj | None:
        return await self.event(obj, WARNING, reason, message, annotations)

    async def event(
        self,
        obj: Obj,
        event_type: str,
        reason: str,
        message: str,
        annotations: Mapping[str, str] | None = None,
    ) -> Obj | None:
        """Record an event about ``obj``; returns the Event as stored, or None if that failed."""
        if event_type not in (NORMAL, WARNING):
            raise ValueError(f"event type must be {NORMAL} or {WARNING}, not {event_type!r}")
        message = message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "..."
        ref = involved_object(obj)
        ann = dict(annotations or {})
        for key, value in ((obj.get("metadata") or {}).get("annotations") or {}).items():
            if key.startswith(EVENT_ANNOTATION_PREFIX):
                ann.setdefault(key, str(value))
        key = (
            ref.get("uid") or (ref.get("kind"), ref.get("namespace"), ref.get("name")),
            event_type,
            reason,
            message,
            tuple(sorted(ann.items())),
        )
        seen = self._track(key, ref)
        async with seen.lock:
            try:
                if seen.count > 0 and time.monotonic() - seen.at < self.window:
                    try:
                        return await self._bump(seen)
                    except NotFoundError:  # expired (event TTL) or deleted: start a new one
                        pass
                return await self._create(
                    seen,
                    ref=ref,
                    event_type=event_type,
                    reason=reason,
                    message=message,
                    annotations=ann,
                )
            except KubeError as e:
                log.warning("cannot record event: %s", e, extra=kv(reason=reason))
                return None

    def _track(self, key: tuple[Any, ...], ref: dict[str, Any]) -> _Seen:
        seen = self._seen.get(key)
        if seen is None:
            ns = ref.get("namespace") or "default"
            seen = self._seen[key] = _Seen(name="", namespace=ns, count=0, at=0.0)
            while len(self._seen) > self._max_tracked:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(key)
        return seen

    async def _bump(self, seen: _Seen) -> Obj:
        body = {"count": seen.count + 1, "lastTimestamp": now_rfc3339()}
        result = await apply.patch(self.api, EVENTS, seen.namespace, seen.name, body)
        seen.count += 1
        seen.at = time.monotonic()
        return result

    async def _create(
        self,
        seen: _Seen,
        *,
        ref: dict[str, Any],
        event_type: str,
        reason: str,
        message: str,
        annotations: dict[str, str],
    ) -> Obj:
        now = now_rfc3339()
        name = f"{ref.get('name', 'unknown')}.{time.time_ns():x}"
        metadata: dict[str, Any] = {"name": name, "namespace": seen.namespace}
        if annotations:
            metadata["annotations"] = annotations
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": metadata,
            "involvedObject": ref,
            "type": event_type,
            "reason": reason,
            "message": message,
            "source": {"component": self.component},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "reportingComponent": self.component,
            "reportingInstance": self.instance,
        }
        result = await apply.create(self.api, EVENTS, body)
        seen.name, seen.count, seen.at = name, 1, time.monotonic()
        log.debug("event recorded", extra=kv(reason=reason, event=name))
        return result
