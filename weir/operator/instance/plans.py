"""A unit's settings ConfigMap <-> the settings its controllers run with.

The rendered installation carries each unit's live settings in a ConfigMap labelled
``weir.dev/settings-for: <unit>``, keyed by Flux's flag names::

    controllers: kustomize          # weir run --controllers
    concurrent: "10"                # --concurrent
    requeue-dependency: 5s          # --requeue-dependency
    watch-label-selector: "!sharding.fluxcd.io/key"
    no-cross-namespace-refs: "true"
    default-service-account: default

The same data runs the unit in both modes: on a cluster, the unit's Deployment runs
``weir run --plan-configmap=<ns>/<unit>-settings``, which watches the ConfigMap
(:mod:`weir.operator.instance.planwatch`); locally, the operator turns the (patched) rendered
ConfigMaps into in-process controller groups (:func:`local_plans`). Either way a change of
``concurrent`` resizes the running controllers live and any other change restarts the
unit's controllers in-process (:class:`~weir.runtime.groups.GroupRunner`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import is_dataclass, replace
from pathlib import Path
from typing import Any

from weir.errors import ConfigError, WeirError
from weir.operator.instance.render import SETTINGS_FOR, SHARD
from weir.runtime.durations import parse_duration
from weir.runtime.groups import GroupPlan
from weir.runtime.settings import RunSettings

Obj = dict[str, Any]

KEYS = (
    "controllers",
    "concurrent",
    "requeue-dependency",
    "watch-label-selector",
    "no-cross-namespace-refs",
    "default-service-account",
)
"""The settings a unit's ConfigMap may hold."""
RESERVED = ("operator", "plan")
"""Registrations a unit may not run (they run units)."""


class SettingsError(ConfigError):
    """A settings ConfigMap holds a value ``weir run`` would refuse."""


def _bool(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no", ""):
        return False
    raise SettingsError(f"{key}: expected true or false, got {value!r}")


def _workers(value: str) -> int:
    text = value.strip()
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"concurrent must be a positive integer, not {value!r}")
    return int(text)


def with_feature_field(run: RunSettings, name: str, value: Any) -> RunSettings:
    """``run`` with ``name`` set to ``value`` in every feature settings object that has that
    field (a Flux flag several controllers share, e.g. ``--requeue-dependency`` of source-,
    kustomize- and helm-controller). The operator does not import the controllers' settings
    classes (they are its siblings); it knows their flags by name."""
    found = False
    features: list[object] = []
    for feature in run.features:
        if is_dataclass(feature) and not isinstance(feature, type) and hasattr(feature, name):
            features.append(replace(feature, **{name: value}))
            found = True
        else:
            features.append(feature)
    if not found:
        raise SettingsError(
            f"no controller settings have '{name}': start the operator with `weir run` "
            "(it passes every controller's settings)"
        )
    return replace(run, features=tuple(features))


def with_storage(run: RunSettings, path: str, addr: str) -> RunSettings:
    """``run`` with the source-controller's artifact storage at ``path``, served on ``addr``."""
    features: list[object] = []
    for feature in run.features:
        storage = getattr(feature, "storage", None)
        if is_dataclass(feature) and not isinstance(feature, type) and is_dataclass(storage):
            moved = replace(storage, path=path, addr=addr, adv_addr=None)  # type: ignore[type-var]
            features.append(replace(feature, storage=moved))
        else:
            features.append(feature)
    return replace(run, features=tuple(features))


def storage_of(run: RunSettings) -> tuple[str, str]:
    """(path, addr) of the source-controller's storage in ``run`` (weir's defaults without)."""
    for feature in run.features:
        storage = getattr(feature, "storage", None)
        if storage is not None and hasattr(storage, "path") and hasattr(storage, "addr"):
            return str(storage.path), str(storage.addr)
    return ".weir/storage", "127.0.0.1:9090"


def _selector(*parts: str | None) -> str | None:
    joined = ",".join(p for p in parts if p)
    return joined or None


def run_settings(data: Mapping[str, str], base: RunSettings, *, source: str = "") -> RunSettings:
    """``base`` with the unit's settings applied; ``source`` names the ConfigMap in errors.

    The process's own ``--watch-label-selector`` (``base``) is kept and the unit's selector
    added to it (both must match).
    """
    where = f"{source}: " if source else ""
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise SettingsError(
            f"{where}unknown setting(s) {', '.join(unknown)}; known: {', '.join(KEYS)}"
        )
    controllers = str(data.get("controllers") or "").strip()
    if not controllers:
        raise SettingsError(f"{where}'controllers' is empty: name the controllers to run")
    inner = {c.strip().removeprefix("-") for c in controllers.split(",")} & set(RESERVED)
    if inner:
        raise SettingsError(
            f"{where}'controllers' names {', '.join(sorted(inner))}, which cannot run in a unit"
        )
    run = replace(base, controllers=controllers)
    try:
        if "concurrent" in data:
            run = replace(run, concurrent=_workers(str(data["concurrent"])))
        if "requeue-dependency" in data:
            delay = parse_duration(str(data["requeue-dependency"]))
            run = with_feature_field(run, "requeue_dependency", delay)
        if "no-cross-namespace-refs" in data:
            flag = _bool("no-cross-namespace-refs", str(data["no-cross-namespace-refs"]))
            run = with_feature_field(run, "no_cross_namespace_refs", flag)
        if "default-service-account" in data:
            account = str(data["default-service-account"]).strip() or None
            run = with_feature_field(run, "default_service_account", account)
    except (ValueError, WeirError) as e:
        if isinstance(e, SettingsError):
            raise
        raise SettingsError(
            f"{where}invalid value ({e}); fix the settings (or the patch that changed them)"
        ) from e
    if "watch-label-selector" in data:
        run = replace(
            run,
            watch_label_selector=_selector(
                base.watch_label_selector, str(data["watch-label-selector"]).strip()
            ),
        )
    return run


def settings_of(objects: Sequence[Obj]) -> dict[str, tuple[dict[str, str], str | None]]:
    """The units' settings in rendered objects, by unit name, with the unit's shard."""
    out: dict[str, tuple[dict[str, str], str | None]] = {}
    for obj in objects:
        if obj.get("kind") != "ConfigMap" or obj.get("apiVersion") != "v1":
            continue
        labels = (obj.get("metadata") or {}).get("labels") or {}
        unit = labels.get(SETTINGS_FOR)
        if unit:
            data = {str(k): str(v) for k, v in (obj.get("data") or {}).items()}
            out[str(unit)] = (data, labels.get(SHARD))
    return out


def local_plans(objects: Sequence[Obj], base: RunSettings) -> list[GroupPlan]:
    """The in-process controller groups of the rendered objects (local mode): one per
    unit, with ``base`` (the operator process's settings) for everything the unit does not
    set. The source-controller's shards keep their artifacts in ``<storage>/<unit>`` and
    serve them on a free port of the storage address's host."""
    plans = []
    for unit, (data, shard) in sorted(settings_of(objects).items()):
        run = run_settings(data, base, source=f"ConfigMap {unit}-settings")
        if shard is not None:
            path, addr = storage_of(base)
            host = addr.rpartition(":")[0] or "127.0.0.1"
            run = with_storage(run, str(Path(path) / unit), f"{host}:0")
        plans.append(GroupPlan(unit, run))
    return plans
