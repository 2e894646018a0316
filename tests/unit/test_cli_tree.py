"""Inventory ids, the tree rendering of `weir tree`, and Helm release storage decoding."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from weir.actions.helmstorage import decode_release, manifest_objects
from weir.actions.inventory import InventoryError, ObjectRef, entries
from weir.actions.tree import TreeNode, render


@pytest.mark.parametrize(
    ("entry_id", "ref"),
    [
        ("default_podinfo_apps_Deployment", ObjectRef("apps", "Deployment", "default", "podinfo")),
        ("default_podinfo__Service", ObjectRef("", "Service", "default", "podinfo")),
        ("_my-ns__Namespace", ObjectRef("", "Namespace", "", "my-ns")),
        (
            "_system__controller_rbac.authorization.k8s.io_ClusterRole",
            ObjectRef("rbac.authorization.k8s.io", "ClusterRole", "", "system:controller"),
        ),
        (
            "flux-system_apps_kustomize.toolkit.fluxcd.io_Kustomization",
            ObjectRef("kustomize.toolkit.fluxcd.io", "Kustomization", "flux-system", "apps"),
        ),
    ],
)
def test_inventory_ids_round_trip(entry_id: str, ref: ObjectRef) -> None:
    parsed = ObjectRef.parse(entry_id)
    assert parsed == ref
    assert parsed.id == entry_id


@pytest.mark.parametrize("bad", ["", "nounderscore", "a_b", "ns__"])
def test_inventory_id_refused(bad: str) -> None:
    with pytest.raises(InventoryError):
        ObjectRef.parse(bad)


def test_entries_skip_malformed() -> None:
    obj = {
        "status": {
            "inventory": {
                "entries": [
                    {"id": "ns_a_apps_Deployment", "v": "v1"},
                    {"id": "garbage", "v": "v1"},
                    "not a dict",
                ]
            }
        }
    }
    (ref,) = entries(obj)
    assert ref.api_version == "apps/v1"
    assert ref.display() == "Deployment/ns/a"
    assert entries({}) == []


def _ref(text: str) -> ObjectRef:
    return ObjectRef.parse(text, "v1")


def test_render_tree() -> None:
    root = TreeNode(
        _ref("flux-system_apps_kustomize.toolkit.fluxcd.io_Kustomization"),
        [
            TreeNode(_ref("_apps__Namespace")),
            TreeNode(
                _ref("apps_infra_kustomize.toolkit.fluxcd.io_Kustomization"),
                [TreeNode(_ref("apps_cfg__ConfigMap"))],
            ),
            TreeNode(_ref("apps_gone_kustomize.toolkit.fluxcd.io_Kustomization"), missing=True),
            TreeNode(
                _ref("apps_podinfo_helm.toolkit.fluxcd.io_HelmRelease"),
                [TreeNode(_ref("apps_podinfo_apps_Deployment")), TreeNode(_ref("apps_p__Service"))],
            ),
        ],
    )
    assert render(root) == (
        "Kustomization/flux-system/apps\n"
        "├── Namespace/apps\n"
        "├── Kustomization/apps/infra\n"
        "│   └── ConfigMap/apps/cfg\n"
        "├── Kustomization/apps/gone (not found)\n"
        "└── HelmRelease/apps/podinfo\n"
        "    ├── Deployment/apps/podinfo\n"
        "    └── Service/apps/p\n"
    )
    assert root.count() == 7
    data = root.to_dict()
    assert data["children"][2]["missing"] is True
    assert data["children"][1]["children"][0]["name"] == "cfg"


def test_helm_release_storage() -> None:
    manifest = (
        "---\n# Source: podinfo/templates/service.yaml\n"
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo\n"
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
        "metadata:\n  name: podinfo-reader\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\n"
        "  namespace: other\n"
    )
    release = {"name": "podinfo", "namespace": "apps", "manifest": manifest}
    helm_b64 = base64.b64encode(gzip.compress(json.dumps(release).encode()))
    data = base64.b64encode(helm_b64).decode()  # the Secret's data is base64 again
    decoded = decode_release(data)
    assert decoded["name"] == "podinfo"
    refs = manifest_objects(decoded["manifest"], decoded["namespace"])
    assert [r.display() for r in refs] == [
        "Service/apps/podinfo",
        "ClusterRole/podinfo-reader",
        "Deployment/other/podinfo",
    ]
