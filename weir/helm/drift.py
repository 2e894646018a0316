"""Drift detection of a release's objects against the cluster, as helm-controller does it:

For every object of the release manifest (the post-rendered one Helm stored):

1. Helm's ownership metadata is set on it (``app.kubernetes.io/managed-by: Helm``,
   ``meta.helm.sh/release-name``/``-namespace``) and, when namespaced and unset, the release
   namespace;
2. objects labelled or annotated ``helm.toolkit.fluxcd.io/driftDetection: disabled`` are skipped;
3. it is server-side applied as a **dry run** (forced, Helm's field manager): the answer is what
   the object would be once corrected;
4. that answer is compared with the live object, both without server-owned metadata and without
   the JSON pointers of matching ``driftDetection.ignore`` rules (a rule without ``target``
   matches every object). A missing object is drift too (it would be created).

:func:`detect_drift` returns a :class:`DriftReport`; with ``mode: enabled`` the reconciler calls
:func:`correct_drift`, which creates missing objects (server-side apply) and patches drifted
ones with the JSON patch of the difference (so ignored fields stay as they are); with
``mode: warn`` it only reports.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kubernetes_asyncio.client import ApiClient

from weir import yamlio
from weir.errors import KubeError
from weir.helmengine.errors import DriftError
from weir.kube import transport
from weir.kube.apply import apply, get, patch
from weir.kube.errors import ApiError, NotFoundError
from weir.kube.resources import RESTMapper, mapper_for

DRIFT_DETECTION_KEY = "helm.toolkit.fluxcd.io/driftDetection"
DRIFT_DETECTION_DISABLED = "disabled"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
RELEASE_NAME_ANNOTATION = "meta.helm.sh/release-name"
RELEASE_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"
_SERVER_METADATA = (
    "managedFields",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "uid",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)


# -------------------------------------------------------------------------- selection
@dataclass(frozen=True)
class Selector:
    """A kustomize target selector (``name``/``namespace`` are anchored regular expressions)."""

    group: str | None = None
    version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    label_selector: str | None = None
    annotation_selector: str | None = None


@dataclass(frozen=True)
class IgnoreRule:
    """``driftDetection.ignore[]``: JSON pointers, for the objects ``target`` selects."""

    paths: tuple[str, ...]
    target: Selector | None = None

    @classmethod
    def from_model(cls, rule: Any) -> IgnoreRule:
        target = rule.target
        return cls(
            tuple(rule.paths),
            None
            if target is None
            else Selector(
                group=target.group,
                version=target.version,
                kind=target.kind,
                name=target.name,
                namespace=target.namespace,
                label_selector=target.label_selector,
                annotation_selector=target.annotation_selector,
            ),
        )


_REQUIREMENT = re.compile(
    r"^\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9_./-]+)\s*"
    r"(?:(?P<op>==|=|!=)\s*(?P<val>[A-Za-z0-9_.-]*)"
    r"|\s+(?P<setop>in|notin)\s*\((?P<set>[^)]*)\))?\s*$"
)


def _split_requirements(selector: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current))
    return parts


def match_label_selector(selector: str, labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector syntax: ``a=b``, ``a!=b``, ``a``, ``!a``, ``a in (x,y)``,
    ``a notin (x)``, comma-separated (all must hold)."""
    for requirement in _split_requirements(selector):
        m = _REQUIREMENT.match(requirement)
        if m is None:
            raise DriftError(f"invalid label selector {selector!r}: fix the ignore rule target")
        key = m["key"]
        if m["setop"]:
            values = {v.strip() for v in m["set"].split(",") if v.strip()}
            inside = key in labels and labels[key] in values
            if (m["setop"] == "in") != inside:
                return False
        elif m["op"] == "!=":
            if labels.get(key) == m["val"]:
                return False
        elif m["op"]:
            if labels.get(key) != m["val"]:
                return False
        elif m["neg"]:
            if key in labels:
                return False
        elif key not in labels:
            return False
    return True


def _group_version(obj: Mapping[str, Any]) -> tuple[str, str]:
    api_version = str(obj.get("apiVersion") or "")
    group, _, version = api_version.rpartition("/")
    return group, version


