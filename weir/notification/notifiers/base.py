"""What every notifier implements, and helpers their payloads share."""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass

from weir.notification.config import ProviderConfig
from weir.notification.event import SUMMARY, FluxEvent
from weir.notification.http import Http


@dataclass(frozen=True)
class Delivery:
    """One notification for one Provider: the event as the Alert shaped it (clean metadata,
    ``summary``, ``eventMetadata``) and, for commit status providers, the status id."""

    event: FluxEvent
    commit_status: str = ""


class Notifier(abc.ABC):
    """Sends deliveries to one Provider."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config

    @abc.abstractmethod
    async def post(self, http: Http, delivery: Delivery) -> None:
        """Send; raise :class:`~weir.notification.http.DeliveryError` on failure."""


def sorted_metadata(event: FluxEvent) -> list[tuple[str, str]]:
    """Metadata in a stable order (Flux iterates a Go map, in no order at all)."""
    return sorted(event.metadata.items())


def split_camel_case(text: str) -> list[str]:
    """``ReconciliationSucceeded`` -> ``["Reconciliation", "Succeeded"]``; ``HTTPServer`` ->
    ``["HTTP", "Server"]`` (Flux's ``splitCamelcase``)."""
    return re.findall(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^A-Za-z\d]+", text)


def name_and_description(event: FluxEvent) -> tuple[str, str]:
    """``("kustomization/apps", "reconciliation succeeded")``: what commit statuses and
    incidents say (the name is prefixed by the Alert's summary when there is one)."""
    name = f"{event.kind}/{event.name}"
    summary = event.metadata.get(SUMMARY)
    if summary:
        name = f"{summary}/{name}"
    description = " ".join(split_camel_case(event.reason))
    return name.lower(), description.lower()
