"""What applying a built Kustomization would change (``weir diff ks``), decided the way the
controller decides what to apply (:mod:`weir.kustomize.apply`), without changing anything.

Per built object (in apply order, a few at a time):

1. Its resource is resolved; a kind the API server does not serve yet but whose CRD is part of
   the same build is ``created`` (it cannot be dry-run before its CRD exists).
2. The live object is read.
3. ``skipped`` when the manifest or the live object says
   ``kustomize.toolkit.fluxcd.io/reconcile: disabled`` or ``.../ssa: Ignore``, or the manifest
   says ``ssa: IfNotPresent`` and the object exists.
4. Server-side **dry-run** apply as the controller's field manager (``kustomize-controller``),
   conflicts forced. Refused as an immutable-field change while force is on (``spec.force`` or
   the object's ``kustomize.toolkit.fluxcd.io/force: Enabled``): ``created`` (it would be
   recreated). Refused because its namespace does not exist yet but is created by the build:
   ``created``. Refused otherwise: an error for that object (the others are still compared).
5. No live object: ``created``. Else the dry-run result is compared with the live object as the
   controller compares them (everything but ``metadata`` and ``status``, plus labels and
   annotations): ``configured`` with the fields that change, or ``unchanged``.

With ``spec.prune``, entries of the live Kustomization's ``status.inventory`` that are no longer
built, still exist and may be pruned (owner labels, no ``prune: disabled``) are ``deleted``.

Secret values never appear in the field changes: they read ``*** (before)``/``*** (after)``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from weir.actions.build import BuiltKustomization, is_secret
from weir.errors import KubeError, WeirError
from weir.kube import apply as kube
from weir.kube.errors import ApiError, ApiUnavailableError, NotFoundError, UnknownKindError
from weir.kube.resources import RESTMapper, mapper_for
from weir.kustomize import inventory
from weir.kustomize import metadata as md
from weir.kustomize.apply import FIELD_MANAGER, Action, drifted, is_immutable_error
from weir.kustomize.cleanup import STALE_ANNOTATIONS, STALE_LABELS, cleanup_patch
from weir.kustomize.inventory import Entry, ObjectRef
from weir.kustomize.order import apply_order
from weir.kustomize.prune import prune_allowed

if TYPE_CHECKING:
    from kubernetes_asyncio.client import ApiClient

Obj = dict[str, Any]

CHANGING = (Action.CREATED, Action.CONFIGURED, Action.DELETED)
MASK_BEFORE = "*** (before)"
MASK_AFTER = "*** (after)"
CONCURRENCY = 4
TAKEN_OVER = ("kubectl", "before-first-apply")
_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class FieldChange:
    """One changed field: ``before`` is absent when the field is added, ``after`` when it is
    removed."""

    path: str
    before: Any = None
    after: Any = None
    has_before: bool = True
    has_after: bool = True

    def to_dict(self) -> Obj:
        out: Obj = {"path": self.path}
        if self.has_before:
            out["before"] = self.before
        if self.has_after:
            out["after"] = self.after
        return out


@dataclass
class ObjectDiff:
    """What applying would do to one object."""

    ref: ObjectRef
    api_version: str
    action: Action
    changes: list[FieldChange] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> Obj:
        out: Obj = {
            "apiVersion": self.api_version,
            "kind": self.ref.kind,
            "namespace": self.ref.namespace,
            "name": self.ref.name,
            "action": str(self.action),
        }
        if self.note:
            out["note"] = self.note
        if self.changes:
            out["changes"] = [c.to_dict() for c in self.changes]
        return out


@dataclass
class KustomizationDiff:
    """The differences of one Kustomization; ``errors`` are objects that could not be
    compared (one line each)."""

    namespace: str
    name: str
    objects: list[ObjectDiff] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[ObjectDiff]:
        return [o for o in self.objects if o.action in CHANGING]

    def to_dict(self) -> Obj:
        return {
            "kustomization": {"namespace": self.namespace, "name": self.name},
            "objects": [o.to_dict() for o in self.objects],
            "errors": list(self.errors),
        }


@dataclass
class DiffResult:
    """The differences of a Kustomization and, when built recursively, the nested ones."""

    kustomizations: list[KustomizationDiff]

    @property
    def differs(self) -> bool:
        return any(k.changed for k in self.kustomizations)

    @property
    def errors(self) -> list[str]:
        return [e for k in self.kustomizations for e in k.errors]

    def counts(self) -> dict[str, int]:
        """Objects per action."""
        out: dict[str, int] = {}
        for k in self.kustomizations:
            for o in k.objects:
                out[str(o.action)] = out.get(str(o.action), 0) + 1
        return out

    def to_dict(self) -> Obj:
        return {
            "differs": self.differs,
            "kustomizations": [k.to_dict() for k in self.kustomizations],
        }


class ObjectDiffError(WeirError):
    """One object could not be compared (the dry-run or a read was refused)."""


# ----------------------------------------------------------------------------- field changes
def _key(path: str, key: Any) -> str:
    text = str(key)
    if _SIMPLE_KEY.match(text):
        return f"{path}.{text}" if path else text
    return f'{path}["{text}"]'


def comparable(obj: Mapping[str, Any]) -> Obj:
    """The parts of an object the controller compares: all but ``metadata`` and ``status``,
    plus labels and annotations."""
    meta = obj.get("metadata") or {}
    out: Obj = {
        "metadata": {
            "labels": meta.get("labels") or {},
            "annotations": meta.get("annotations") or {},
        }
    }
    out.update(
        {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata", "status")}
    )
    return out


def field_changes(before: Any, after: Any, path: str = "") -> list[FieldChange]:
    """The leaves that differ between two values: maps key by key, lists of the same length
    item by item, anything else as a whole."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        out: list[FieldChange] = []
        for key in [*before, *(k for k in after if k not in before)]:
            sub = _key(path, key)
            if key not in after:
                out.append(FieldChange(sub, before[key], None, has_after=False))
            elif key not in before:
                out.append(FieldChange(sub, None, after[key], has_before=False))
            else:
                out.extend(field_changes(before[key], after[key], sub))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        pairs = enumerate(zip(before, after, strict=True))
        return [c for i, (b, a) in pairs for c in field_changes(b, a, f"{path}[{i}]")]
    return [] if before == after else [FieldChange(path, before, after)]


