"""Any resource type by the names kubectl accepts (``deployment``, ``deploy``, ``deployments``,
``deployments.apps``, ``ks``), found by API discovery. Flux kinds are known without it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.actions.objects import resource_for
from weir.api import UnknownKindError, lookup
from weir.errors import UsageError
from weir.kube import transport
from weir.kube.errors import ApiError
from weir.kube.resources import ResourceRef


class UnknownResourceError(UsageError):
    """The API server serves no resource type of that name."""


def _names(resource: Mapping[str, Any]) -> set[str]:
    names = {str(resource.get("name", "")), str(resource.get("kind", "")).lower()}
    if resource.get("singularName"):
        names.add(str(resource["singularName"]))
    names.update(str(s) for s in resource.get("shortNames") or [])
    return names


def match(
    word: str, group: str | None, lists: Iterable[tuple[str, str, Mapping[str, Any]]]
) -> ResourceRef | None:
    """The first resource called ``word`` in ``(group, version, APIResourceList)`` triples,
    restricted to ``group`` when given. Subresources are skipped."""
    for g, v, body in lists:
        if group is not None and g != group:
            continue
        for res in body.get("resources") or []:
            if "/" in str(res.get("name", "")):
                continue
            if word in _names(res):
                return ResourceRef(
                    g, v, str(res["name"]), bool(res.get("namespaced")), str(res.get("kind", ""))
                )
    return None


async def _resource_list(api: ApiClient, path: str) -> Mapping[str, Any]:
    try:
        body = await transport.request(api, "GET", path)
    except ApiError:  # an aggregated API that is down must not break the lookup
        return {}
    return body if isinstance(body, dict) else {}


async def resolve_resource(api: ApiClient, name: str) -> ResourceRef:
    """The resource type for ``name`` (kind, plural, singular or short name, optionally
    ``.group``-qualified); core and ``apps`` win over other groups, as in kubectl."""
    try:
        return resource_for(lookup(name))
    except UnknownKindError:
        pass
    word, _, group = name.strip().lower().partition(".")
    wanted: str | None = group or None
    core = await _resource_list(api, "/api/v1")
    lists: list[tuple[str, str, Mapping[str, Any]]] = [("", "v1", core)]
    found = match(word, wanted, lists)
    if found is not None:
        return found
    groups = await transport.request(api, "GET", "/apis")
    versions = [
        (str(g["name"]), str((g.get("preferredVersion") or {}).get("version", "")))
        for g in groups.get("groups") or []
        if wanted is None or g.get("name") == wanted
    ]
    versions.sort(key=lambda gv: gv[0] != "apps")
    bodies = await asyncio.gather(*(_resource_list(api, f"/apis/{g}/{v}") for g, v in versions))
    lists = [(g, v, b) for (g, v), b in zip(versions, bodies, strict=True)]
    found = match(word, wanted, lists)
    if found is None:
        raise UnknownResourceError(
            f"the API server has no resource type {name!r}: check the spelling "
            "(`kubectl api-resources` lists them)"
        )
    return found
