"""Reading Flux objects: which kinds a name means, getting and listing them, and what their
status says (revision, suspended, Ready, message), as plain dicts of the API's JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.actions.errors import ObjectNotFoundError
from weir.api import KINDS, KindInfo, lookup
from weir.errors import UsageError
from weir.kube import apply
from weir.kube.errors import NotFoundError
from weir.kube.informer import list_all, strip_managed_fields
from weir.kube.resources import ResourceRef
from weir.types import Obj

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
FLUX_GROUP_SUFFIX = ".toolkit.fluxcd.io"

ALL_KINDS: tuple[KindInfo, ...] = tuple(KINDS.values())
SOURCE_KINDS: tuple[KindInfo, ...] = tuple(k for k in ALL_KINDS if "fluxcd-sources" in k.categories)
APPLIER_KINDS: tuple[KindInfo, ...] = tuple(
    k for k in ALL_KINDS if "fluxcd-appliers" in k.categories
)
NOTIFICATION_KINDS: tuple[KindInfo, ...] = tuple(
    k for k in ALL_KINDS if "fluxcd-notifications" in k.categories
)
GROUP_NAMES: Mapping[str, tuple[KindInfo, ...]] = {
    "all": ALL_KINDS,
    "sources": SOURCE_KINDS,
    "source": SOURCE_KINDS,
    "appliers": APPLIER_KINDS,
    "notifications": NOTIFICATION_KINDS,
}


def resource_for(info: KindInfo) -> ResourceRef:
    """The REST resource of a Flux kind (no discovery needed: weir knows its kinds)."""
    return info.resource


def short_name(info: KindInfo) -> str:
    """The shortest name the CLI accepts for a kind (``ks``, ``hr``, ``bucket``)."""
    return min(info.names(), key=len)


def resolve_kinds(name: str) -> tuple[KindInfo, ...]:
    """The kinds a CLI word means: one kind by any of its names, or ``all``, ``sources``,
    ``appliers``, ``notifications``. Raises :class:`~weir.api.UnknownKindError`."""
    group = GROUP_NAMES.get(name.strip().lower())
    if group is not None:
        return group
    return (lookup(name),)


def kind_of(obj: Mapping[str, Any]) -> KindInfo | None:
    """The Flux kind of an object, or None for any other kind."""
    info = KINDS.get(str(obj.get("kind", "")))
    api_version = str(obj.get("apiVersion", ""))
    if info is None or not api_version.startswith(f"{info.group}/"):
        return None
    return info


def object_name(info_or_kind: KindInfo | str, namespace: str | None, name: str) -> str:
    """``Kustomization apps/podinfo`` for messages."""
    kind = info_or_kind if isinstance(info_or_kind, str) else info_or_kind.kind
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def not_found(info: KindInfo, namespace: str, name: str, cause: Exception) -> ObjectNotFoundError:
    what = object_name(info, namespace, name)
    if isinstance(cause, NotFoundError) and "could not find the requested resource" in str(cause):
        return crd_missing(info, cause)
    return ObjectNotFoundError(
        f"{what} not found: check the name and namespace "
        f"(list them with `weir get {short_name(info)} -n {namespace}`, or -A)"
    )


def crd_missing(info: KindInfo, cause: Exception) -> ObjectNotFoundError:
    return ObjectNotFoundError(
        f"the API server does not serve {info.crd_name} ({cause.__class__.__name__}): "
        "install the CRDs with `weir crds | kubectl apply --server-side -f -`"
    )


async def get_object(api: ApiClient, info: KindInfo, namespace: str, name: str) -> Obj:
    """One Flux object (without managedFields); :class:`ObjectNotFoundError` if missing."""
    try:
        obj = await apply.get(api, resource_for(info), namespace, name)
    except NotFoundError as e:
        raise not_found(info, namespace, name, e) from e
    return strip_managed_fields(obj)


async def find_object(api: ApiClient, info: KindInfo, namespace: str, name: str) -> Obj | None:
    """One Flux object, or None when it (or its CRD) does not exist."""
    try:
        return await get_object(api, info, namespace, name)
    except ObjectNotFoundError:
        return None


def _sort_key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace", "")), str(meta.get("name", ""))


async def list_objects(api: ApiClient, info: KindInfo, namespace: str | None) -> list[Obj]:
    """All objects of a kind in ``namespace`` (None: all namespaces), by namespace and name."""
    try:
        items, _ = await list_all(api, resource_for(info), namespace=namespace)
    except NotFoundError as e:
        raise crd_missing(info, e) from e
    return sorted((strip_managed_fields(o) for o in items), key=_sort_key)


async def list_many(
    api: ApiClient, kinds: Sequence[KindInfo], namespace: str | None
) -> dict[str, list[Obj]]:
    """Objects of several kinds, listed concurrently; kind name -> objects."""
    lists = await asyncio.gather(*(list_objects(api, info, namespace) for info in kinds))
    return {info.kind: objs for info, objs in zip(kinds, lists, strict=True)}


# ------------------------------------------------------------------------------ status reading
def meta(obj: Mapping[str, Any]) -> dict[str, Any]:
    found = obj.get("metadata")
    return found if isinstance(found, dict) else {}


def status(obj: Mapping[str, Any]) -> dict[str, Any]:
    found = obj.get("status")
    return found if isinstance(found, dict) else {}


def condition(obj: Mapping[str, Any], type_: str) -> dict[str, Any] | None:
    """The status condition of the given type (case-insensitive), or None."""
    for cond in status(obj).get("conditions") or []:
        if str(cond.get("type", "")).lower() == type_.lower():
            return dict(cond)
    return None


def condition_status(obj: Mapping[str, Any], type_: str) -> str:
    """``True``, ``False`` or ``Unknown`` (also when the condition is missing)."""
    cond = condition(obj, type_)
    return str(cond.get("status", "Unknown")) if cond else "Unknown"


def is_suspended(obj: Mapping[str, Any]) -> bool:
    """``spec.suspend: true``, or the Flux Operator's ``fluxcd.controlplane.io/reconcile:
    disabled`` annotation."""
    spec = obj.get("spec")
    if isinstance(spec, dict) and spec.get("suspend") is True:
        return True
    annotations = meta(obj).get("annotations") or {}
    return str(annotations.get("fluxcd.controlplane.io/reconcile", "")).lower() == "disabled"


def revision(obj: Mapping[str, Any]) -> str:
    """The revision ``flux get`` shows: a source's artifact revision, a Kustomization's last
    applied revision, a HelmRelease's chart version ("" when there is none yet)."""
    st = status(obj)
    artifact = st.get("artifact")
    if isinstance(artifact, dict) and artifact.get("revision"):
        return str(artifact["revision"])
    if st.get("lastAppliedRevision"):
        return str(st["lastAppliedRevision"])
    if st.get("lastExportedRevision"):  # a ResourceSetInputProvider
        return str(st["lastExportedRevision"])
    history = st.get("history")
    if isinstance(history, list) and history and isinstance(history[0], dict):
        version = history[0].get("chartVersion")
        if version:
            return str(version)
    return str(st.get("lastAttemptedRevision") or "")


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp of the API (``2024-01-02T03:04:05Z``), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Summary:
    """One row of ``weir get``: what ``flux get`` shows of an object."""

    kind: str
    namespace: str
    name: str
    revision: str
    suspended: bool
    ready: str
    """``True``, ``False``, ``Unknown``, or ``-`` for kinds without status."""
    message: str
    created: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "revision": self.revision,
            "suspended": self.suspended,
            "ready": self.ready,
            "message": self.message,
            "created": self.created.isoformat() if self.created else None,
        }


