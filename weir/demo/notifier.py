"""Push notifications for the local Git server: when the served branch moves, ask the
GitRepository to reconcile now (the ``reconcile.fluxcd.io/requestedAt`` annotation), as a Flux
webhook Receiver does for a Git host. Without it a push waits for the GitRepository's interval."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from kubernetes_asyncio.client import ApiClient

from weir.api.kinds import lookup
from weir.demo.gitfleet import FleetRepo
from weir.kube import apply as kapi

log = logging.getLogger(__name__)
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"


async def request_reconcile(api: ApiClient, kind: str, namespace: str, name: str) -> str:
    """Annotate the object with a fresh requestedAt; returns the value."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = {"metadata": {"annotations": {REQUESTED_AT: stamp}}}
    await kapi.patch(api, lookup(kind).resource, namespace, name, body)
    return stamp


class PushNotifier:
    """Polls the bare repository's branch (cheap: one ``git rev-parse``) until cancelled."""

    def __init__(
        self, api: ApiClient, repo: FleetRepo, namespace: str, name: str, interval: float = 0.5
    ) -> None:
        self.api = api
        self.repo = repo
        self.namespace = namespace
        self.name = name
        self.interval = interval
        self.notified = 0

    async def run(self) -> None:
        last = await asyncio.to_thread(self.repo.head)
        while True:
            await asyncio.sleep(self.interval)
            try:
                head = await asyncio.to_thread(self.repo.head)
                if head != last:
                    await request_reconcile(self.api, "GitRepository", self.namespace, self.name)
                    log.info("pushed %s: asked GitRepository %s to reconcile", head[:12], self.name)
                    last = head
                    self.notified += 1
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("push notification failed: %s", e)