def selects(selector: Selector | None, obj: Mapping[str, Any]) -> bool:
    """Whether ``selector`` selects ``obj`` (None selects everything)."""
    if selector is None:
        return True
    group, version = _group_version(obj)
    meta = obj.get("metadata") or {}
    checks: list[tuple[str | None, str]] = [
        (selector.group, group),
        (selector.version, version),
        (selector.kind, str(obj.get("kind") or "")),
    ]
    for want, have in checks:
        if want and want != have:
            return False
    for pattern, value in (
        (selector.name, meta.get("name")),
        (selector.namespace, meta.get("namespace")),
    ):
        if pattern and not re.fullmatch(pattern, str(value or "")):
            return False
    if selector.label_selector and not match_label_selector(
        selector.label_selector, meta.get("labels") or {}
    ):
        return False
    return not (
        selector.annotation_selector
        and not match_label_selector(selector.annotation_selector, meta.get("annotations") or {})
    )


# --------------------------------------------------------------------------- pointers
def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def remove_pointer(obj: Any, pointer: str) -> None:
    """Remove what the RFC 6901 ``pointer`` names from ``obj`` (in place; absent is fine)."""
    if not pointer or pointer == "/":
        return
    tokens = [_unescape(t) for t in pointer.lstrip("/").split("/")]
    node = obj
    for token in tokens[:-1]:
        if isinstance(node, dict):
            node = node.get(token)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return
    last = tokens[-1]
    if isinstance(node, dict):
        node.pop(last, None)
    elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node.pop(int(last))


def json_diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """An RFC 6902 JSON patch turning ``old`` into ``new`` (maps key by key, lists whole)."""
    if isinstance(old, dict) and isinstance(new, dict):
        ops: list[dict[str, Any]] = []
        for key in sorted(old.keys() - new.keys()):
            ops.append({"op": "remove", "path": f"{path}/{_escape(key)}"})
        for key in sorted(new):
            sub = f"{path}/{_escape(key)}"
            if key not in old:
                ops.append({"op": "add", "path": sub, "value": new[key]})
            else:
                ops.extend(json_diff(old[key], new[key], sub))
        return ops
    if old == new and type(old) is type(new):
        return []
    return [{"op": "replace", "path": path or "", "value": new}]


# ------------------------------------------------------------------------------ report
@dataclass(frozen=True)
class ObjectDrift:
    """One drifted object: missing (``create``) or changed (``update``, with its patch)."""

    action: Literal["create", "update"]
    desired: dict[str, Any]
    patch: tuple[dict[str, Any], ...] = ()

    @property
    def display(self) -> str:
        meta = self.desired.get("metadata") or {}
        parts = [self.desired.get("kind"), meta.get("namespace"), meta.get("name")]
        return "/".join(str(p) for p in parts if p)

    @property
    def paths(self) -> list[str]:
        return [str(op["path"]) for op in self.patch]


@dataclass
class DriftReport:
    """The objects whose live state differs from the release manifest."""

    drifts: list[ObjectDrift] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.drifts)

    def summary(self, limit: int = 10) -> str:
        """``Deployment/ns/app changed (/spec/replicas), ConfigMap/ns/x removed`` (short)."""
        if not self.drifts:
            return "no drift detected"
        items = []
        for d in self.drifts[:limit]:
            if d.action == "create":
                items.append(f"{d.display} removed")
            else:
                items.append(f"{d.display} changed ({', '.join(d.paths[:5])})")
        more = f" and {len(self.drifts) - limit} more" if len(self.drifts) > limit else ""
        return ", ".join(items) + more


# ------------------------------------------------------------------------------ detect
def parse_manifest(manifest: str) -> list[dict[str, Any]]:
    """The objects of a release manifest (empty documents dropped)."""
    try:
        return [d for d in yamlio.load_all(manifest) if isinstance(d, dict) and d.get("kind")]
    except yamlio.YAMLError as e:
        raise DriftError(f"the release manifest does not parse: {e}") from e


def _disabled(obj: Mapping[str, Any]) -> bool:
    meta = obj.get("metadata") or {}
    for source in (meta.get("labels") or {}, meta.get("annotations") or {}):
        if str(source.get(DRIFT_DETECTION_KEY, "")).lower() == DRIFT_DETECTION_DISABLED:
            return True
    return False