def _masked(value: Any, mask: str) -> Any:
    if isinstance(value, Mapping):
        return {k: mask for k in value}
    return mask


def mask_secret_changes(changes: Iterable[FieldChange]) -> list[FieldChange]:
    """Secret values replaced by masks (which keys changed stays visible)."""
    out = []
    for c in changes:
        if c.path.startswith(("data", "stringData")):
            out.append(
                FieldChange(
                    c.path,
                    _masked(c.before, MASK_BEFORE) if c.has_before else None,
                    _masked(c.after, MASK_AFTER) if c.has_after else None,
                    c.has_before,
                    c.has_after,
                )
            )
        else:
            out.append(c)
    return out


def changes_between(live: Mapping[str, Any], merged: Mapping[str, Any]) -> list[FieldChange]:
    """The fields applying would change, Secret values masked."""
    changes = field_changes(comparable(live), comparable(merged))
    return mask_secret_changes(changes) if is_secret(merged) else changes


# ----------------------------------------------------------------------------- one object
def _skipped(obj: Mapping[str, Any], live: Mapping[str, Any] | None) -> bool:
    def excluded(o: Mapping[str, Any]) -> bool:
        return md.has_policy(o, md.RECONCILE_KEY, md.DISABLED) or md.has_policy(
            o, md.SSA_KEY, md.SSA_IGNORE
        )

    if excluded(obj):
        return True
    return live is not None and (
        excluded(live) or md.has_policy(obj, md.SSA_KEY, md.SSA_IF_NOT_PRESENT)
    )


def _clip(value: Any, limit: int = 60) -> Any:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _taken_over(entry: Mapping[str, Any]) -> bool:
    """Whether the controller's clean-up moves a managedFields entry to itself."""
    name, operation = str(entry.get("manager") or ""), entry.get("operation")
    if name == FIELD_MANAGER:
        return operation == "Update"
    return name.startswith(TAKEN_OVER) and operation in ("Apply", "Update")


