"""Object operations as plain dicts: server-side apply, get/create/patch/delete, the status patch
and finalizer helpers.

- :func:`apply` is a server-side apply (``PATCH`` with ``application/apply-patch+yaml``), the
  resource resolved from the object's apiVersion/kind by discovery.
- :func:`patch_status` is a JSON *merge* patch of the ``status`` subresource, like Flux's
  status patcher: the keys given replace the stored ones (lists replace whole lists, so send
  the complete ``conditions``); a key set to ``None`` is removed; keys not given stay.
- :func:`add_finalizer` / :func:`remove_finalizer` send a merge patch of the whole finalizer
  list guarded by ``metadata.resourceVersion``: if the object changed since it was read the
  server answers 409, and the helper re-reads it and tries again, so no concurrent change to
  the list is ever clobbered.
"""

from __future__ import annotations

import logging
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.errors import KubeError
from weir.kube import transport
from weir.kube.errors import ConflictError, NotFoundError
from weir.kube.resources import ResourceRef, RESTMapper, mapper_for
from weir.log import kv
from weir.types import Obj

log = logging.getLogger(__name__)

FINALIZER_RETRIES = 5


def _meta(obj: Obj) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _locate(ref: ResourceRef, obj: Obj) -> tuple[str | None, str]:
    meta = _meta(obj)
    name = meta.get("name")
    if not name:
        raise KubeError(f"{obj.get('kind', 'object')} has no metadata.name: set one")
    namespace = meta.get("namespace") if ref.namespaced else None
    if ref.namespaced and not namespace:
        raise KubeError(
            f"{ref.kind or ref.plural} {name} is namespaced but has no metadata.namespace: set one"
        )
    return namespace, str(name)


async def apply(
    api: ApiClient,
    obj: Obj,
    field_manager: str,
    force: bool = False,
    dry_run: bool = False,
    *,
    mapper: RESTMapper | None = None,
) -> Obj:
    """Server-side apply ``obj`` as ``field_manager``; returns the object the server stored
    (or would store, with ``dry_run``). ``force`` takes over fields owned by other managers;
    without it such fields raise :class:`~weir.kube.errors.ConflictError`."""
    ref = await (mapper or mapper_for(api)).for_object(obj)
    namespace, name = _locate(ref, obj)
    meta = _meta(obj)
    if "managedFields" in meta:  # the server refuses apply bodies that carry managedFields
        obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
    params = {"fieldManager": field_manager, "force": force or None, "dryRun": _dry(dry_run)}
    result: Obj = await transport.request(
        api,
        "PATCH",
        ref.path(namespace, name),
        params=params,
        body=obj,
        content_type=transport.APPLY_PATCH,
    )
    return result


async def get(api: ApiClient, resource: ResourceRef, namespace: str | None, name: str) -> Obj:
    """One object; raises :class:`~weir.kube.errors.NotFoundError` when it does not exist."""
    result: Obj = await transport.request(api, "GET", resource.path(namespace, name))
    return result


async def create(
    api: ApiClient,
    resource: ResourceRef,
    obj: Obj,
    *,
    field_manager: str | None = None,
    dry_run: bool = False,
) -> Obj:
    """Create ``obj``; raises :class:`~weir.kube.errors.AlreadyExistsError` if it exists."""
    namespace = _meta(obj).get("namespace") if resource.namespaced else None
    params = {"fieldManager": field_manager, "dryRun": _dry(dry_run)}
    result: Obj = await transport.request(
        api, "POST", resource.path(namespace), params=params, body=obj
    )
    return result


async def replace(api: ApiClient, resource: ResourceRef, obj: Obj) -> Obj:
    """PUT the whole object; with ``metadata.resourceVersion`` set this is an optimistic update
    that raises :class:`~weir.kube.errors.ConflictError` if the object changed meanwhile."""
    namespace, name = _locate(resource, obj)
    result: Obj = await transport.request(api, "PUT", resource.path(namespace, name), body=obj)
    return result


