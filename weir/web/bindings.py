"""The RoleBindings of the cluster, watched once for every user: where each person may hold
namespace-scoped rules (:class:`weir.auth.rbac.BindingIndex`), so that a signed-in user's
access is reviewed only in those namespaces, not in every namespace of the fleet.

Needs ``list``/``watch`` on ``rolebindings`` (the ``weir-web`` ClusterRole grants it); without
it the index answers "unknown" and every namespace is reviewed, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.auth.rbac import subject_matches
from weir.auth.users import Identity
from weir.kube.informer import Informer
from weir.kube.resources import ResourceRef
from weir.types import Obj

ROLEBINDINGS = ResourceRef("rbac.authorization.k8s.io", "v1", "rolebindings", True, "RoleBinding")


def slim_binding(obj: Obj) -> Obj:
    meta = obj.get("metadata") or {}
    return {
        "metadata": {k: meta[k] for k in ("name", "namespace", "resourceVersion") if k in meta},
        "subjects": obj.get("subjects") or [],
    }


class RoleBindingIndex:
    """An informer of RoleBindings, answering :meth:`namespaces_for`."""

    def __init__(self, api: ApiClient, namespace: str | None = None) -> None:
        self.informer = Informer(api, ROLEBINDINGS, namespace=namespace, transform=slim_binding)
        self._listeners: list[Callable[[Iterable[Mapping[str, Any]]], None]] = []
        self._subjects: dict[str, list[Mapping[str, Any]]] = {}
        self.informer.add_handler(self._changed)

    def on_change(self, listener: Callable[[Iterable[Mapping[str, Any]]], None]) -> None:
        """Call ``listener`` with the subjects of every RoleBinding that changes (before and
        after the change)."""
        self._listeners.append(listener)

    def _changed(self, event_type: str, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        before = self._subjects.pop(key, [])
        after = list(obj.get("subjects") or [])
        if event_type != "DELETED":
            self._subjects[key] = after
        if self.informer.synced:  # the first list is no change
            for listener in self._listeners:
                listener([*before, *after])

    async def start(self) -> None:
        await self.informer.start()

    async def stop(self) -> None:
        await self.informer.stop()

    def namespaces_for(self, identity: Identity) -> set[str] | None:
        if not self.informer.synced or self.informer.last_error is not None:
            return None
        found: set[str] = set()
        for binding in self.informer.list():
            subjects: list[Mapping[str, Any]] = binding.get("subjects") or []
            if any(subject_matches(s, identity) for s in subjects):
                found.add(str(binding["metadata"].get("namespace", "")))
        return found
