"""Types every layer shares.

``Obj`` is a Kubernetes object (or any part of one) as the API's JSON decodes it: the shape
informers cache, reconcilers receive and the front ends read. Typed views of Flux's kinds are
the pydantic models of :mod:`weir.api`.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
"""A Kubernetes object as decoded JSON (``apiVersion``, ``kind``, ``metadata``, ...)."""
