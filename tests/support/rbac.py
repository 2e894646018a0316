"""RBAC for tests of impersonation: let one group work on Kustomizations in one namespace."""

from __future__ import annotations

from collections.abc import Sequence

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply

RBAC = "rbac.authorization.k8s.io"


async def grant_kustomizations(
    api: ApiClient,
    namespace: str,
    group: str,
    verbs: Sequence[str],
    *,
    name: str = "ks-access",
    manager: str = "weir-test",
) -> None:
    """A Role ``name`` with ``verbs`` on Kustomizations in ``namespace``, bound to ``group``."""
    role = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace},
        "rules": [
            {
                "apiGroups": ["kustomize.toolkit.fluxcd.io"],
                "resources": ["kustomizations"],
                "verbs": list(verbs),
            }
        ],
    }
    binding = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": name},
        "subjects": [{"apiGroup": RBAC, "kind": "Group", "name": group}],
    }
    await apply.apply(api, role, manager, force=True)
    await apply.apply(api, binding, manager, force=True)