def comparable(
    obj: Mapping[str, Any], rules: Sequence[IgnoreRule], selector_obj: Mapping[str, Any]
) -> dict[str, Any]:
    """``obj`` without server-owned metadata, ``status`` and the ignored paths."""
    out = copy.deepcopy(dict(obj))
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for key in _SERVER_METADATA:
            meta.pop(key, None)
    for rule in rules:
        if selects(rule.target, selector_obj):
            for pointer in rule.paths:
                remove_pointer(out, pointer)
    return out


def _with_helm_metadata(obj: Mapping[str, Any], name: str, namespace: str) -> dict[str, Any]:
    out = copy.deepcopy(dict(obj))
    meta = out.setdefault("metadata", {})
    meta["labels"] = {**(meta.get("labels") or {}), MANAGED_BY_LABEL: "Helm"}
    meta["annotations"] = {
        **(meta.get("annotations") or {}),
        RELEASE_NAME_ANNOTATION: name,
        RELEASE_NAMESPACE_ANNOTATION: namespace,
    }
    return out


async def detect_drift(
    api: ApiClient,
    manifest: str,
    *,
    release_name: str,
    release_namespace: str,
    field_manager: str,
    ignore: Sequence[IgnoreRule] = (),
    mapper: RESTMapper | None = None,
) -> DriftReport:
    """Compare the release's objects with the cluster (see the module docstring)."""
    mapper = mapper or mapper_for(api)
    report = DriftReport()
    for raw in parse_manifest(manifest):
        obj = _with_helm_metadata(raw, release_name, release_namespace)
        try:
            ref = await mapper.for_object(obj)
        except KubeError as e:
            raise DriftError(f"cannot map {obj.get('kind')}: {e}") from e
        meta = obj["metadata"]
        if ref.namespaced and not meta.get("namespace"):
            meta["namespace"] = release_namespace
        if _disabled(obj):
            report.skipped.append(_display(obj))
            continue
        namespace = meta.get("namespace") if ref.namespaced else None
        try:
            live = await get(api, ref, namespace, str(meta.get("name")))
        except NotFoundError:
            report.drifts.append(ObjectDrift("create", obj))
            continue
        except ApiError as e:
            raise DriftError(f"cannot read {_display(obj)}: {e}") from e
        if _disabled(live):
            report.skipped.append(_display(obj))
            continue
        try:
            desired = await apply(api, obj, field_manager, force=True, dry_run=True, mapper=mapper)
        except ApiError as e:
            raise DriftError(f"server-side dry run of {_display(obj)} failed: {e}") from e
        ops = json_diff(comparable(live, ignore, obj), comparable(desired, ignore, obj))
        if ops:
            report.drifts.append(ObjectDrift("update", obj, tuple(ops)))
    return report


def _display(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return "/".join(str(p) for p in (obj.get("kind"), meta.get("namespace"), meta.get("name")) if p)


async def correct_drift(
    api: ApiClient,
    report: DriftReport,
    *,
    field_manager: str,
    mapper: RESTMapper | None = None,
) -> list[str]:
    """Recreate missing objects and patch changed ones; returns what was corrected."""
    mapper = mapper or mapper_for(api)
    corrected = []
    errors = []
    creates = [d for d in report.drifts if d.action == "create"]
    updates = [d for d in report.drifts if d.action == "update"]
    for drift in creates + updates:
        try:
            if drift.action == "create":
                await apply(api, drift.desired, field_manager, force=True, mapper=mapper)
            else:
                ref = await mapper.for_object(drift.desired)
                meta = drift.desired["metadata"]
                await patch(
                    api,
                    ref,
                    meta.get("namespace") if ref.namespaced else None,
                    str(meta["name"]),
                    list(drift.patch),
                    content_type=transport.JSON_PATCH,
                    field_manager=field_manager,
                )
        except KubeError as e:
            errors.append(f"{drift.display}: {e}")
            continue
        corrected.append(drift.display)
    if errors:
        raise DriftError("correcting drift failed for " + "; ".join(errors))
    return corrected
