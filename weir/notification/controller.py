"""The notification controller ``weir run`` starts (``--controllers=notification``; Flux's
``notification-controller`` component): Provider, Alert and Receiver reconcilers, and the
services behind them.

- **Alerts out**: a watch on core/v1 Events (:mod:`.eventsource`) and, with
  ``--events-addr``, Flux's event endpoint (:mod:`.eventserver`) feed the :mod:`.dispatch`er
  through a bounded intake queue; notifications wait in bounded per-Provider queues
  (:mod:`.queue`). Only the leader dispatches.
- **Webhooks in**: the receiver server on ``--receiver-addr`` (:mod:`.receiver.server`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.api.kinds import KINDS, lookup
from weir.errors import WeirError
from weir.kube import apply
from weir.kube.resources import mapper_for
from weir.log import kv
from weir.notification import config as provider_config
from weir.notification.dispatch import Dispatcher
from weir.notification.event import FluxEvent
from weir.notification.eventserver import EventServer
from weir.notification.eventsource import CoreEventSource
from weir.notification.metrics import NotificationMetrics
from weir.notification.queue import ProviderQueues
from weir.notification.ratelimit import RateLimiter
from weir.notification.receiver.resources import ResourceRequester
from weir.notification.receiver.server import ReceiverHandler, ReceiverServer
from weir.notification.reconcilers import (
    AlertReconciler,
    ProviderReconciler,
    ReceiverReconciler,
)
from weir.notification.settings import NotificationSettings
from weir.runtime.controller import Controller, object_key
from weir.runtime.factories import ControllerContext, build_controller

log = logging.getLogger("weir.notification")

Obj = dict[str, Any]
COMPONENT = "notification-controller"
PROVIDER_INDEX = "providerRef"
INTAKE_SIZE = 1024


def index_by_provider(obj: Obj) -> list[str]:
    """``<namespace>/<providerRef.name>`` of an Alert."""
    name = ((obj.get("spec") or {}).get("providerRef") or {}).get("name")
    return [f"{obj['metadata'].get('namespace', '')}/{name}"] if name else []


class LabelsLookup:
    """The labels of an event's involved object (for ``matchLabels``), read from the API."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    async def __call__(self, event: FluxEvent) -> Mapping[str, str] | None:
        served = KINDS.get(event.kind)
        try:
            if served is not None and event.api_version in ("", served.api_version):
                resource = served.resource
            else:
                resource = await mapper_for(self.api).resolve(event.api_version, event.kind)
            obj = await apply.get(self.api, resource, event.namespace or None, event.name)
        except WeirError as e:
            log.warning(
                "error getting object",
                extra=kv(kind=event.kind, name=event.name, namespace=event.namespace, error=str(e)),
            )
            return None
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return {str(k): str(v) for k, v in labels.items()}


class NotificationService:
    """The dispatcher's intake, the Event watch, the event endpoint and the Provider queues
    (a manager service: started before the caches, stopped at shutdown)."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        queues: ProviderQueues,
        source: CoreEventSource | None,
        event_server: EventServer | None,
    ) -> None:
        self.dispatcher = dispatcher
        self.queues = queues
        self.source = source
        self.event_server = event_server
        self.intake: asyncio.Queue[FluxEvent] = asyncio.Queue(INTAKE_SIZE)
        self._consumer: asyncio.Task[None] | None = None

    def offer(self, event: FluxEvent) -> None:
        """Take an event without waiting (the Event watch calls this)."""
        if self.intake.full():
            self.dispatcher.metrics.events.labels("dropped").inc()
            log.error(
                "event dropped: the notification intake is full",
                extra=kv(kind=event.kind, name=event.name, namespace=event.namespace),
            )
            return
        self.intake.put_nowait(event)

    async def start(self) -> None:
        self._consumer = asyncio.create_task(self._consume(), name="notification/dispatch")
        if self.source is not None:
            await self.source.start()
        if self.event_server is not None:
            await self.event_server.start()

    async def stop(self) -> None:
        if self.event_server is not None:
            await self.event_server.stop()
        if self.source is not None:
            await self.source.stop()
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer
        await self.queues.close()

    async def _consume(self) -> None:
        while True:
            event = await self.intake.get()
            try:
                await self.dispatcher.submit(event)
            except Exception:
                log.exception("dispatching an event failed")


def _depth_gauge(metrics: NotificationMetrics, queues: ProviderQueues) -> None:
    metrics.queue_depth.set_function(lambda: queues.depth)


def controllers(ctx: ControllerContext) -> Sequence[Controller]:
    settings = ctx.feature(NotificationSettings)
    no_cross_ns = settings.no_cross_namespace_refs
    metrics = NotificationMetrics(ctx.metrics.registry)
    providers_info, alerts_info, receivers_info = (
        lookup("Provider"),
        lookup("Alert"),
        lookup("Receiver"),
    )
    provider_informer = ctx.informers.get(providers_info.resource)
    alert_informer = ctx.informers.get(alerts_info.resource, {PROVIDER_INDEX: index_by_provider})
    receiver_informer = ctx.informers.get(receivers_info.resource)

    async def resolve(provider: Mapping[str, Any]) -> provider_config.ProviderConfig:
        return await provider_config.resolve(
            ctx.api, provider, default_timeout=settings.default_timeout
        )

    queues = ProviderQueues(settings, metrics, resolve, provider_informer.get)
    _depth_gauge(metrics, queues)
    dispatcher = Dispatcher(
        alert_informer.list,
        provider_informer.get,
        queues,
        RateLimiter(settings.rate_limit_interval),
        metrics,
        labels_of=LabelsLookup(ctx.api),
        leading=ctx.leading,
        no_cross_namespace_refs=no_cross_ns,
    )
    events_enabled = settings.events_addr.strip() not in ("", "0")
    service = NotificationService(
        dispatcher,
        queues,
        None,
        EventServer(dispatcher, settings.events_addr) if events_enabled else None,
    )
    service.source = CoreEventSource(ctx.api, service.offer, namespace=ctx.namespace)
    ctx.services.append(service)
    if settings.receiver_addr.strip() not in ("", "0"):
        handler = ReceiverHandler(
            ctx.api,
            receiver_informer.list,
            ResourceRequester(ctx.api, no_cross_namespace_refs=no_cross_ns),
            metrics,
            max_body=settings.max_webhook_body,
            leading=ctx.leading,
        )
        ctx.services.append(ReceiverServer(handler, settings.receiver_addr))

    providers = build_controller(
        ctx,
        providers_info.kind,
        providers_info.resource,
        ProviderReconciler(ctx.api, settings.default_timeout),
        component=COMPONENT,
    )
    alerts = build_controller(
        ctx,
        alerts_info.kind,
        alerts_info.resource,
        AlertReconciler(provider_informer.get),
        component=COMPONENT,
        indexers={PROVIDER_INDEX: index_by_provider},
    )

    def alerts_of_provider(event_type: str, provider: Obj) -> Iterable[str]:
        return [
            object_key(a) for a in alert_informer.by_index(PROVIDER_INDEX, object_key(provider))
        ]

    alerts.watch(provider_informer, alerts_of_provider)
    receivers = build_controller(
        ctx,
        receivers_info.kind,
        receivers_info.resource,
        ReceiverReconciler(ctx.api),
        component=COMPONENT,
    )
    return [providers, alerts, receivers]
