"""Which REST resource serves a kind: :class:`ResourceRef`, URL paths, and a discovery-backed
:class:`RESTMapper` (GVK -> plural + scope), cached per group-version."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.kube import transport
from weir.kube.errors import NotFoundError, UnknownKindError
from weir.log import kv

log = logging.getLogger(__name__)

REFRESH_AFTER = 2.0  # seconds before a miss may trigger a new discovery call (CRD just created)


@dataclass(frozen=True)
class ResourceRef:
    """One REST resource: ``group`` ("" for core), ``version``, ``plural`` and scope.

    ``kind`` is informative (filled in by the mapper) and not part of equality.
    """

    group: str
    version: str
    plural: str
    namespaced: bool
    kind: str = field(default="", compare=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(
        self, namespace: str | None = None, name: str | None = None, subresource: str | None = None
    ) -> str:
        """The URL path of the collection (``name`` None) or of one object.

        ``namespace`` None on a namespaced resource addresses all namespaces (lists and watches).
        """
        parts = [self.prefix]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{namespace}")
        parts.append(self.plural)
        if name is not None:
            if not name:
                raise ValueError(f"an empty name does not address a {self.plural} object")
            parts.append(name)
            if subresource:
                parts.append(subresource)
        return "/".join(parts)


def split_api_version(api_version: str) -> tuple[str, str]:
    """``"apps/v1"`` -> ``("apps", "v1")``; ``"v1"`` -> ``("", "v1")``."""
    group, _, version = api_version.rpartition("/")
    return group, version


def parse_resource_list(group: str, version: str, body: dict[str, Any]) -> dict[str, ResourceRef]:
    """Kind -> :class:`ResourceRef` from an ``APIResourceList`` (subresources skipped)."""
    out: dict[str, ResourceRef] = {}
    for res in body.get("resources") or []:
        name = res.get("name", "")
        if not name or "/" in name:
            continue
        kind = res.get("kind", "")
        out[kind] = ResourceRef(group, version, name, bool(res.get("namespaced")), kind)
    return out


@dataclass
class _GroupVersion:
    kinds: dict[str, ResourceRef]
    fetched_at: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RESTMapper:
    """Maps apiVersion/kind to a :class:`ResourceRef` by API discovery, one call per
    group-version, cached. A miss refetches the group-version (at most every
    ``REFRESH_AFTER`` seconds) so that kinds of freshly installed CRDs are found."""

    def __init__(self, api: ApiClient) -> None:
        self._api = api
        self._gvs: dict[tuple[str, str], _GroupVersion] = {}

    async def resolve(self, api_version: str, kind: str) -> ResourceRef:
        """The resource serving ``kind`` in ``api_version``; raises :class:`UnknownKindError`."""
        group, version = split_api_version(api_version)
        gv = self._gvs.setdefault((group, version), _GroupVersion({}, 0.0))
        ref = gv.kinds.get(kind)
        if ref is not None:
            return ref
        async with gv.lock:
            ref = gv.kinds.get(kind)
            if ref is None and time.monotonic() - gv.fetched_at >= REFRESH_AFTER:
                gv.kinds = await self._discover(group, version)
                gv.fetched_at = time.monotonic()
                ref = gv.kinds.get(kind)
        if ref is None:
            raise UnknownKindError(
                f"the API server serves no kind {kind!r} in {api_version}: "
                "check the apiVersion/kind, or install its CustomResourceDefinition first"
            )
        return ref

    async def for_object(self, obj: dict[str, Any]) -> ResourceRef:
        """The resource of a manifest (``apiVersion`` + ``kind``)."""
        try:
            return await self.resolve(obj["apiVersion"], obj["kind"])
        except KeyError as e:
            raise UnknownKindError(
                f"object has no {e.args[0]}: every manifest needs apiVersion and kind"
            ) from e

    def invalidate(self, api_version: str | None = None) -> None:
        """Forget cached discovery for one group-version, or all of it."""
        if api_version is None:
            self._gvs.clear()
        else:
            self._gvs.pop(split_api_version(api_version), None)

    async def _discover(self, group: str, version: str) -> dict[str, ResourceRef]:
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            body = await transport.request(self._api, "GET", path)
        except NotFoundError:
            return {}
        log.debug("discovered resources", extra=kv(group=group, version=version))
        return parse_resource_list(group, version, body)


_MAPPERS: weakref.WeakKeyDictionary[ApiClient, RESTMapper] = weakref.WeakKeyDictionary()


def mapper_for(api: ApiClient) -> RESTMapper:
    """The shared :class:`RESTMapper` of an API client."""
    mapper = _MAPPERS.get(api)
    if mapper is None:
        mapper = _MAPPERS[api] = RESTMapper(api)
    return mapper


# Core resources weir reads often; Flux kinds come from weir.api (``KindInfo.resource``).
SECRETS = ResourceRef("", "v1", "secrets", True, "Secret")
CONFIG_MAPS = ResourceRef("", "v1", "configmaps", True, "ConfigMap")
NAMESPACES = ResourceRef("", "v1", "namespaces", False, "Namespace")
EVENTS = ResourceRef("", "v1", "events", True, "Event")
