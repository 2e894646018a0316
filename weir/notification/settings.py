"""The notification controller's settings (notification-controller's flags and the limits of
its queues)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NotificationSettings:
    """notification-controller's flags and the limits of its queues."""

    receiver_addr: str = "127.0.0.1:9292"
    """Address of the webhook receiver server (``--receiver-addr``, Flux's ``--receiverAddr``;
    Flux binds ``:9292``, weir binds loopback unless told otherwise; ``0`` disables it)."""
    events_addr: str = "0"
    """Address of Flux's event endpoint, where Flux's own controllers can POST their events
    (``--events-addr``; Flux binds ``:9090``; ``0``, the default, disables it: weir's controllers
    reach the notification controller through core/v1 Events)."""
    rate_limit_interval: float = 300.0
    """Duplicate events (same object, message and revision) are dropped within this window
    (``--rate-limit-interval``, Flux's 5m)."""
    no_cross_namespace_refs: bool = False
    """Alerts take events, and Receivers annotate objects, only in their own namespace
    (``--no-cross-namespace-refs``)."""
    queue_size: int = 256
    """Notifications waiting per Provider; beyond it new ones are dropped (metric + log)."""
    max_retries: int = 4
    """Retries of a failed delivery (connection error, 429 or 5xx), like Flux's HTTP client."""
    retry_wait_min: float = 2.0
    """First delay between retries, doubled each time (seconds)."""
    retry_wait_max: float = 30.0
    """Longest delay between retries (seconds)."""
    default_timeout: float = 15.0
    """Timeout of one delivery attempt when ``spec.timeout`` is empty (Flux's 15s)."""
    max_webhook_body: int = 4 << 20
    """Largest webhook payload a Receiver reads (bytes); larger ones get 413."""
