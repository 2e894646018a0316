"""What changed between the Helm release revisions of a HelmRelease, and rolling back to one.

Revisions come from Helm's storage: the ``sh.helm.release.v1.<release>.v<N>`` Secrets of the
release in the storage namespace, the newest :data:`MAX_REVISIONS` (a rollback's own revision
too, which ``status.history`` of a suspended HelmRelease does not record). Each gives the
chart, chart and app version, status, when, and the values the release was made with (Helm's
``config``). Each revision is
compared with the one before it: chart version, app version, and every values path that
changed.

Values may hold secrets: every path that the HelmRelease's ``valuesFrom`` Secrets fill is
shown as ``***`` (:mod:`weir.actions.helmvalues`), and callers that may not read Secrets in the
storage namespace get the changed paths without their values (the release itself is a Secret).

:func:`rollback` is Helm's rollback to a revision, after suspending the HelmRelease (else its
controller would upgrade it straight back to what Git says): the way to stop a bad release now
and fix Git at leisure, then resume.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.actions.helmstorage import SECRETS, decode_release
from weir.actions.helmvalues import compose, differences, path_text, value_at
from weir.actions.masking import MASK
from weir.actions.objects import meta, status
from weir.errors import UsageError
from weir.kube.informer import list_all
from weir.types import Obj

MAX_CHANGES = 100
MAX_REVISIONS = 10


@dataclass(frozen=True)
class Revision:
    """One release revision as Helm stored it."""

    version: int
    name: str
    namespace: str
    status: str
    chart: str
    chart_version: str
    app_version: str
    deployed: str | None
    description: str
    config: dict[str, Any]


def storage_namespace(hr: Mapping[str, Any]) -> str:
    spec = hr.get("spec") or {}
    return str(spec.get("storageNamespace") or meta(hr).get("namespace", ""))


def release_name(hr: Mapping[str, Any]) -> str:
    """The Helm release's name: the latest snapshot's, else ``spec.releaseName``, else
    ``[targetNamespace-]name`` (Flux's rule)."""
    for snap in status(hr).get("history") or []:
        if isinstance(snap, Mapping) and snap.get("name"):
            return str(snap["name"])
    spec = hr.get("spec") or {}
    if spec.get("releaseName"):
        return str(spec["releaseName"])
    name = str(meta(hr).get("name", ""))
    target = spec.get("targetNamespace")
    return f"{target}-{name}" if target and target != meta(hr).get("namespace") else name


def _revision(release: Mapping[str, Any]) -> Revision:
    chart = (release.get("chart") or {}).get("metadata") or {}
    info = release.get("info") or {}
    config = release.get("config") or {}
    return Revision(
        version=int(release.get("version") or 0),
        name=str(release.get("name", "")),
        namespace=str(release.get("namespace", "")),
        status=str(info.get("status", "")),
        chart=str(chart.get("name", "")),
        chart_version=str(chart.get("version", "")),
        app_version=str(chart.get("appVersion", "")),
        deployed=info.get("last_deployed") or info.get("first_deployed"),
        description=str(info.get("description", "")),
        config=config if isinstance(config, dict) else {},
    )


async def read_revisions(api: ApiClient, hr: Mapping[str, Any]) -> tuple[list[Revision], list[str]]:
    """The release's revisions in Helm's storage, newest first (at most
    :data:`MAX_REVISIONS`), and the storage Secrets that could not be decoded."""
    where, name = storage_namespace(hr), release_name(hr)
    items, _ = await list_all(
        api, SECRETS, namespace=where, label_selector=f"owner=helm,name={name}"
    )
    found: list[Revision] = []
    broken: list[str] = []
    for obj in items:
        try:
            release = decode_release(str((obj.get("data") or {}).get("release", "")))
        except (ValueError, OSError):
            broken.append(f"{where}/{obj['metadata'].get('name')}")
            continue
        if release.get("version"):
            found.append(_revision(release))
    found.sort(key=lambda r: r.version, reverse=True)
    return found[:MAX_REVISIONS], broken


def _secret_paths(shown: Any, path: tuple[str | int, ...] = ()) -> set[tuple[str | int, ...]]:
    """Paths whose shown (masked) value is ``***``: filled from a Secret."""
    if isinstance(shown, Mapping):
        out: set[tuple[str | int, ...]] = set()
        for key, value in shown.items():
            out |= _secret_paths(value, (*path, key))
        return out
    return {path} if shown == MASK else set()


def _masked(path: tuple[str | int, ...], secret: set[tuple[str | int, ...]]) -> bool:
    return any(path[: len(p)] == p or p[: len(path)] == path for p in secret)


def changes(
    older: Revision | None,
    newer: Revision,
    secret: set[tuple[str | int, ...]],
    show_values: bool,
) -> Obj:
    """What ``newer`` changed against ``older``: chart, versions, values paths."""
    out: Obj = {"chart": None, "appVersion": None, "values": [], "valuesTruncated": False}
    if older is None:
        return out
    if (older.chart, older.chart_version) != (newer.chart, newer.chart_version):
        out["chart"] = {
            "before": f"{older.chart} {older.chart_version}",
            "after": f"{newer.chart} {newer.chart_version}",
        }
    if older.app_version != newer.app_version:
        out["appVersion"] = {"before": older.app_version, "after": newer.app_version}
    found = differences(older.config, newer.config)
    rows = []
    for path, kind in found[:MAX_CHANGES]:
        row: Obj = {"path": path_text(path), "change": kind}
        if _masked(path, secret):
            row["before"], row["after"], row["secret"] = MASK, MASK, True
        elif show_values:
            row["before"] = value_at(older.config, path) if kind != "onlyInB" else None
            row["after"] = value_at(newer.config, path) if kind != "onlyInA" else None
        rows.append(row)
    out["values"] = rows
    out["valuesTruncated"] = len(found) > MAX_CHANGES
    return out


async def release_history(api: ApiClient, hr: Mapping[str, Any], *, show_values: bool) -> Obj:
    """``{revisions: [...], unreadable, valuesShown}`` for the UI's History tab: each revision
    with what it changed against the one before it. ``api`` reads Helm's storage Secrets
    (weir's own identity: the caller may not)."""
    revisions, unreadable = await read_revisions(api, hr)
    secret = _secret_paths((await compose(api, hr, mask=True)).shown)
    current = revisions[0].version if revisions else None
    out = []
    for i, rev in enumerate(revisions):
        older = revisions[i + 1] if i + 1 < len(revisions) else None
        out.append(
            {
                "version": rev.version,
                "status": rev.status,
                "chart": rev.chart,
                "chartVersion": rev.chart_version,
                "appVersion": rev.app_version,
                "deployed": rev.deployed,
                "description": rev.description,
                "current": rev.version == current,
                "changes": changes(older, rev, secret, show_values),
            }
        )
    return {"revisions": out, "unreadable": unreadable, "valuesShown": show_values}


def check_rollback_target(revisions: Sequence[Revision], revision: int) -> Revision:
    """The revision to roll back to; :class:`UsageError` when it is not a previous one."""
    if not revisions:
        raise UsageError("this HelmRelease has no release revisions to roll back to")
    if revision == revisions[0].version:
        raise UsageError(f"revision {revision} is the current one: choose an older revision")
    for rev in revisions:
        if rev.version == revision:
            return rev
    known = ", ".join(str(r.version) for r in revisions[1:]) or "none"
    raise UsageError(f"revision {revision} is not kept in Helm's storage (older ones: {known})")
