"""Unlocking a release left ``pending-install``/``pending-upgrade``/``pending-rollback`` by a
process that stopped in the middle of an action (helm-controller's "Locked" state).

Helm refuses every action on a pending release ("another operation is in progress"). Nothing
else can be running on it: weir serializes the runs of one HelmRelease, and a pending release
seen at the start of a run is a leftover. The release revision is marked ``failed`` in Helm's
storage (the ``sh.helm.release.v1.<name>.v<revision>`` Secret: its body and its ``status``
label), with a description saying so; the failure then goes through remediation as any other.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.helmengine.errors import ReleaseError
from weir.kube import apply as kube
from weir.kube.errors import ApiError
from weir.kube.resources import SECRETS
from weir.types import Obj

GZIP_MAGIC = b"\x1f\x8b"


def storage_secret_name(name: str, revision: int) -> str:
    return f"sh.helm.release.v1.{name}.v{revision}"


def decode_release(data: str) -> dict[str, Any]:
    """The release JSON in a storage Secret's ``data.release``."""
    raw = base64.b64decode(base64.b64decode(data))
    if raw.startswith(GZIP_MAGIC):
        raw = gzip.decompress(raw)
    release = json.loads(raw)
    if not isinstance(release, dict):
        raise TypeError("the release body is not a JSON object")
    return release


def encode_release(release: dict[str, Any]) -> str:
    """The inverse of :func:`decode_release` (gzip, then base64 twice: Helm's and the API's)."""
    raw = gzip.compress(json.dumps(release, separators=(",", ":")).encode(), mtime=0)
    return base64.b64encode(base64.b64encode(raw)).decode()


async def read_record(
    api: ApiClient, namespace: str, secret_name: str
) -> tuple[Obj, dict[str, Any]]:
    """A release's storage Secret and the release it holds."""
    secret = await kube.get(api, SECRETS, namespace, secret_name)
    return secret, decode_release(str((secret.get("data") or {}).get("release") or ""))


async def write_status(
    api: ApiClient,
    secret: Obj,
    release: dict[str, Any],
    status: str,
    description: str | None,
    *,
    modified_at: bool = False,
) -> None:
    """Set the status of ``release`` (read by :func:`read_record` from ``secret``): its body,
    its ``description`` unless None, the Secret's ``status`` label and, with ``modified_at``,
    its ``modifiedAt`` label when it has one. Guarded by the Secret's resourceVersion."""
    info = release.setdefault("info", {})
    info["status"] = status
    if description is not None:
        info["description"] = description
    secret.setdefault("data", {})["release"] = encode_release(release)
    labels = secret.setdefault("metadata", {}).setdefault("labels", {})
    labels["status"] = status
    if modified_at and "modifiedAt" in labels:
        labels["modifiedAt"] = str(int(time.time()))
    await kube.replace(api, SECRETS, secret)


async def unlock(api: ApiClient, name: str, namespace: str, revision: int) -> str:
    """Mark a pending release revision failed; returns its previous status."""
    secret_name = storage_secret_name(name, revision)
    try:
        secret, release = await read_record(api, namespace, secret_name)
    except (ApiError, ValueError, TypeError) as e:
        raise ReleaseError(
            f"cannot unlock release {namespace}/{name}.v{revision}: reading {secret_name} "
            f"failed: {e}",
            action="upgrade",
        ) from e
    previous = str(release.setdefault("info", {}).get("status") or "")
    try:
        await write_status(
            api, secret, release, "failed", f"Release unlocked from stale '{previous}' state"
        )
    except ApiError as e:
        raise ReleaseError(
            f"cannot unlock release {namespace}/{name}.v{revision}: updating {secret_name} "
            f"failed: {e}",
            action="upgrade",
        ) from e
    return previous
