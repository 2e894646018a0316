"""From an event to notifications: rate limit, match Alerts, shape, queue per Provider.

For each event (from core/v1 Events or Flux's event endpoint), in this order, as
notification-controller's event server does:

1. duplicates within ``--rate-limit-interval`` are dropped (:mod:`.ratelimit`);
2. the metadata is cleaned up (``<group>/revision`` -> ``revision``);
3. every Alert that takes the event (:mod:`.matching`; with ``--no-cross-namespace-refs``
   only Alerts in the object's namespace) gets a copy with its ``summary`` and its
   ``eventMetadata`` (which never overrides what the emitter set);
4. the copy is queued for the Alert's Provider (unless it is missing or suspended), with the
   commit status id for commit status providers.

Nothing here waits for a provider: queues are bounded and drop when full (:mod:`.queue`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from weir.log import kv
from weir.notification import commitstatus
from weir.notification.config import COMMIT_STATUS_TYPES
from weir.notification.event import SUMMARY, FluxEvent, cleanup_metadata, event_key
from weir.notification.matching import AlertFilter
from weir.notification.metrics import NotificationMetrics
from weir.notification.notifiers import Delivery
from weir.notification.queue import Job, JobSink
from weir.notification.ratelimit import RateLimiter

log = logging.getLogger("weir.notification")

Obj = dict[str, Any]
LabelsLookup = Callable[[FluxEvent], Awaitable[Mapping[str, str] | None]]

DISPATCHED, UNMATCHED, RATE_LIMITED, STANDBY = "dispatched", "unmatched", "rate_limited", "standby"


class Dispatcher:
    """See the module docstring."""

    def __init__(
        self,
        alerts: Callable[[], list[Obj]],
        providers: Callable[[str, str], Obj | None],
        queues: JobSink,
        limiter: RateLimiter,
        metrics: NotificationMetrics,
        *,
        labels_of: LabelsLookup,
        leading: Callable[[], bool] = lambda: True,
        no_cross_namespace_refs: bool = False,
    ) -> None:
        self._alerts = alerts
        self._providers = providers
        self.queues = queues
        self.limiter = limiter
        self.metrics = metrics
        self._labels_of = labels_of
        self._leading = leading
        self.no_cross_namespace_refs = no_cross_namespace_refs
        self._filters: dict[tuple[str, str], tuple[str, AlertFilter]] = {}

    async def submit(self, event: FluxEvent) -> str:
        """Handle one event; returns what became of it (see :mod:`.metrics`)."""
        result = await self._submit(event)
        self.metrics.events.labels(result).inc()
        return result

    async def _submit(self, event: FluxEvent) -> str:
        if not self._leading():
            return STANDBY
        if not self.limiter.allow(event_key(event)):
            log.debug(
                "discarding event, rate limiting duplicate events",
                extra=kv(kind=event.kind, name=event.name, namespace=event.namespace),
            )
            return RATE_LIMITED
        clean = event.with_metadata(cleanup_metadata(event))
        alerts = await self.matching_alerts(clean)
        if not alerts:
            return UNMATCHED
        log.info(
            "dispatching event",
            extra=kv(
                kind=event.kind,
                name=event.name,
                namespace=event.namespace,
                reason=event.reason,
                alerts=[f"{a['metadata']['namespace']}/{a['metadata']['name']}" for a in alerts],
            ),
        )
        for alert in alerts:
            self._dispatch(clean, alert)
        return DISPATCHED

    async def matching_alerts(self, event: FluxEvent) -> list[Obj]:
        """The Alerts that take ``event`` (metadata already cleaned up)."""
        out = []
        labels: Mapping[str, str] | None = None
        fetched = False
        for alert in self._alerts():
            flt = self._filter(alert)
            if self.no_cross_namespace_refs and event.namespace != flt.namespace:
                continue
            sources = flt.candidate_sources(event)
            if not sources:
                continue
            if any(not s.needs_labels for s in sources):
                out.append(alert)
                continue
            if not fetched:
                labels, fetched = await self._labels_of(event), True
            if labels is not None and any(s.labels_match(labels) for s in sources):
                out.append(alert)
        return out

    def _filter(self, alert: Obj) -> AlertFilter:
        meta = alert.get("metadata") or {}
        key = (str(meta.get("namespace")), str(meta.get("name")))
        version = f"{meta.get('uid')}/{meta.get('generation')}"
        cached = self._filters.get(key)
        if cached is None or cached[0] != version:
            cached = (version, AlertFilter.compile(alert))
            self._filters[key] = cached
            if len(self._filters) > 4096:  # deleted Alerts: start over now and then
                self._filters = {key: cached}
        return cached[1]

    def _dispatch(self, event: FluxEvent, alert: Obj) -> None:
        meta, spec = alert["metadata"], alert.get("spec") or {}
        namespace, alert_name = str(meta["namespace"]), str(meta["name"])
        provider_name = str((spec.get("providerRef") or {}).get("name") or "")
        provider = self._providers(namespace, provider_name)
        ref = f"{namespace}/{alert_name}"
        if provider is None:
            log.error(
                "failed to read provider",
                extra=kv(alert=ref, provider=f"{namespace}/{provider_name}", error="not found"),
            )
            return
        pspec = provider.get("spec") or {}
        if pspec.get("suspend") is True:
            return
        metadata = dict(event.metadata)
        if spec.get("summary"):
            metadata[SUMMARY] = str(spec["summary"])
        for key, value in (spec.get("eventMetadata") or {}).items():
            if key in metadata:
                log.info(
                    "metadata key found in the event, the Alert's eventMetadata does not "
                    "override it",
                    extra=kv(alert=ref, key=key),
                )
                continue
            metadata[str(key)] = str(value)
        shaped = event.with_metadata(metadata)
        kind = str(pspec.get("type") or "")
        status_id = ""
        if kind in COMMIT_STATUS_TYPES:
            status_id, error = _commit_status(shaped, provider, alert)
            if error:
                log.error(
                    "failed to compute the commit status",
                    extra=kv(alert=ref, provider=provider_name, error=error),
                )
                return
        self.queues.submit(
            Job(
                namespace=namespace,
                provider=provider_name,
                type=kind,
                delivery=Delivery(shaped, status_id),
                alert=ref,
            )
        )


def _commit_status(event: FluxEvent, provider: Obj, alert: Obj) -> tuple[str, str]:
    """(the commit status id, "") or ("", the error)."""
    pspec = provider.get("spec") or {}
    expr = pspec.get("commitStatusExpr")
    if not expr:
        uid = str((provider.get("metadata") or {}).get("uid") or "")
        return commitstatus.default_commit_status(uid, event.kind, event.name), ""
    try:
        return commitstatus.evaluate(str(expr), event.to_json(), provider, alert), ""
    except commitstatus.CommitStatusExpressionError as e:
        return "", str(e)
