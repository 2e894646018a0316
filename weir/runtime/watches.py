"""Secondary watches: turn events of one resource into the keys of the objects that depend on
it, only when what they depend on changed.

:class:`DependentsTracker` remembers, per watched object, a value (an artifact revision, a
Ready status, a digest of a ConfigMap's data) and, when an event changes it, looks the
dependents up in an informer index::

    controller.watch(
        charts_informer,
        DependentsTracker(hr_informer, "chart", artifact_state, lambda o: [ref_of(o)]),
    )

The first sight of an object counts as a change (a HelmRelease waiting for a ConfigMap that is
created later runs at once); a deletion queues the dependents too, so they report the missing
object at once. Every controller uses this one tracker: for sources (:func:`artifact_state`, or
:func:`artifact_only` for consumers that read nothing else of the source),
for ``dependsOn`` (:func:`ready_state` with :func:`own_ref` and
:data:`weir.runtime.dependencies.DEPENDS_INDEX`) and for configuration (:func:`data_digest`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Protocol

from weir.runtime.controller import object_key
from weir.types import Obj

_MISSING = object()


class Indexed(Protocol):
    def by_index(self, index: str, value: str) -> list[Obj]: ...


class DependentsTracker:
    """``(event_type, obj) -> keys`` for :meth:`weir.runtime.controller.Controller.watch`."""

    def __init__(
        self,
        dependents: Indexed,
        index: str,
        value: Callable[[Obj], object],
        index_values: Callable[[Obj], Iterable[str]],
    ) -> None:
        self.dependents = dependents
        self.index = index
        self.value = value
        self.index_values = index_values
        self.seen: dict[str, object] = {}

    def __call__(self, event_type: str, obj: Obj) -> Iterable[str]:
        key = f"{obj.get('kind', '')}/{object_key(obj)}"
        if event_type == "DELETED":
            self.seen.pop(key, None)
            return self._keys(obj)
        value = self.value(obj)
        previous = self.seen.get(key, _MISSING)
        self.seen[key] = value
        if previous == value:
            return ()
        return self._keys(obj)

    def _keys(self, obj: Obj) -> list[str]:
        keys: list[str] = []
        for ref in self.index_values(obj):
            keys.extend(object_key(o) for o in self.dependents.by_index(self.index, ref))
        return keys


def ref_of(kind: str) -> Callable[[Obj], list[str]]:
    """``<kind>/<namespace>/<name>`` of an object (the form source indexes use)."""

    def refs(obj: Obj) -> list[str]:
        meta = obj.get("metadata") or {}
        return [f"{kind}/{meta.get('namespace', '')}/{meta.get('name')}"]

    return refs


def own_ref(obj: Obj) -> list[str]:
    """``<namespace>/<name>`` of an object (the form the ``dependsOn`` index uses)."""
    meta = obj.get("metadata") or {}
    return [f"{meta.get('namespace', '')}/{meta.get('name')}"]


def _ready(status: Obj) -> object:
    found = [c.get("status") for c in status.get("conditions") or [] if c.get("type") == "Ready"]
    return found[0] if found else None


def ready_state(obj: Obj) -> object:
    """What a dependent of an object in its ``dependsOn`` reacts to: Ready, the observed
    generation and the applied revision (the inputs of the dependsOn rule)."""
    status = obj.get("status") or {}
    return (_ready(status), status.get("observedGeneration"), status.get("lastAppliedRevision"))


def artifact_state(obj: Obj) -> object:
    """What a consumer of a source reacts to: the artifact (its revision and digest, and also
    its URL and the time it was stored: after a leader failover the new leader stores the same
    revision again, at its own address or at the same one, and the consumers that failed to
    download it meanwhile must run again), Ready, the observed generation."""
    status = obj.get("status") or {}
    return (*artifact_only(obj), _ready(status), status.get("observedGeneration"))


def artifact_only(obj: Obj) -> tuple[object, ...]:
    """What a consumer that reads nothing but the artifact reacts to (a Kustomization): the
    fields of :func:`artifact_state` without Ready and the observed generation. A source's run
    shows ``Reconciling`` (Ready=Unknown) before it stores a new artifact; reacting to that too
    would queue every consumer twice per new revision, the first time for the old artifact."""
    artifact = (obj.get("status") or {}).get("artifact") or {}
    return (
        artifact.get("revision"),
        artifact.get("digest"),
        artifact.get("url"),
        artifact.get("lastUpdateTime"),
    )


def data_digest(obj: Obj) -> str:
    """A digest of a ConfigMap's or Secret's content (``data``, ``binaryData``,
    ``stringData``)."""
    content = {k: obj.get(k) for k in ("data", "binaryData", "stringData") if obj.get(k)}
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(encoded).hexdigest()