def summarize(obj: Mapping[str, Any]) -> Summary:
    m = meta(obj)
    info = kind_of(obj)
    has_status = info.has_status if info else True
    ready = condition(obj, "Ready")
    if ready is not None:
        ready_text, message = str(ready.get("status", "Unknown")), str(ready.get("message", ""))
    elif has_status:
        ready_text, message = "Unknown", "waiting to be reconciled"
    else:
        ready_text, message = "-", ""
    return Summary(
        kind=str(obj.get("kind", "")),
        namespace=str(m.get("namespace", "")),
        name=str(m.get("name", "")),
        revision=revision(obj),
        suspended=is_suspended(obj),
        ready=ready_text,
        message=message,
        created=parse_time(m.get("creationTimestamp")),
    )


# ------------------------------------------------------------------------------ status selector
def parse_status_selector(text: str | None) -> dict[str, str]:
    """``ready=false`` or ``ready=false,stalled=true`` -> {condition type: status}."""
    if not text:
        return {}
    out: dict[str, str] = {}
    for part in text.split(","):
        type_, sep, value = part.strip().partition("=")
        value = value.strip().lower()
        if not sep or not type_.strip() or value not in ("true", "false", "unknown"):
            raise UsageError(
                f"--status-selector {text!r}: expected <condition>=<true|false|unknown>, "
                "e.g. ready=false"
            )
        out[type_.strip().lower()] = value.capitalize()
    return out


def matches_status(obj: Mapping[str, Any], selector: Mapping[str, str]) -> bool:
    """Whether every condition in ``selector`` has the wanted status (missing = Unknown)."""
    return all(condition_status(obj, t) == v for t, v in selector.items())


def names_of(objs: Iterable[Mapping[str, Any]]) -> list[str]:
    return [str(meta(o).get("name", "")) for o in objs]
