"""What applying a built Kustomization would change (``weir diff ks``), decided by the
controller's own planner (:func:`weir.ssa.apply.plan`), without changing anything.

Every built object (in apply order, a few at a time) is planned as the controller's
:func:`~weir.ssa.apply.apply_all` plans it: resource and live object, the skip policies
(``kustomize.toolkit.fluxcd.io/reconcile: disabled``, ``ssa: Ignore``, ``ssa: IfNotPresent``),
a server-side **dry-run** apply as ``kustomize-controller`` with conflicts forced, the
comparison with the live object, the take-over of kubectl's fields. The whole build is planned
at once (not stage by stage), so a kind whose CRD is part of the build, or an object whose
Namespace is, is ``created`` (it cannot be dry-run yet). What this module adds:

- for ``configured`` objects the fields that change (the dry-run result against the live
  object, everything but ``metadata`` and ``status``, plus labels and annotations), and the
  fields the take-over of kubectl's fields removes;
- objects the planner could not plan become one error line each (the others are still
  compared); an unreachable API server fails the whole diff.

With ``spec.prune``, entries of the live Kustomization's ``status.inventory`` that are no longer
built, still exist and may be pruned (owner labels, no ``prune: disabled``) are ``deleted``.

Secret values never appear in the field changes: they read ``*** (before)``/``*** (after)``.
SOPS-encrypted Secrets (which cannot be decrypted here) are compared as ``flux diff`` compares
them: masked (:func:`~weir.actions.masking.mask_sops_secret`), and ``configured`` only when
their keys differ from the live Secret's. Objects are listed in build order (as ``flux diff``
lists them), the deleted ones after them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from weir.actions.build import BuiltKustomization
from weir.actions.masking import (
    MASK_AFTER,
    MASK_BEFORE,
    is_secret,
    mask_sops_secret,
    masked_change,
    sops_encrypted,
)
from weir.errors import KubeError
from weir.kube import apply as kube
from weir.kube import inventory
from weir.kube.errors import ApiError, ApiUnavailableError, NotFoundError, UnknownKindError
from weir.kube.inventory import Entry, ObjectRef
from weir.kube.order import apply_order
from weir.kube.resources import mapper_for
from weir.ssa.apply import FIELD_MANAGER, Action, ApplyOptions, Plan, PlanError, plan
from weir.ssa.cleanup import STALE_ANNOTATIONS, STALE_LABELS
from weir.ssa.prune import prune_allowed
from weir.types import Obj

if TYPE_CHECKING:
    from kubernetes_asyncio.client import ApiClient


CHANGING = (Action.CREATED, Action.CONFIGURED, Action.DELETED)
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
    live: Obj | None = field(default=None, repr=False)
    """The live object (for a drifted one; not in :meth:`to_dict`)."""
    merged: Obj | None = field(default=None, repr=False)
    """The dry-run result (for a drifted one; not in :meth:`to_dict`)."""

    @property
    def is_secret(self) -> bool:
        return self.ref.kind == "Secret" and self.api_version == "v1"

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

    @property
    def has_changes(self) -> bool:
        return bool(self.changed)

    def header(self) -> str | None:
        """A line announcing the group itself (a HelmRelease's release), if any."""
        return None

    def to_dict(self) -> Obj:
        return {
            "kustomization": {"namespace": self.namespace, "name": self.name},
            "objects": [o.to_dict() for o in self.objects],
            "errors": list(self.errors),
        }


@dataclass
class DiffResult:
    """The differences of a Kustomization and, when built recursively, the nested ones (or of
    HelmReleases: ``key`` is then ``helmReleases``)."""

    kustomizations: list[KustomizationDiff]
    key: str = "kustomizations"

    @property
    def differs(self) -> bool:
        return any(k.has_changes for k in self.kustomizations)

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
            self.key: [k.to_dict() for k in self.kustomizations],
        }


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


