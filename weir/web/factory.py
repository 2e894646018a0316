"""``weir run``'s registry factory for the web UI, kept light: the web stack (Starlette, uvicorn,
OIDC, CEL: about 30 MiB of a process's memory) is imported only when the UI is on, so a process
started with ``--web-addr=0`` does not pay for it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from weir.runtime.factories import ControllerContext
from weir.web.settings import WebSettings

log = logging.getLogger("weir.web")


def controllers(ctx: ControllerContext) -> Sequence[Any]:
    """Adds the web UI's service (:mod:`weir.web.service`) unless ``--web-addr=0``; no
    controller."""
    settings = ctx.feature(WebSettings)
    if not settings.enabled:
        log.info("web UI disabled (--web-addr=0)")
        return []
    from weir.web.service import WebService  # noqa: PLC0415 - the heavy part, on demand

    ctx.services.append(WebService(ctx, settings))
    return []
