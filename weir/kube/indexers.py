"""Ready-made informer indexers: functions from an object to the index values it files under."""

from __future__ import annotations

from collections.abc import Callable

from weir.types import Obj


def source_key(kind: str, namespace: str, name: str) -> str:
    """The value :func:`index_by_source_ref` files under: ``<kind>/<namespace>/<name>``."""
    return f"{kind}/{namespace}/{name}"


def index_by_source_ref(obj: Obj) -> list[str]:
    """``<kind>/<namespace>/<name>`` of the source an object references in ``spec.sourceRef``
    (Kustomization, HelmChart) or ``spec.chartRef`` (HelmRelease); the namespace defaults to the
    object's own. Lets a source's controller find its dependents with one lookup."""
    spec = obj.get("spec") or {}
    own_ns = (obj.get("metadata") or {}).get("namespace") or ""
    out: list[str] = []
    for field in ("sourceRef", "chartRef"):
        ref = spec.get(field)
        if isinstance(ref, dict) and ref.get("kind") and ref.get("name"):
            out.append(source_key(ref["kind"], ref.get("namespace") or own_ns, ref["name"]))
    return out


def index_by_label(label: str) -> Callable[[Obj], list[str]]:
    """An indexer filing objects under the value of ``label`` (e.g. an owner label such as
    ``kustomize.toolkit.fluxcd.io/name``); objects without it are not indexed."""

    def indexer(obj: Obj) -> list[str]:
        value = ((obj.get("metadata") or {}).get("labels") or {}).get(label)
        return [value] if value is not None else []

    return indexer
