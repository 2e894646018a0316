"""The Flux Operator's Prometheus metrics, on weir's ``/metrics``.

Gauges of value 1 whose labels carry the state, so that the Flux Operator's Grafana
dashboards (and ours, the example fleet's ``flux-cluster.json``: examples/etherwurst/charts/
kube-prometheus-stack/charts/grafana/dashboards) work:

- ``flux_instance_info{uid, kind, name, exported_namespace, ready, reason, suspended,
  registry, revision}``: the FluxInstance, refreshed at each of its reconciliations;
- ``flux_resource_info{uid, kind, name, exported_namespace, ready, reason, suspended,
  revision, url, ref, source_name, path}``: every Flux object of the cluster, refreshed with
  the FluxReport. Labels a kind does not have are empty (Prometheus treats an empty label as
  absent).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

Obj = Mapping[str, Any]

COMMON = ("uid", "kind", "name", "exported_namespace", "ready", "reason", "suspended")
INSTANCE_LABELS = (*COMMON, "registry", "revision")
RESOURCE_LABELS = (*COMMON, "revision", "url", "ref", "source_name", "path")
RESOURCESET_LABELS = (*COMMON, "resources", "revision")
PROVIDER_LABELS = (*COMMON, "url")

_URL_KINDS = frozenset({"GitRepository", "OCIRepository", "Bucket", "HelmRepository"})
_REF_KINDS = frozenset({"GitRepository", "OCIRepository", "Bucket"})
_SOURCE_KINDS = frozenset({"Kustomization", "HelmRelease", "HelmChart"})


def _ready(obj: Obj) -> tuple[str, str]:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return str(cond.get("status") or "Unknown"), str(cond.get("reason") or "")
    return "Unknown", ""


def _suspended(obj: Obj) -> str:
    if (obj.get("spec") or {}).get("suspend") is True:
        return "True"
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    disabled = str(annotations.get("fluxcd.controlplane.io/reconcile", "")).lower() == "disabled"
    return "True" if disabled else "False"


def common_labels(obj: Obj) -> dict[str, str]:
    meta = obj.get("metadata") or {}
    ready, reason = _ready(obj)
    return {
        "uid": str(meta.get("uid") or ""),
        "kind": str(obj.get("kind") or ""),
        "name": str(meta.get("name") or ""),
        "exported_namespace": str(meta.get("namespace") or ""),
        "ready": ready,
        "reason": reason,
        "suspended": _suspended(obj),
    }


def _ref(spec: Obj, kind: str) -> str:
    if kind == "Bucket":
        return str(spec.get("bucketName") or "")
    ref = spec.get("ref") or {}
    for key in ("name", "commit", "digest", "semver", "tag", "branch"):
        if ref.get(key):
            return str(ref[key])
    return ""


def _revision(obj: Obj, kind: str) -> str:
    status = obj.get("status") or {}
    if kind in ("Kustomization", "HelmRelease"):
        return str(status.get("lastAppliedRevision") or status.get("lastAttemptedRevision") or "")
    return str((status.get("artifact") or {}).get("revision") or "")


def _source_name(spec: Obj, kind: str) -> str:
    if kind == "HelmRelease":
        chart = ((spec.get("chart") or {}).get("spec") or {}).get("sourceRef") or {}
        return str(chart.get("name") or (spec.get("chartRef") or {}).get("name") or "")
    return str((spec.get("sourceRef") or {}).get("name") or "")


def resource_labels(obj: Obj) -> dict[str, str]:
    """The ``flux_resource_info`` labels of a Flux object."""
    kind = str(obj.get("kind") or "")
    spec = obj.get("spec") or {}
    labels = {
        **common_labels(obj),
        "revision": "",
        "url": "",
        "ref": "",
        "source_name": "",
        "path": "",
    }
    if kind not in ("Receiver", "Alert", "Provider"):
        labels["revision"] = _revision(obj, kind)
    if kind in _URL_KINDS:
        labels["url"] = str(spec.get("url") or spec.get("endpoint") or "")
    if kind == "Receiver":
        labels["url"] = str((obj.get("status") or {}).get("webhookPath") or "")
    if kind in _REF_KINDS:
        labels["ref"] = _ref(spec, kind)
    if kind in _SOURCE_KINDS:
        labels["source_name"] = _source_name(spec, kind)
    if kind == "Kustomization":
        labels["path"] = str(spec.get("path") or "")
    return labels


class OperatorMetrics:
    """``flux_instance_info``, ``flux_resource_info``, ``flux_resourceset_info`` and
    ``flux_resourcesetinputprovider_info`` in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.instance = Gauge(
            "flux_instance_info",
            "The state of the FluxInstance.",
            INSTANCE_LABELS,
            registry=registry,
        )
        self.resource = Gauge(
            "flux_resource_info",
            "The state of a Flux object.",
            RESOURCE_LABELS,
            registry=registry,
        )
        self.resourceset = Gauge(
            "flux_resourceset_info",
            "The state of a ResourceSet.",
            RESOURCESET_LABELS,
            registry=registry,
        )
        self.provider = Gauge(
            "flux_resourcesetinputprovider_info",
            "The state of a ResourceSetInputProvider.",
            PROVIDER_LABELS,
            registry=registry,
        )
        self._instances: dict[str, tuple[str, ...]] = {}
        self._resources: set[tuple[str, ...]] = set()
        self._objects: dict[tuple[str, str], tuple[str, ...]] = {}

    def _gauge(self, kind: str) -> tuple[Gauge, tuple[str, ...]]:
        if kind == "ResourceSet":
            return self.resourceset, RESOURCESET_LABELS
        return self.provider, PROVIDER_LABELS

    def set_object(self, obj: Obj, *, ready: str, reason: str, **extra: str) -> None:
        """Record a ResourceSet's (``resources``, ``revision``) or a provider's (``url``)
        state, replacing its previous series."""
        kind = str(obj.get("kind") or "")
        gauge, names = self._gauge(kind)
        labels = {**common_labels(obj), "ready": ready, "reason": reason, **extra}
        values = tuple(str(labels.get(k, "")) for k in names)
        key = (kind, labels["uid"])
        old = self._objects.get(key)
        if old is not None and old != values:
            gauge.remove(*old)
        self._objects[key] = values
        gauge.labels(*values).set(1)

    def forget_object(self, kind: str, uid: str) -> None:
        old = self._objects.pop((kind, uid), None)
        if old is not None:
            self._gauge(kind)[0].remove(*old)

    def set_instance(
        self, obj: Obj, *, ready: str, reason: str, registry: str, revision: str
    ) -> None:
        """Record the instance's state (replacing its previous series)."""
        labels = {**common_labels(obj), "ready": ready, "reason": reason}
        values = tuple([*(labels[k] for k in COMMON), registry, revision])
        uid = labels["uid"]
        old = self._instances.get(uid)
        if old is not None and old != values:
            self.instance.remove(*old)
        self._instances[uid] = values
        self.instance.labels(*values).set(1)

    def forget_instance(self, uid: str) -> None:
        old = self._instances.pop(uid, None)
        if old is not None:
            self.instance.remove(*old)

    def set_resources(self, objects: Iterable[Obj]) -> int:
        """Replace every ``flux_resource_info`` series with those of ``objects``."""
        fresh: set[tuple[str, ...]] = set()
        for obj in objects:
            labels = resource_labels(obj)
            fresh.add(tuple(labels[k] for k in RESOURCE_LABELS))
        for gone in self._resources - fresh:
            self.resource.remove(*gone)
        for values in fresh:
            self.resource.labels(*values).set(1)
        self._resources = fresh
        return len(fresh)
