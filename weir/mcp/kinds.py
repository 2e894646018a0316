"""Naming resources in tool arguments: any name kubectl accepts (``ks``, ``deploy``,
``deployments.apps``, ``HelmRelease``), optionally pinned to an ``api_version``; Flux kinds for
the Flux tools."""

from __future__ import annotations

from kubernetes_asyncio.client import ApiClient

from weir.actions.discovery import resolve_resource
from weir.api import KINDS, KindInfo, UnknownKindError, lookup
from weir.errors import UsageError
from weir.kube.resources import ResourceRef, mapper_for

FLUX_KIND_NAMES = ", ".join(sorted(KINDS))


async def resource(api: ApiClient, kind: str, api_version: str | None = None) -> ResourceRef:
    """The REST resource for ``kind``: by discovery of ``api_version`` when given (``kind`` is
    then the Kind, e.g. ``Deployment``), else any kubectl name."""
    if api_version:
        found = await mapper_for(api).resolve(api_version, kind)
        return found
    return await resolve_resource(api, kind)


def flux_kind(kind: str) -> KindInfo:
    """A Flux kind by any of its names; a :class:`~weir.errors.UsageError` naming the valid
    ones otherwise."""
    try:
        return lookup(kind)
    except UnknownKindError:
        raise UsageError(
            f"{kind!r} is not a Flux kind: use one of {FLUX_KIND_NAMES} (or ks, hr, gitrepo, ...)"
        ) from None


def display(kind: str, namespace: str | None, name: str) -> str:
    """``Kind/namespace/name`` (``Kind/name`` when cluster-scoped), as Flux prints objects."""
    return "/".join(p for p in (kind, namespace, name) if p)


def scope(ref: ResourceRef, namespace: str) -> str | None:
    """The namespace to address ``ref`` in (None for cluster-scoped resources)."""
    return namespace if ref.namespaced else None
