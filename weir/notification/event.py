"""Flux's event, as controllers send it to notification-controller and as providers receive it.

The wire format is ``fluxcd/pkg/apis/event/v1beta1.Event``::

    {"involvedObject": {"apiVersion": ..., "kind": ..., "name": ..., "namespace": ..., "uid": ...},
     "severity": "info" | "error" | "trace", "timestamp": "2024-05-01T12:00:00Z",
     "message": ..., "reason": ..., "metadata": {"<group>/revision": ...},
     "reportingController": "kustomize-controller", "reportingInstance": ...}

Metadata keys are prefixed by the API group of the involved object
(``kustomize.toolkit.fluxcd.io/revision``). :func:`cleanup_metadata` turns them into what
notifiers see (``revision``), as notification-controller does, and keeps the
``event.toolkit.fluxcd.io/<key>`` entries a user put on the object (as ``<key>``).

weir's controllers record core/v1 Events with the same data in the Event's annotations;
:meth:`FluxEvent.from_core_event` reads them back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]

INFO, ERROR, TRACE = "info", "error", "trace"
SEVERITIES = (INFO, ERROR, TRACE)

META_REVISION = "revision"
META_ORIGIN_REVISION = "originRevision"
META_TOKEN = "token"
META_CHECKSUM = "checksum"
META_DIGEST = "digest"
META_COMMIT_STATUS = "commit_status"
COMMIT_STATUS_UPDATE = "update"
"""``<group>/commit_status: update``: an event only Git commit status providers should post."""
EVENT_ANNOTATION_PREFIX = "event.toolkit.fluxcd.io/"
"""Object annotations with this prefix travel with every event about the object (Flux 2.5)."""
SUMMARY = "summary"


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class FluxEvent:
    """One event about a Flux object (see the module docstring)."""

    involved_object: Mapping[str, str]
    severity: str
    message: str
    reason: str
    reporting_controller: str
    timestamp: str = field(default_factory=now_rfc3339)
    metadata: Mapping[str, str] = field(default_factory=dict)
    reporting_instance: str = ""

    # -- the involved object ------------------------------------------------------------------
    @property
    def api_version(self) -> str:
        return str(self.involved_object.get("apiVersion", ""))

    @property
    def group(self) -> str:
        """The API group of the involved object (``kustomize.toolkit.fluxcd.io``)."""
        group, sep, _ = self.api_version.rpartition("/")
        return group if sep else ""

    @property
    def kind(self) -> str:
        return str(self.involved_object.get("kind", ""))

    @property
    def name(self) -> str:
        return str(self.involved_object.get("name", ""))

    @property
    def namespace(self) -> str:
        return str(self.involved_object.get("namespace", ""))

    @property
    def uid(self) -> str:
        return str(self.involved_object.get("uid", ""))

    @property
    def object_display(self) -> str:
        """``kustomization/podinfo.apps``: how chat notifiers name the object."""
        return f"{self.kind.lower()}/{self.name}.{self.namespace}"

    def with_metadata(self, metadata: Mapping[str, str]) -> FluxEvent:
        return replace(self, metadata=dict(metadata))

    # -- wire format ----------------------------------------------------------------------------
    def to_json(self) -> Obj:
        """The event as Flux's JSON (``generic`` providers post exactly this)."""
        out: Obj = {
            "involvedObject": {k: v for k, v in self.involved_object.items() if v},
            "severity": self.severity,
            "timestamp": self.timestamp,
            "message": self.message,
            "reason": self.reason,
        }
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        out["reportingController"] = self.reporting_controller
        if self.reporting_instance:
            out["reportingInstance"] = self.reporting_instance
        return out

    @classmethod
    def from_json(cls, data: Any) -> FluxEvent:
        """Parse Flux's JSON; raises ``ValueError`` when it is not an event."""
        if not isinstance(data, Mapping):
            raise ValueError("the event must be a JSON object")  # noqa: TRY004 - a bad body
        involved = data.get("involvedObject")
        if not isinstance(involved, Mapping) or not involved.get("kind"):
            raise ValueError("the event has no involvedObject with a kind")
        if not involved.get("name"):
            raise ValueError("the event's involvedObject has no name")
        severity = str(data.get("severity") or INFO)
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r}: use info, error or trace")
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, Mapping):
            raise ValueError("the event's metadata must be a map of strings")  # noqa: TRY004
        return cls(
            involved_object={str(k): str(v) for k, v in involved.items() if v is not None},
            severity=severity,
            message=str(data.get("message") or ""),
            reason=str(data.get("reason") or ""),
            reporting_controller=str(data.get("reportingController") or ""),
            timestamp=str(data.get("timestamp") or now_rfc3339()),
            metadata={str(k): str(v) for k, v in metadata.items()},
            reporting_instance=str(data.get("reportingInstance") or ""),
        )

    @classmethod
    def from_core_event(cls, obj: Mapping[str, Any]) -> FluxEvent | None:
        """The Flux event a core/v1 Event stands for (None when it has no involved object).

        ``Warning`` becomes severity ``error``, anything else ``info`` (Flux's recorder maps
        them the same way); the Event's annotations are the event's metadata."""
        involved = obj.get("involvedObject") or {}
        if not involved.get("kind") or not involved.get("name"):
            return None
        meta = obj.get("metadata") or {}
        source = obj.get("source") or {}
        return cls(
            involved_object={
                k: str(involved[k])
                for k in ("apiVersion", "kind", "name", "namespace", "uid")
                if involved.get(k)
            },
            severity=ERROR if obj.get("type") == "Warning" else INFO,
            message=str(obj.get("message") or ""),
            reason=str(obj.get("reason") or ""),
            reporting_controller=str(
                obj.get("reportingComponent") or source.get("component") or ""
            ),
            timestamp=str(
                obj.get("lastTimestamp")
                or obj.get("eventTime")
                or obj.get("firstTimestamp")
                or now_rfc3339()
            ),
            metadata={str(k): str(v) for k, v in (meta.get("annotations") or {}).items()},
            reporting_instance=str(obj.get("reportingInstance") or ""),
        )


