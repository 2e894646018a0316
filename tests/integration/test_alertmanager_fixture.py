"""The Alertmanager fixture against the real Alertmanager: alerts in, notifications out."""

from __future__ import annotations

import uuid

from weir.testing.alertmanager import AlertmanagerServer
from weir.testing.sink import HttpSink


def test_alerts_are_accepted_and_forwarded(
    alertmanager: AlertmanagerServer, http_sink: HttpSink
) -> None:
    name = f"Reconcile-{uuid.uuid4().hex[:8]}"
    alertmanager.post_alerts(
        [
            {
                "labels": {"alertname": name, "severity": "error", "kind": "Kustomization"},
                "annotations": {"summary": "apply failed"},
            }
        ]
    )

    held = alertmanager.alerts(alertname=name)
    assert [a["labels"]["kind"] for a in held] == ["Kustomization"]
    assert held[0]["status"]["state"] == "active"
    assert alertmanager.alerts(alertname="something-else") == []

    notification = http_sink.wait_for(lambda r: r.path == "/alertmanager")
    body = notification.json()
    assert body["status"] == "firing"
    assert [a["labels"]["alertname"] for a in body["alerts"]] == [name]
    assert body["commonAnnotations"] == {"summary": "apply failed"}
