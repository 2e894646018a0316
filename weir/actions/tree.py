"""The objects a Kustomization or HelmRelease manages, as a tree (``weir tree``).

The children of a node are its ``status.inventory`` entries, in inventory (apply) order. Nested
Kustomizations and HelmReleases are expanded recursively; a HelmRelease without
``status.inventory`` is expanded from its Helm storage Secret. An object seen twice (a cycle) is
shown but not expanded again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.actions import helmstorage
from weir.actions.inventory import ObjectRef, entries, has_inventory
from weir.actions.objects import HELM_GROUP, KUSTOMIZE_GROUP, find_object, get_object
from weir.api import KINDS, KindInfo

APPLIERS = {(KUSTOMIZE_GROUP, "Kustomization"), (HELM_GROUP, "HelmRelease")}


@dataclass
class TreeNode:
    """One object of the tree."""

    ref: ObjectRef
    children: list[TreeNode] = field(default_factory=list)
    missing: bool = False
    """A nested Kustomization/HelmRelease listed in the inventory but not found."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = self.ref.to_dict()
        if self.missing:
            out["missing"] = True
        out["children"] = [c.to_dict() for c in self.children]
        return out

    def count(self) -> int:
        """Objects below this one."""
        return sum(1 + c.count() for c in self.children)


def render(node: TreeNode) -> str:
    """The tree as text, ``flux tree`` style::

    Kustomization/flux-system/apps
    ├── Namespace/apps
    └── HelmRelease/apps/podinfo
        └── Deployment/apps/podinfo
    """
    lines = [node.ref.display()]

    def walk(children: list[TreeNode], prefix: str) -> None:
        for i, child in enumerate(children):
            last = i == len(children) - 1
            suffix = " (not found)" if child.missing else ""
            lines.append(f"{prefix}{'└── ' if last else '├── '}{child.ref.display()}{suffix}")
            walk(child.children, prefix + ("    " if last else "│   "))

    walk(node.children, "")
    return "\n".join(lines) + "\n"


async def _children(api: ApiClient, obj: Mapping[str, Any]) -> list[ObjectRef]:
    if obj.get("kind") == "HelmRelease" and not has_inventory(obj):
        return await helmstorage.release_objects(api, obj)
    return entries(obj)


async def _expand(api: ApiClient, node: TreeNode, obj: Mapping[str, Any], seen: set[str]) -> None:
    node.children = [TreeNode(ref) for ref in await _children(api, obj)]
    nested = [c for c in node.children if (c.ref.group, c.ref.kind) in APPLIERS]

    async def one(child: TreeNode) -> None:
        if child.ref.id in seen:
            return
        seen.add(child.ref.id)
        found = await find_object(api, KINDS[child.ref.kind], child.ref.namespace, child.ref.name)
        if found is None:
            child.missing = True
            return
        await _expand(api, child, found, seen)

    await asyncio.gather(*(one(c) for c in nested))


async def build(api: ApiClient, info: KindInfo, namespace: str, name: str) -> TreeNode:
    """The tree under a Kustomization or HelmRelease; raises
    :class:`~weir.actions.errors.ObjectNotFoundError` when it does not exist."""
    obj = await get_object(api, info, namespace, name)
    root = TreeNode(ObjectRef.of(obj))
    await _expand(api, root, obj, {root.ref.id})
    return root
