"""The objects of a Helm release, read from Helm's storage Secret, for HelmReleases that have no
``status.inventory`` (written by Flux before 2.7 and by other tools).

The Secret ``sh.helm.release.v1.<release>.v<version>`` in the storage namespace holds the
release as base64 (Helm's own) of gzipped JSON; its ``manifest`` is the rendered YAML.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
from collections.abc import Mapping
from typing import Any

import yaml
from kubernetes_asyncio.client import ApiClient

from weir.actions.inventory import ObjectRef
from weir.kube import apply
from weir.kube.errors import ApiError
from weir.kube.resources import ResourceRef

SECRETS = ResourceRef("", "v1", "secrets", True, "Secret")
GZIP_MAGIC = b"\x1f\x8b\x08"

# Kinds a chart commonly renders without a namespace that are cluster-scoped.
CLUSTER_SCOPED = frozenset(
    {
        "APIService",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "IngressClass",
        "MutatingWebhookConfiguration",
        "Namespace",
        "PersistentVolume",
        "PriorityClass",
        "RuntimeClass",
        "StorageClass",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
    }
)


def decode_release(data: str) -> dict[str, Any]:
    """The release JSON from a storage Secret's ``data.release`` (base64 of Helm's base64)."""
    raw = base64.b64decode(base64.b64decode(data))
    if raw.startswith(GZIP_MAGIC):
        raw = gzip.decompress(raw)
    release = json.loads(raw)
    return release if isinstance(release, dict) else {}


def manifest_objects(manifest: str, release_namespace: str) -> list[ObjectRef]:
    """References of the objects in a rendered manifest (namespaced ones default to the
    release namespace)."""
    out: list[ObjectRef] = []
    for doc in yaml.safe_load_all(manifest):
        if not isinstance(doc, Mapping) or not doc.get("kind"):
            continue
        ref = ObjectRef.of(doc)
        if not ref.namespace and ref.kind not in CLUSTER_SCOPED:
            ref = ObjectRef(ref.group, ref.kind, release_namespace, ref.name, ref.version)
        out.append(ref)
    return out


async def release_objects(api: ApiClient, helm_release: Mapping[str, Any]) -> list[ObjectRef]:
    """The objects of a HelmRelease's current Helm release; empty when its storage Secret
    cannot be read (not installed yet, no permission, not a Helm 3+ release)."""
    status = helm_release.get("status") or {}
    history = status.get("history") or []
    if not history or not isinstance(history[0], Mapping):
        return []
    latest = history[0]
    release, version = latest.get("name"), latest.get("version")
    namespace = str(status.get("storageNamespace") or latest.get("namespace") or "")
    if not release or not version or not namespace:
        return []
    try:
        secret = await apply.get(
            api, SECRETS, namespace, f"sh.helm.release.v1.{release}.v{version}"
        )
        decoded = decode_release(str((secret.get("data") or {}).get("release", "")))
    except (ApiError, ValueError, binascii.Error, OSError, EOFError):
        return []
    manifest = decoded.get("manifest")
    if not isinstance(manifest, str):
        return []
    try:
        return manifest_objects(manifest, str(decoded.get("namespace") or namespace))
    except yaml.YAMLError:
        return []
