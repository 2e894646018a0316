"""What Flux does to objects before applying them: make manifests compare cleanly with what the
API server stores (drop ``metadata.creationTimestamp`` and ``status``, Secret ``stringData``
folded into ``data``, ``protocol: TCP`` made explicit on container and Service ports)."""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping
from typing import Any

_POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def _default_protocols(ports: Any) -> None:
    for port in ports if isinstance(ports, list) else []:
        if isinstance(port, dict) and "protocol" not in port:
            port["protocol"] = "TCP"


def _pod_spec(obj: Mapping[str, Any]) -> Any:
    node: Any = obj
    for key in _POD_TEMPLATE_PATHS.get(str(obj.get("kind")), ("-",)):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def normalize(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A normalized deep copy of a manifest (see the module docstring)."""
    out = copy.deepcopy(dict(obj))
    meta = out.get("metadata")
    if isinstance(meta, dict):
        meta.pop("creationTimestamp", None)
    if out.get("kind") != "CustomResourceDefinition":
        out.pop("status", None)
    if out.get("kind") == "Secret" and out.get("apiVersion") == "v1" and out.get("stringData"):
        data = dict(out.get("data") or {})
        for key, value in out.pop("stringData").items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        out["data"] = data
    if out.get("kind") == "Service" and out.get("apiVersion") == "v1":
        _default_protocols((out.get("spec") or {}).get("ports"))
    pod = _pod_spec(out)
    if isinstance(pod, dict):
        for field in ("initContainers", "containers", "ephemeralContainers"):
            for container in pod.get(field) or []:
                if isinstance(container, dict):
                    _default_protocols(container.get("ports"))
    return out
