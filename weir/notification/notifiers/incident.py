"""Incident and observability providers: Opsgenie, PagerDuty, Prometheus Alertmanager and
Grafana annotations, in notification-controller's formats."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from weir.notification.event import ERROR, INFO, SUMMARY, FluxEvent, is_commit_status_update
from weir.notification.http import Http
from weir.notification.notifiers.base import (
    Delivery,
    Notifier,
    name_and_description,
    sorted_metadata,
)

Payload = dict[str, Any]
_LABEL_INVALID = re.compile(r"[^a-zA-Z0-9_]")


# ------------------------------------------------------------------------------ Opsgenie
def opsgenie_payload(event: FluxEvent) -> Payload:
    """An alert (``POST /v2/alerts``): ``Kind/name`` as message, the event message as
    description, the metadata and severity as details."""
    details = dict(sorted_metadata(event))
    details["severity"] = event.severity
    return {
        "message": f"{event.kind}/{event.name}",
        "description": event.message,
        "details": details,
    }


class Opsgenie(Notifier):
    async def post(self, http: Http, delivery: Delivery) -> None:
        if is_commit_status_update(delivery.event.metadata):
            return
        headers = {"Authorization": f"GenieKey {self.config.token}"}
        await http.post(self.config.address, opsgenie_payload(delivery.event), headers=headers)


# ----------------------------------------------------------------------------- PagerDuty
def pagerduty_event(event: FluxEvent, routing_key: str) -> Payload:
    """An Events API v2 event: ``trigger`` for errors (deduplicated by the object's UID),
    ``resolve`` otherwise, so a recovery closes the incident."""
    name, description = name_and_description(event)
    out: Payload = {
        "routing_key": routing_key,
        "event_action": "trigger" if event.severity == ERROR else "resolve",
        "dedup_key": event.uid,
    }
    if event.severity == ERROR:
        out["payload"] = {
            "summary": f"{description}: {name}",
            "source": f"Flux {event.reporting_controller}",
            "severity": "error",
            "timestamp": event.timestamp,
            "component": event.name,
            "group": event.kind,
            "custom_details": {"message": event.message, "metadata": dict(event.metadata)},
        }
    return out


def pagerduty_change_event(event: FluxEvent, routing_key: str) -> Payload:
    """A change event (``/v2/change/enqueue``), for the service's timeline."""
    name, description = name_and_description(event)
    return {
        "routing_key": routing_key,
        "payload": {
            "summary": f"{description}: {name}",
            "source": f"Flux {event.reporting_controller}",
            "timestamp": event.timestamp,
            "custom_details": {"message": event.message, "metadata": dict(event.metadata)},
        },
    }


class PagerDuty(Notifier):
    async def post(self, http: Http, delivery: Delivery) -> None:
        event = delivery.event
        if is_commit_status_update(event.metadata) or event.reason == "Progressing":
            return
        parts = urlsplit(self.config.address)
        base = f"{parts.scheme}://{parts.netloc}"
        key = self.config.channel
        await http.post(f"{base}/v2/enqueue", pagerduty_event(event, key))
        if event.severity == INFO:
            await http.post(f"{base}/v2/change/enqueue", pagerduty_change_event(event, key))


# -------------------------------------------------------------------------- Alertmanager
def label_name(key: str) -> str:
    """A Prometheus label name (``[a-zA-Z_][a-zA-Z0-9_]*``) for a metadata key:
    ``app.kubernetes.io/env`` -> ``app_kubernetes_io_env``."""
    name = _LABEL_INVALID.sub("_", key)
    return f"_{name}" if name[:1].isdigit() else name


def alertmanager_payload(event: FluxEvent) -> list[Payload]:
    """One firing alert (``POST /api/v2/alerts``): the metadata as labels (names made valid)
    plus ``alertname`` (``Flux<Kind><Reason>``), ``severity``, ``reason``, ``kind``, ``name``,
    ``namespace``; the message (and summary) as annotations; ``startsAt`` the event's time."""
    metadata = dict(event.metadata)
    annotations = {"message": event.message}
    summary = metadata.pop(SUMMARY, None)
    if summary:
        annotations["summary"] = summary
    labels = {label_name(k): v for k, v in sorted(metadata.items())}
    reason = event.reason[:1].upper() + event.reason[1:]
    labels.update(
        alertname=f"Flux{event.kind}{reason}",
        severity=event.severity,
        reason=event.reason,
        kind=event.kind,
        name=event.name,
        namespace=event.namespace,
    )
    return [
        {
            "status": "firing",
            "labels": labels,
            "annotations": annotations,
            "startsAt": event.timestamp,
        }
    ]


class Alertmanager(Notifier):
    async def post(self, http: Http, delivery: Delivery) -> None:
        if is_commit_status_update(delivery.event.metadata):
            return
        headers = {"Authorization": f"Bearer {self.config.token}"} if self.config.token else {}
        await http.post(self.config.address, alertmanager_payload(delivery.event), headers=headers)


# ------------------------------------------------------------------------------- Grafana
def _epoch(timestamp: str) -> int:
    try:
        when = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return int(datetime.now(UTC).timestamp())
    return int(when.timestamp())


def grafana_payload(event: FluxEvent) -> Payload:
    """An annotation: tagged ``flux``, the reporting controller, ``key: value`` for each
    metadata entry and the object's kind, name and namespace."""
    tags = ["flux", event.reporting_controller]
    tags += [f"{k}: {v}" for k, v in sorted_metadata(event)]
    tags += [f"kind: {event.kind}", f"name: {event.name}", f"namespace: {event.namespace}"]
    return {"when": _epoch(event.timestamp), "text": event.object_display, "tags": tags}


class Grafana(Notifier):
    async def post(self, http: Http, delivery: Delivery) -> None:
        if is_commit_status_update(delivery.event.metadata):
            return
        c = self.config
        headers = {}
        if c.token:
            headers["Authorization"] = f"Bearer {c.token}"
        elif c.username and c.password:
            basic = base64.b64encode(f"{c.username}:{c.password}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        await http.post(c.address, grafana_payload(delivery.event), headers=headers)