def cleanup_metadata(event: FluxEvent) -> dict[str, str]:
    """What notifiers see of the metadata: ``<group>/<key>`` entries as ``<key>`` (but not
    ``checksum`` and ``digest``) and ``event.toolkit.fluxcd.io/<key>`` entries as ``<key>``.
    Other keys (annotations of other tools) are dropped, as notification-controller does."""
    group = event.group
    prefix = f"{group}/" if group else None
    excluded = {META_CHECKSUM, META_DIGEST}
    out: dict[str, str] = {}
    for key, value in event.metadata.items():
        if key.startswith(EVENT_ANNOTATION_PREFIX):
            short = key.removeprefix(EVENT_ANNOTATION_PREFIX)
            if short:
                out.setdefault(short, value)
        elif prefix and key.startswith(prefix):
            short = key.removeprefix(prefix)
            if short and short.lower() not in excluded:
                out[short] = value
    return out


def event_key(event: FluxEvent) -> str:
    """The identity of an event for rate limiting (notification-controller's ``EventKey``):
    sha256 of the involved object's name, namespace and kind, the message, and the
    ``originRevision``, ``revision`` and ``token`` metadata."""
    parts = [
        "event",
        f"name={event.name}",
        f"namespace={event.namespace}",
        f"kind={event.kind}",
        f"message={event.message}",
    ]
    group = event.group
    for key, label in (
        (META_ORIGIN_REVISION, "originRevision"),
        (META_REVISION, "revision"),
        (META_TOKEN, "token"),
    ):
        value = event.metadata.get(f"{group}/{key}")
        if value is not None:
            parts.append(f"{label}={value}")
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def is_commit_status_update(metadata: Mapping[str, str]) -> bool:
    """A cleaned-up event meant only for commit status providers."""
    return metadata.get(META_COMMIT_STATUS) == COMMIT_STATUS_UPDATE
