"""Prometheus metrics of the notification controller (on ``weir run``'s ``/metrics``).

- ``weir_notification_events_total{result}``: events the controller saw, by what became of
  them: ``dispatched`` (to at least one Alert), ``unmatched`` (no Alert takes them),
  ``rate_limited`` (a duplicate within ``--rate-limit-interval``), ``dropped`` (the intake
  queue was full), ``standby`` (this process does not lead).
- ``weir_notification_deliveries_total{type, result}``: notifications per Provider type:
  ``sent``, ``failed`` (not retryable, or the Provider cannot send), ``retried``.
- ``weir_notification_dropped_total{type, reason}``: notifications lost: ``queue_full`` (the
  Provider's queue was full) or ``retries_exhausted``.
- ``weir_notification_queue_depth``: notifications waiting in all Provider queues.
- ``weir_notification_delivery_duration_seconds{type}``: from enqueue to sent.
- ``weir_receiver_requests_total{type, code}``: webhook calls by Receiver type and answer.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class NotificationMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events = Counter(
            "weir_notification_events",
            "Events seen by the notification controller.",
            ["result"],
            registry=r,
        )
        self.deliveries = Counter(
            "weir_notification_deliveries",
            "Notifications by Provider type and result.",
            ["type", "result"],
            registry=r,
        )
        self.dropped = Counter(
            "weir_notification_dropped",
            "Notifications lost, by Provider type and reason.",
            ["type", "reason"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "weir_notification_queue_depth", "Notifications waiting to be sent.", registry=r
        )
        self.delivery_duration = Histogram(
            "weir_notification_delivery_duration_seconds",
            "Time from an event's dispatch to its notification being sent.",
            ["type"],
            buckets=BUCKETS,
            registry=r,
        )
        self.receiver_requests = Counter(
            "weir_receiver_requests",
            "Webhook requests by Receiver type and HTTP status.",
            ["type", "code"],
            registry=r,
        )
