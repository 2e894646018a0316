"""RBAC for tests of impersonation: a group working on Kustomizations in one namespace, and
weir's web roles (``config/rbac/web-roles.yaml``) bound to groups."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml
from kubernetes_asyncio.client import ApiClient

from tests.support.waiting import eventually
from weir.auth.users import Identity
from weir.kube import apply
from weir.web.service import WebUI

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


WEB_ROLES = Path(__file__).resolve().parents[2] / "config" / "rbac" / "web-roles.yaml"


async def install_web_roles(api: ApiClient, manager: str = "weir-test") -> None:
    """Apply ``config/rbac/web-roles.yaml`` (flux-web-user, flux-web-admin, weir-web)."""
    for doc in yaml.safe_load_all(WEB_ROLES.read_text()):
        if doc:
            await apply.apply(api, doc, manager, force=True)


async def bind(
    api: ApiClient,
    cluster_role: str,
    group: str,
    namespace: str | None = None,
    *,
    manager: str = "weir-test",
) -> None:
    """Bind ``group`` to ``cluster_role``: in ``namespace`` (a RoleBinding), or everywhere (a
    ClusterRoleBinding)."""
    name = f"{cluster_role}-{group}"[:253]
    meta: dict[str, str] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    binding = {
        "apiVersion": f"{RBAC}/v1",
        "kind": "RoleBinding" if namespace else "ClusterRoleBinding",
        "metadata": meta,
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": cluster_role},
        "subjects": [{"apiGroup": RBAC, "kind": "Group", "name": group}],
    }
    await apply.apply(api, binding, manager, force=True)


async def binding_seen(ui: WebUI, user: str, group: str, namespace: str) -> None:
    """Wait until the UI's RoleBinding index sees ``group`` bound in ``namespace`` (a new
    binding counts from then on)."""
    index = ui.bindings
    assert index is not None, "the UI has no sign-in: it reviews nobody's access"
    who = Identity(user, (group,))
    await eventually(
        lambda: namespace in (index.namespaces_for(who) or set()), f"{group}'s RoleBinding"
    )