async def patch(
    api: ApiClient,
    resource: ResourceRef,
    namespace: str | None,
    name: str,
    body: Any,
    *,
    content_type: str = transport.MERGE_PATCH,
    field_manager: str | None = None,
    subresource: str | None = None,
    dry_run: bool = False,
) -> Obj:
    """A patch of the given content type (merge patch by default)."""
    params = {"fieldManager": field_manager, "dryRun": _dry(dry_run)}
    result: Obj = await transport.request(
        api,
        "PATCH",
        resource.path(namespace, name, subresource),
        params=params,
        body=body,
        content_type=content_type,
    )
    return result


async def patch_status(  # noqa: PLR0917 -- the agreed positional signature
    api: ApiClient,
    resource: ResourceRef,
    namespace: str | None,
    name: str,
    status: dict[str, Any],
    field_manager: str,
) -> Obj:
    """Merge-patch the ``status`` subresource with ``status`` (see the module docstring)."""
    return await patch(
        api,
        resource,
        namespace,
        name,
        {"status": status},
        field_manager=field_manager,
        subresource="status",
    )


async def delete(
    api: ApiClient,
    resource: ResourceRef,
    namespace: str | None,
    name: str,
    *,
    propagation_policy: str = "Background",
    dry_run: bool = False,
    missing_ok: bool = False,
    uid: str | None = None,
) -> Obj | None:
    """Delete one object with ``propagation_policy`` (Background, Foreground or Orphan).

    Returns the server's answer: the object still being finalized, or a Status. ``uid``
    guards against deleting a newer object of the same name. With ``missing_ok`` a missing
    object returns None instead of raising :class:`~weir.kube.errors.NotFoundError`.
    """
    options: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "propagationPolicy": propagation_policy,
    }
    if uid:
        options["preconditions"] = {"uid": uid}
    if dry_run:  # with a body, the server reads options from it and ignores the query
        options["dryRun"] = ["All"]
    try:
        result: Obj = await transport.request(
            api, "DELETE", resource.path(namespace, name), body=options
        )
    except NotFoundError:
        if missing_ok:
            return None
        raise
    return result


async def add_finalizer(
    api: ApiClient,
    obj: Obj,
    finalizer: str,
    *,
    resource: ResourceRef | None = None,
    field_manager: str | None = None,
) -> Obj:
    """Make sure ``finalizer`` is on the object; returns the object (as given, without an API
    call, when the finalizer is there already)."""
    return await _edit_finalizers(
        api, obj, finalizer, add=True, resource=resource, field_manager=field_manager
    )


async def remove_finalizer(
    api: ApiClient,
    obj: Obj,
    finalizer: str,
    *,
    resource: ResourceRef | None = None,
    field_manager: str | None = None,
) -> Obj | None:
    """Make sure ``finalizer`` is not on the object; returns the patched object, or None when
    the object is gone already."""
    try:
        return await _edit_finalizers(
            api, obj, finalizer, add=False, resource=resource, field_manager=field_manager
        )
    except NotFoundError:
        return None


async def _edit_finalizers(
    api: ApiClient,
    obj: Obj,
    finalizer: str,
    *,
    add: bool,
    resource: ResourceRef | None,
    field_manager: str | None,
) -> Obj:
    ref = resource or await mapper_for(api).for_object(obj)
    namespace, name = _locate(ref, obj)
    current = obj
    for _ in range(FINALIZER_RETRIES):
        meta = _meta(current)
        finalizers: list[str] = list(meta.get("finalizers") or [])
        if (finalizer in finalizers) == add:
            return current
        wanted = [*finalizers, finalizer] if add else [f for f in finalizers if f != finalizer]
        body = {"metadata": {"resourceVersion": meta.get("resourceVersion"), "finalizers": wanted}}
        try:
            return await patch(api, ref, namespace, name, body, field_manager=field_manager)
        except ConflictError:
            log.debug("finalizer patch conflicted, re-reading", extra=kv(name=name))
        current = await get(api, ref, namespace, name)
    raise ConflictError(
        "PATCH",
        ref.path(namespace, name),
        {
            "code": 409,
            "reason": "Conflict",
            "message": f"finalizers changed concurrently {FINALIZER_RETRIES} times in a row",
        },
    )


def _dry(dry_run: bool) -> str | None:
    return "All" if dry_run else None
