"""``generic`` and ``generic-hmac``: the event itself, as Flux's JSON, POSTed to the address.

Both set the ``gotk-component`` header to the reporting controller and add the ``headers`` of
the Provider's Secret. ``generic-hmac`` signs the exact body with the Secret's ``token``:
``X-Signature: sha256=<hex HMAC>``.
"""

from __future__ import annotations

import hashlib
import hmac

import orjson

from weir.notification.http import NOTIFICATION_HEADER, Http
from weir.notification.notifiers.base import Delivery, Notifier


def signature(body: bytes, token: str) -> str:
    """The ``X-Signature`` value of ``body``."""
    return "sha256=" + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


class Generic(Notifier):
    sign = False

    async def post(self, http: Http, delivery: Delivery) -> None:
        event = delivery.event
        body = orjson.dumps(event.to_json())
        headers = {"Content-Type": "application/json"}
        headers[NOTIFICATION_HEADER] = event.reporting_controller
        headers.update(self.config.headers)
        if self.sign:
            headers["X-Signature"] = signature(body, self.config.token)
        await http.request("POST", self.config.address, content=body, headers=headers)


class GenericHMAC(Generic):
    sign = True
