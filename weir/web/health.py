"""Controller health for the dashboard, from what the caches show.

For each Flux controller (source-, kustomize-, helm-, notification-controller) and the kinds it
owns: how many objects (from the cache's counts), and how many look unattended (among the
objects the cache marks as needing attention): a spec change
(``generation > status.observedGeneration``) or a ``reconcile.fluxcd.io/requestedAt`` request
left unhandled for longer than ``stale_after`` seconds (suspended objects never count:
:func:`weir.actions.health.unattended`). A controller with unattended objects is
``degraded`` (is it running?). In ``weir run`` the process's own metrics add the runs each
kind had, by outcome. When the operator writes a FluxReport, each controller also gets the
report's components for it (``report``: the Deployment or in-process group of the component
and of each of its shards, with readiness and kstatus), and a component the report says is not
ready makes the controller ``degraded`` with the report's message.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from weir.actions.health import STALE_AFTER, unattended
from weir.runtime.metrics import RuntimeMetrics
from weir.types import Obj
from weir.web.cache import ViewCache
from weir.web.kinds import FLUX_KINDS


def runs_by_kind(metrics: RuntimeMetrics | None) -> dict[str, dict[str, int]]:
    """``{kind: {result: runs}}`` from this process's ``weir_reconcile_total``."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    if metrics is None:
        return {}
    for family in metrics.registry.collect():
        if family.name != "weir_reconcile":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                kind, result = sample.labels.get("kind", ""), sample.labels.get("result", "")
                out[kind][result] = int(sample.value)
    return dict(out)


def report_components(cache: ViewCache) -> list[Obj]:
    """The components of the FluxReport(s) in the cache (normally one, ``flux``)."""
    out: list[Obj] = []
    for report in cache.flux_objects("FluxReport"):
        for component in (report.get("spec") or {}).get("components") or []:
            if isinstance(component, dict) and component.get("name"):
                out.append({k: component.get(k) for k in ("name", "ready", "status", "image")})
    return out


def _units_of(name: str, components: list[Obj]) -> list[Obj]:
    return [c for c in components if c["name"] == name or str(c["name"]).startswith(name + "-")]


def controller_health(
    cache: ViewCache,
    metrics: RuntimeMetrics | None = None,
    *,
    now: float | None = None,
    stale_after: float = STALE_AFTER,
    visible: Callable[[str, str], bool] | None = None,
) -> list[dict[str, Any]]:
    """One entry per controller: ``name``, ``status`` (``ok``, ``degraded``, ``idle``,
    ``syncing``), ``kinds``, ``objects``, ``unattended``, ``runs`` and a ``message``. With
    ``visible`` (a signed-in user's scope) the counts cover what that user may see."""
    now = time.time() if now is None else now
    runs = runs_by_kind(metrics)
    reported = report_components(cache)
    synced = cache.synced()
    errors = cache.errors()
    by_controller: dict[str, list[str]] = defaultdict(list)
    for info in FLUX_KINDS:
        by_controller[info.controller].append(info.kind)
    out = []
    watched: dict[str, list[str]] = defaultdict(list)
    for key in cache.attention:
        watched[key.split("/", 1)[0]].append(key)
    for name, kinds in by_controller.items():
        objects = stale = 0
        for kind in kinds:
            for (k, namespace), counter in cache.counts.items():
                if k == kind and (visible is None or visible(kind, namespace)):
                    objects += sum(counter.values())
            for key in watched.get(kind, ()):
                _, namespace, obj_name = key.split("/", 2)
                if visible is not None and not visible(kind, namespace):
                    continue
                obj = cache.get(kind, namespace, obj_name)
                stale += obj is not None and unattended(obj, now, stale_after)
        kind_runs = {k: runs[k] for k in kinds if k in runs}
        failing_kinds = [k for k in kinds if k in errors]
        if not all(synced.get(k, False) for k in kinds):
            state, message = (
                "syncing",
                "waiting for the first list of "
                + ", ".join(k for k in kinds if not synced.get(k, False)),
            )
            if failing_kinds:
                message += f" ({errors[failing_kinds[0]]})"
        elif [u for u in _units_of(name, reported) if not u.get("ready")]:
            down = next(u for u in _units_of(name, reported) if not u.get("ready"))
            state, message = "degraded", f"{down['name']}: {down.get('status') or 'not ready'}"
        elif stale:
            state = "degraded"
            message = f"{stale} object(s) not reconciled for over {stale_after:g}s: is it running?"
        elif objects == 0:
            state, message = "idle", "no objects"
        else:
            state, message = "ok", f"{objects} object(s) reconciled"
        out.append(
            {
                "name": name,
                "status": state,
                "kinds": kinds,
                "objects": objects,
                "unattended": stale,
                "runs": kind_runs,
                "inProcess": bool(kind_runs),
                "message": message,
                "report": _units_of(name, reported),
            }
        )
    return out
