"""The webhook receiver server (``--receiver-addr``, Flux's ``--receiverAddr``; ``:9292`` in
Flux, ``127.0.0.1:9292`` in weir unless told otherwise — put an Ingress in front of it).

``<any method> /hook/<digest>``:

1. the Receivers whose ``status.webhookPath`` is the path, Ready and not suspended — none:
   ``404``; on a standby replica ``503``;
2. the body is read up to ``max_webhook_body`` (``413`` beyond);
3. each Receiver checks the call (:mod:`.verify`) with the token of its Secret — a failed
   signature or token is ``401`` and nothing is reconciled; a body of the wrong shape or an
   event outside ``spec.events`` is ``400``;
4. the Receiver's resources are annotated (:mod:`.resources`); ``200`` when all were, ``400``
   when one failed (Flux's answer).

The path is ``/hook/`` + sha256(token + name + namespace) in hex, as Flux computes it: the same
Receiver gets the same URL in Flux and in weir.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from aiohttp import web
from kubernetes_asyncio.client import ApiClient

from weir.errors import KubeError
from weir.kube import apply
from weir.kube.errors import NotFoundError
from weir.kube.resources import SECRETS
from weir.log import kv
from weir.notification.metrics import NotificationMetrics
from weir.notification.receiver.resources import ResourceRequester
from weir.notification.receiver.verify import Unauthorized, WebhookError, verify
from weir.notification.server import HttpServer, read_body

log = logging.getLogger("weir.notification")

Obj = dict[str, Any]
HOOK_PREFIX = "/hook/"
DELIVERY_HEADERS = ("X-GitHub-Delivery", "X-Gitea-Delivery", "X-Gitlab-Event-UUID", "X-Request-Id")
"""Headers naming one delivery, logged so that a refusal can be matched with the sender's log."""


def webhook_path(token: str, name: str, namespace: str) -> str:
    """``/hook/<sha256(token + name + namespace)>`` (Flux's ``Receiver.GetWebhookPath``)."""
    return HOOK_PREFIX + hashlib.sha256(f"{token}{name}{namespace}".encode()).hexdigest()


class TokenError(KubeError):
    """The Receiver's Secret or its ``token`` is missing."""


async def read_token(api: ApiClient, namespace: str, receiver: Mapping[str, Any]) -> str:
    name = ((receiver.get("spec") or {}).get("secretRef") or {}).get("name")
    if not name:
        raise TokenError("spec.secretRef is not set")
    try:
        secret = await apply.get(api, SECRETS, namespace, str(name))
    except NotFoundError as e:
        raise TokenError(
            f"unable to read token from secret '{namespace}/{name}': Secret not found"
        ) from e
    raw = (secret.get("data") or {}).get("token")
    if not raw:
        raise TokenError(f"invalid '{namespace}/{name}' secret data: required field 'token'")
    return base64.b64decode(raw).decode().strip()


def _ready(obj: Obj) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


class ReceiverHandler:
    def __init__(
        self,
        api: ApiClient,
        receivers: Callable[[], list[Obj]],
        requester: ResourceRequester,
        metrics: NotificationMetrics,
        *,
        max_body: int,
        leading: Callable[[], bool] = lambda: True,
    ) -> None:
        self.api = api
        self._receivers = receivers
        self.requester = requester
        self.metrics = metrics
        self.max_body = max_body
        self._leading = leading

    def matching(self, path: str) -> list[Obj]:
        return [
            r
            for r in self._receivers()
            if (r.get("status") or {}).get("webhookPath") == path
            and (r.get("spec") or {}).get("suspend") is not True
            and _ready(r)
        ]

    async def handle(self, request: web.Request) -> web.Response:
        receivers = self.matching(request.path)
        if not receivers:
            return web.Response(status=404, text="no receiver for this path\n")
        kind = str((receivers[0].get("spec") or {}).get("type") or "")
        if not self._leading():
            return self._answer(kind, 503, "not the leader")
        body = await read_body(request, self.max_body)
        if body is None:
            return self._answer(kind, 413, "payload too large")
        status, messages = 200, []
        for receiver in receivers:
            code, message = await self._one(receiver, request, body)
            status = max(status, code) if code != 200 else status
            if message:
                messages.append(message)
        text = "; ".join(messages) if status != 200 else "ok"
        return self._answer(kind, status, text)

    def _answer(self, kind: str, status: int, text: str) -> web.Response:
        self.metrics.receiver_requests.labels(kind, str(status)).inc()
        return web.Response(status=status, text=text + "\n")

    async def _one(self, receiver: Obj, request: web.Request, body: bytes) -> tuple[int, str]:
        meta, spec = receiver["metadata"], receiver.get("spec") or {}
        ref = f"{meta['namespace']}/{meta['name']}"
        kind = str(spec.get("type") or "")
        delivery = next((request.headers[h] for h in DELIVERY_HEADERS if h in request.headers), "")
        try:
            token = await read_token(self.api, str(meta["namespace"]), receiver)
            event, payload = verify(kind, token, request.headers, body, spec.get("events") or ())
        except Unauthorized as e:
            log.warning(
                "webhook refused",
                extra=kv(receiver=ref, type=kind, delivery=delivery, error=str(e)),
            )
            return 401, "unauthorized"
        except WebhookError as e:
            log.warning(
                "webhook refused",
                extra=kv(receiver=ref, type=kind, delivery=delivery, error=str(e)),
            )
            return e.status, str(e)
        except KubeError as e:
            log.warning("unable to read the receiver's token", extra=kv(receiver=ref, error=str(e)))
            return 500, "cannot read the receiver's token"
        if payload is None and body:
            try:
                payload = orjson.loads(body)
            except orjson.JSONDecodeError:
                payload = None
        outcome = await self.requester.request(receiver, payload)
        log.info(
            "webhook handled",
            extra=kv(
                receiver=ref,
                type=kind,
                event=event,
                delivery=delivery,
                annotated=outcome.annotated,
                skipped=outcome.skipped,
                errors=len(outcome.errors),
            ),
        )
        if outcome.errors:
            return 400, "; ".join(outcome.errors)
        return 200, ""


def make_app(handler: ReceiverHandler) -> web.Application:
    app = web.Application(client_max_size=handler.max_body + 1)
    app.router.add_route("*", HOOK_PREFIX + "{digest}", handler.handle)
    return app


class ReceiverServer(HttpServer):
    def __init__(self, handler: ReceiverHandler, addr: str) -> None:
        self.handler = handler
        super().__init__(make_app(handler), addr, "receiver")
