"""A stand-in volume provisioner for the local cluster.

kwok fakes kubelets, not storage: a PersistentVolumeClaim of a CSI storage class (the fleet uses
AKS's ``disk.csi.azure.com`` and ``file.csi.azure.com``) would stay Pending for ever, and so
would every StatefulSet pod that mounts one. This loop does what an external provisioner does:
when the PV controller hands a claim to a provisioner (the
``volume.kubernetes.io/storage-provisioner`` annotation; for ``WaitForFirstConsumer`` classes
only after the scheduler picked a node), it creates a PersistentVolume pre-bound to the claim,
with the class's reclaim policy and, for a node-local claim, node affinity to that node. The PV
controller then binds them, as in a real cluster. Nothing is ever mounted: kwok's pods need no
data. Released volumes it created with the ``Delete`` policy are deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from kubernetes_asyncio.client import ApiClient

from weir.kube import apply as kapi
from weir.kube.errors import AlreadyExistsError
from weir.kube.informer import list_all
from weir.kube.resources import ResourceRef
from weir.types import Obj

log = logging.getLogger(__name__)

PVCS = ResourceRef("", "v1", "persistentvolumeclaims", True, "PersistentVolumeClaim")
PVS = ResourceRef("", "v1", "persistentvolumes", False, "PersistentVolume")
STORAGE_CLASSES = ResourceRef("storage.k8s.io", "v1", "storageclasses", False, "StorageClass")
PROVISIONER_ANNOTATIONS = (
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
)
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
LABEL = "weir.dev/stand-in-volume"


def wanted_provisioner(pvc: Obj) -> str | None:
    """The provisioner a Pending, unbound claim waits for, or None."""
    if (pvc.get("status") or {}).get("phase", "Pending") != "Pending":
        return None
    if (pvc.get("spec") or {}).get("volumeName"):
        return None
    annotations = pvc["metadata"].get("annotations") or {}
    for key in PROVISIONER_ANNOTATIONS:
        if annotations.get(key):
            return str(annotations[key])
    return None


def volume_for(pvc: Obj, storage_class: Obj | None, provisioner: str) -> Obj:
    """The PersistentVolume that satisfies ``pvc``, pre-bound to it."""
    meta, spec = pvc["metadata"], pvc.get("spec") or {}
    sc = storage_class or {}
    request = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
    pv_spec: Obj = {
        "capacity": {"storage": request},
        "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
        "volumeMode": spec.get("volumeMode") or "Filesystem",
        "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy") or "Delete",
        "claimRef": {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "namespace": meta["namespace"],
            "name": meta["name"],
            "uid": meta["uid"],
        },
        "csi": {"driver": provisioner, "volumeHandle": f"weir-stand-in/{meta['uid']}"},
    }
    if spec.get("storageClassName"):
        pv_spec["storageClassName"] = spec["storageClassName"]
    if sc.get("mountOptions"):
        pv_spec["mountOptions"] = sc["mountOptions"]
    node = (meta.get("annotations") or {}).get(SELECTED_NODE)
    if node:
        term = {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}
        pv_spec["nodeAffinity"] = {
            "required": {"nodeSelectorTerms": [{"matchExpressions": [term]}]}
        }
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": f"pvc-{meta['uid']}",
            "labels": {LABEL: "true"},
            "annotations": {PROVISIONED_BY: provisioner},
        },
        "spec": pv_spec,
    }


def released_for_deletion(pv: Obj) -> bool:
    """A volume this provisioner made whose claim is gone and whose policy is Delete."""
    labels = pv["metadata"].get("labels") or {}
    return (
        labels.get(LABEL) == "true"
        and (pv.get("status") or {}).get("phase") == "Released"
        and (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") == "Delete"
    )


class StandInProvisioner:
    """Provision (and delete) volumes for every storage class, by polling (see the module)."""

    def __init__(self, api: ApiClient, interval: float = 0.5) -> None:
        self.api = api
        self.interval = interval
        self.provisioned: set[str] = set()

    async def sync_once(self) -> None:
        claims, _ = await list_all(self.api, PVCS)
        pending = [(c, p) for c in claims if (p := wanted_provisioner(c))]
        if pending:
            classes = {
                c["metadata"]["name"]: c for c in (await list_all(self.api, STORAGE_CLASSES))[0]
            }
            for claim, provisioner in pending:
                await self._provision(
                    claim, classes.get(claim["spec"].get("storageClassName", "")), provisioner
                )
        volumes, _ = await list_all(self.api, PVS, label_selector=f"{LABEL}=true")
        for pv in volumes:
            if released_for_deletion(pv):
                await kapi.delete(self.api, PVS, None, pv["metadata"]["name"], missing_ok=True)

    async def _provision(self, claim: Obj, storage_class: Obj | None, provisioner: str) -> None:
        pv = volume_for(claim, storage_class, provisioner)
        name = pv["metadata"]["name"]
        if name in self.provisioned:
            return
        with contextlib.suppress(AlreadyExistsError):  # created earlier; the PV controller binds it
            await kapi.create(self.api, PVS, pv)
        self.provisioned.add(name)
        meta = claim["metadata"]
        log.info(
            "provisioned %s for %s/%s (%s)", name, meta["namespace"], meta["name"], provisioner
        )

    async def run(self) -> None:
        """Loop until cancelled; API errors are logged and retried."""
        while True:
            try:
                await self.sync_once()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("stand-in provisioner: %s", e)
            await asyncio.sleep(self.interval)
