"""Flux's event endpoint (``--events-addr``): Flux's own controllers POST their events here.

``POST /`` with a JSON event (:mod:`.event`) answers ``202 Accepted``, ``429 Too Many
Requests`` for a duplicate within the rate limit window (Flux's answer), ``400`` for a body
that is not an event, ``503`` on a standby replica. Off by default: weir's controllers reach
the notification controller through core/v1 Events; point Flux's controllers'
``--events-addr`` here to have weir's Alerts cover them without waiting for the Event watch.
"""

from __future__ import annotations

import logging

import orjson
from aiohttp import web

from weir.log import kv
from weir.notification.dispatch import RATE_LIMITED, STANDBY, Dispatcher
from weir.notification.event import FluxEvent
from weir.notification.server import HttpServer, read_body

log = logging.getLogger("weir.notification")
MAX_EVENT = 1 << 20


def make_app(dispatcher: Dispatcher) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        body = await read_body(request, MAX_EVENT)
        if body is None:
            return web.Response(status=413, text="event too large\n")
        try:
            event = FluxEvent.from_json(orjson.loads(body))
        except ValueError as e:  # orjson.JSONDecodeError is a ValueError
            log.info("event refused", extra=kv(error=str(e)))
            return web.Response(status=400, text=f"invalid event: {e}\n")
        result = await dispatcher.submit(event)
        if result == RATE_LIMITED:
            return web.Response(status=429, text="duplicate event, rate limited\n")
        if result == STANDBY:
            return web.Response(status=503, text="not the leader\n")
        return web.Response(status=202)

    app = web.Application(client_max_size=MAX_EVENT)
    app.router.add_post("/", handle)
    return app


class EventServer(HttpServer):
    def __init__(self, dispatcher: Dispatcher, addr: str) -> None:
        super().__init__(make_app(dispatcher), addr, "event")