def mask_secret_changes(changes: Iterable[FieldChange]) -> list[FieldChange]:
    """Secret values replaced by masks (which keys changed stays visible)."""
    out = []
    for c in changes:
        if c.path.startswith(("data", "stringData")):
            out.append(
                FieldChange(
                    c.path,
                    masked_change(c.before, MASK_BEFORE) if c.has_before else None,
                    masked_change(c.after, MASK_AFTER) if c.has_after else None,
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
    """The controller's clean-up before applying (:mod:`weir.ssa.cleanup`): fields set
    with kubectl are taken over, so that those the manifest does not set are removed."""
    meta = live.get("metadata") or {}
    managers = sorted(
        {str(e.get("manager")) for e in meta.get("managedFields") or [] if _taken_over(e)}
    )
    if managers:
        result.note = f"takes over the fields managed by {', '.join(managers)}"
    known = {c.path for c in result.changes}
    dropped = [c for c in dropped_fields(live, manifest) if c.path not in known]
    result.changes.extend(mask_secret_changes(dropped) if is_secret(live) else dropped)


def object_diff(planned: Plan, *, sops: bool = False) -> ObjectDiff:
    """What a plan means for one object: its action, why, and the fields that change.
    ``sops``: the object is a SOPS-encrypted Secret whose values were masked for the dry-run
    (:func:`for_dry_run`): it differs only when its keys do, as in ``flux diff``."""
    ref, live, merged = planned.ref, planned.live, planned.dry_run
    result = ObjectDiff(ref, str(planned.obj.get("apiVersion", "")), planned.action)
    result.note = planned.note
    if planned.drift and live is not None and merged is not None:
        if sops and _keys(live) == _keys(merged):
            result.action = Action.UNCHANGED
            return result
        result.changes = changes_between(live, merged)
        result.live, result.merged = live, merged
    if planned.cleanup and live is not None:
        _take_over(result, live, planned.obj)
    return result


def _is_secret(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "Secret"


def _keys(obj: Mapping[str, Any]) -> set[str]:
    return {*(obj.get("data") or {}), *(obj.get("stringData") or {})}


def for_dry_run(obj: Obj) -> Obj:
    """What is dry-run applied for a built object: SOPS-encrypted Secrets masked as ``flux
    diff`` does (their values cannot be decrypted here), top-level ``sops`` metadata dropped
    from other objects."""
    if obj.get("kind") == "Secret" and (sops_encrypted(obj) or "sops" not in obj):
        masked = mask_sops_secret(obj)
        return masked if masked != obj else obj
    if "sops" in obj:
        return {k: v for k, v in obj.items() if k != "sops"}
    return obj


def _error_line(error: Exception) -> str:
    """The line for an object that could not be planned: a refused dry-run as the controller
    words it, a kind the API server does not serve with a hint, else the API client's error.
    Raises what the diff cannot go on without: an unreachable API server, an error not from
    the API."""
    cause = error.cause if isinstance(error, PlanError) else error
    if isinstance(cause, ApiUnavailableError) or not isinstance(cause, KubeError):
        raise cause
    if not isinstance(error, PlanError):
        return str(error)
    if error.step == "resolve":
        return f"{error.ref}: {cause}; install its CRD first"
    if error.step == "dry-run" and isinstance(cause, ApiError):
        return str(error)
    return str(cause)


async def _live_inventory(api: ApiClient, built: BuiltKustomization) -> Obj | None:
    from weir.actions.objects import find_object  # noqa: PLC0415
    from weir.api import KINDS  # noqa: PLC0415

    ks: Obj | None = built.kustomization
    if ks is not None and "status" not in ks:  # from a file: read the live one
        ks = await find_object(api, KINDS["Kustomization"], built.namespace, built.name)
    status = (ks or {}).get("status") or {}
    found = status.get("inventory")
    return found if isinstance(found, dict) else None


async def _prunable(api: ApiClient, entry: Entry, built: BuiltKustomization) -> bool:
    ref = entry.ref
    try:
        resource = await mapper_for(api).resolve(entry.api_version, ref.kind)
        live = await kube.get(api, resource, ref.namespace or None, ref.name)
    except (NotFoundError, UnknownKindError):
        return False
    return prune_allowed(live, built.name, built.namespace)


async def _deleted(
    api: ApiClient, built: BuiltKustomization, objects: Sequence[Obj]
) -> list[ObjectDiff]:
    """The inventory entries garbage collection would delete."""
    if not built.spec.prune:
        return []
    try:
        old = inventory.from_wire(await _live_inventory(api, built))
    except (ValueError, KeyError):
        return []  # an inventory weir cannot read: the controller would fail the same way
    stale = inventory.stale_entries(old, inventory.entries_from_objects(objects))
    out = []
    for entry in stale:
        if await _prunable(api, entry, built):
            out.append(ObjectDiff(entry.ref, entry.api_version, Action.DELETED))
    return out


# ----------------------------------------------------------------------------- the diff
async def diff_one(api: ApiClient, built: BuiltKustomization) -> KustomizationDiff:
    """The differences of one built Kustomization (not its nested ones)."""
    out = KustomizationDiff(built.namespace, built.name)
    built_order = [for_dry_run(o) for o in built.objects]
    masked = {id(d) for o, d in zip(built.objects, built_order, strict=True) if d is not o}
    position = {id(o): i for i, o in enumerate(built_order)}
    objects = apply_order(built_order)
    options = ApplyOptions(force=bool(built.spec.force))
    plans = await plan(api, objects, options, pending=objects)
    by_build = sorted(zip(objects, plans, strict=True), key=lambda pair: position[id(pair[0])])
    for obj, planned in by_build:
        if planned.error is None:
            out.objects.append(object_diff(planned, sops=id(obj) in masked and _is_secret(obj)))
        else:
            out.errors.append(_error_line(planned.error))
    out.objects.extend(await _deleted(api, built, objects))
    return out


async def diff(api: ApiClient, built: BuiltKustomization) -> DiffResult:
    """The differences of a built Kustomization and of the nested ones built with it."""
    return DiffResult([await diff_one(api, b) for b in built.walk()])
