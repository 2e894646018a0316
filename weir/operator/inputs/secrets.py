"""The Secrets an input provider reads: ``spec.secretRef`` and ``spec.certSecretRef``."""

from __future__ import annotations

import base64
import binascii
import os
import ssl
import tempfile
from collections.abc import Mapping

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kube
from weir.kube.errors import NotFoundError
from weir.kube.resources import SECRETS
from weir.runtime.result import ReconcileError


def decode(data: Mapping[str, str] | None) -> dict[str, bytes]:
    out = {}
    for key, value in (data or {}).items():
        try:
            out[key] = base64.b64decode(value)
        except (binascii.Error, ValueError):
            continue
    return out


async def read(api: ApiClient, namespace: str, name: str, field: str) -> dict[str, bytes]:
    """The decoded data of a Secret; missing: transient ``ReconciliationFailed``."""
    try:
        secret = await kube.get(api, SECRETS, namespace, name)
    except NotFoundError as e:
        raise ReconcileError(
            "ReconciliationFailed",
            f"failed to read secret '{namespace}/{name}': not found; create it or fix {field}",
        ) from e
    return decode(secret.get("data"))


def tls_context(data: Mapping[str, bytes], where: str) -> ssl.SSLContext:
    """An SSL context trusting ``ca.crt`` and presenting ``tls.crt``/``tls.key``."""
    if "ca.crt" not in data and "tls.crt" not in data:
        raise ReconcileError(
            "ReconciliationFailed", f"invalid secret '{where}': key 'ca.crt' is missing"
        )
    ctx = ssl.create_default_context()
    if "ca.crt" in data:
        ctx.load_verify_locations(cadata=data["ca.crt"].decode())
    if "tls.crt" in data:
        if "tls.key" not in data:
            raise ReconcileError(
                "ReconciliationFailed", f"invalid secret '{where}': key 'tls.key' is missing"
            )
        with tempfile.TemporaryDirectory(prefix="weir-tls-") as tmp:
            cert, key = os.path.join(tmp, "tls.crt"), os.path.join(tmp, "tls.key")
            with open(cert, "wb") as fh:
                fh.write(data["tls.crt"])
            fd = os.open(key, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data["tls.key"])
            ctx.load_cert_chain(cert, key)
    return ctx