def _leaf_paths(fields: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The map-field paths of a ``fieldsV1`` tree (list items are not followed)."""
    for key, sub in (fields if isinstance(fields, Mapping) else {}).items():
        if not key.startswith("f:"):
            continue
        path = (*prefix, key[2:])
        if any(k != "." for k in sub or {}):
            yield from _leaf_paths(sub, path)
        else:
            yield path


def _owns(fields: Any, path: Sequence[str]) -> bool:
    node = fields
    for part in path:
        if not isinstance(node, Mapping) or f"f:{part}" not in node:
            return False
        node = node[f"f:{part}"]
    return True


def _lookup(obj: Any, path: Sequence[str]) -> tuple[bool, Any]:
    node = obj
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _path(parts: Sequence[str]) -> str:
    out = ""
    for part in parts:
        out = _key(out, part)
    return out


def dropped_fields(live: Mapping[str, Any], manifest: Mapping[str, Any]) -> list[FieldChange]:
    """Fields only kubectl (or another taken-over manager) set and the manifest does not: the
    apply after the take-over removes them."""
    meta = live.get("metadata") or {}
    entries = [e for e in meta.get("managedFields") or [] if isinstance(e, Mapping)]
    others = [e for e in entries if not _taken_over(e) and e.get("manager") != FIELD_MANAGER]
    out: dict[str, FieldChange] = {}
    for entry in filter(_taken_over, entries):
        for parts in _leaf_paths(entry.get("fieldsV1")):
            if parts[0] == "status" or any(_owns(o.get("fieldsV1"), parts) for o in others):
                continue
            found, value = _lookup(live, parts)
            if found and not _lookup(manifest, parts)[0]:
                out.setdefault(
                    _path(parts), FieldChange(_path(parts), _clip(value), None, True, False)
                )
    for key, field_name in [(k, "annotations") for k in STALE_ANNOTATIONS] + [
        (k, "labels") for k in STALE_LABELS
    ]:
        value = (meta.get(field_name) or {}).get(key)
        path = _key(f"metadata.{field_name}", key)
        if value is not None:
            out.setdefault(path, FieldChange(path, _clip(value), has_after=False))
    return list(out.values())


def _take_over(result: ObjectDiff, live: Mapping[str, Any], manifest: Mapping[str, Any]) -> None:
    """The controller's clean-up before applying (:mod:`weir.kustomize.cleanup`): fields set
    with kubectl are taken over, so that those the manifest does not set are removed."""
    if not cleanup_patch(live, FIELD_MANAGER):
        return
    result.action = Action.CONFIGURED
    meta = live.get("metadata") or {}
    managers = sorted(
        {str(e.get("manager")) for e in meta.get("managedFields") or [] if _taken_over(e)}
    )
    if managers:
        result.note = f"takes over the fields managed by {', '.join(managers)}"
    known = {c.path for c in result.changes}
    dropped = [c for c in dropped_fields(live, manifest) if c.path not in known]
    result.changes.extend(mask_secret_changes(dropped) if is_secret(live) else dropped)


def _defined_kinds(objects: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(group, kind) of the CRDs among ``objects``."""
    out = set()
    for obj in objects:
        if obj.get("kind") == "CustomResourceDefinition":
            spec = obj.get("spec") or {}
            out.add((str(spec.get("group", "")), str((spec.get("names") or {}).get("kind", ""))))
    return out


class _Differ:
    def __init__(self, api: ApiClient, objects: Sequence[Obj], force: bool) -> None:
        self.api = api
        self.mapper: RESTMapper = mapper_for(api)
        self.force = force
        self.crd_kinds = _defined_kinds(objects)
        self.namespaces = {
            str((o.get("metadata") or {}).get("name"))
            for o in objects
            if o.get("kind") == "Namespace" and o.get("apiVersion") == "v1"
        }
        self.limit = asyncio.Semaphore(CONCURRENCY)

    async def compare(self, obj: Obj) -> ObjectDiff:
        async with self.limit:
            return await self._compare(obj)

    async def _compare(self, obj: Obj) -> ObjectDiff:
        ref, api_version = ObjectRef.of(obj), str(obj.get("apiVersion", ""))
        result = ObjectDiff(ref, api_version, Action.UNCHANGED)
        try:
            resource = await self.mapper.for_object(obj)
        except UnknownKindError as e:
            if (ref.group, ref.kind) in self.crd_kinds:
                result.action, result.note = Action.CREATED, "its CRD is created by this build"
                return result
            raise ObjectDiffError(f"{ref}: {e}; install its CRD first") from e
        try:
            live: Obj | None = await kube.get(self.api, resource, ref.namespace or None, ref.name)
        except NotFoundError:
            live = None
        if _skipped(obj, live):
            result.action = Action.SKIPPED
            return result
        try:
            merged = await kube.apply(
                self.api, obj, FIELD_MANAGER, force=True, dry_run=True, mapper=self.mapper
            )
        except ApiError as e:
            return self._refused(result, obj, live, e)
        if live is None:
            result.action = Action.CREATED
            return result
        if drifted(live, merged):
            result.action = Action.CONFIGURED
            result.changes = changes_between(live, merged)
        if not md.has_policy(obj, md.SSA_KEY, md.SSA_MERGE):
            _take_over(result, live, obj)
        return result

    def _refused(
        self, result: ObjectDiff, obj: Obj, live: Obj | None, error: ApiError
    ) -> ObjectDiff:
        ref = result.ref
        forced = self.force or md.has_policy(obj, md.FORCE_KEY, md.ENABLED)
        if live is not None and forced and is_immutable_error(error):
            result.action, result.note = Action.CREATED, "recreated: an immutable field changes"
            return result
        if live is None and isinstance(error, NotFoundError) and ref.namespace in self.namespaces:
            result.action, result.note = Action.CREATED, f"namespace {ref.namespace} is new"
            return result
        hint = ""
        if live is not None and "immutable" in error.message.lower():
            hint = " (set spec.force or the kustomize.toolkit.fluxcd.io/force: Enabled "
            hint += "annotation to recreate it)"
        raise ObjectDiffError(
            f"{ref} dry-run failed ({error.reason or error.code}): {error.message}{hint}"
        ) from error

    async def deleted(self, built: BuiltKustomization, objects: Sequence[Obj]) -> list[ObjectDiff]:
        """The inventory entries garbage collection would delete."""
        if not built.spec.prune:
            return []
        try:
            old = inventory.from_wire(await self._live_inventory(built))
        except (ValueError, KeyError):
            return []  # an inventory weir cannot read: the controller would fail the same way
        stale = inventory.stale_entries(old, inventory.entries_from_objects(objects))
        out = []
        for entry in stale:
            if await self._prunable(entry, built):
                out.append(ObjectDiff(entry.ref, entry.api_version, Action.DELETED))
        return out

    async def _live_inventory(self, built: BuiltKustomization) -> Obj | None:
        from weir.actions.objects import find_object  # noqa: PLC0415
        from weir.api import KINDS  # noqa: PLC0415

        ks: Obj | None = built.kustomization
        if ks is not None and "status" not in ks:  # from a file: read the live one
            ks = await find_object(self.api, KINDS["Kustomization"], built.namespace, built.name)
        status = (ks or {}).get("status") or {}
        found = status.get("inventory")
        return found if isinstance(found, dict) else None

    async def _prunable(self, entry: Entry, built: BuiltKustomization) -> bool:
        ref = entry.ref
        try:
            resource = await self.mapper.resolve(entry.api_version, ref.kind)
            live = await kube.get(self.api, resource, ref.namespace or None, ref.name)
        except (NotFoundError, UnknownKindError):
            return False
        return prune_allowed(live, built.name, built.namespace)


# ----------------------------------------------------------------------------- the diff
async def diff_one(api: ApiClient, built: BuiltKustomization) -> KustomizationDiff:
    """The differences of one built Kustomization (not its nested ones)."""
    out = KustomizationDiff(built.namespace, built.name)
    objects = apply_order(built.objects)
    differ = _Differ(api, objects, bool(built.spec.force))
    results = await asyncio.gather(*(differ.compare(o) for o in objects), return_exceptions=True)
    for r in results:
        if isinstance(r, ApiUnavailableError):
            raise r
        if isinstance(r, ObjectDiffError | KubeError):
            out.errors.append(str(r))
        elif isinstance(r, BaseException):
            raise r
        else:
            out.objects.append(r)
    out.objects.extend(await differ.deleted(built, objects))
    return out


async def diff(api: ApiClient, built: BuiltKustomization) -> DiffResult:
    """The differences of a built Kustomization and of the nested ones built with it."""
    return DiffResult([await diff_one(api, b) for b in built.walk()])
