"""Skipping no-op runs: when nothing a Kustomization depends on changed, build nothing and apply
nothing.

A run's output is decided by the files ``spec.path`` reaches (their digest,
:attr:`weir.kustomize.confine.Closure.digest`), the spec, the post-build variables and
kustomize itself; what applying it changes is decided by the live objects. After a successful
run the reconciler keeps (in memory) an :class:`Applied`: the :func:`fingerprint` of the
inputs, and the resourceVersion every applied object had right after the apply. The next run
(a new revision, the interval, or ``reconcile.fluxcd.io/requestedAt``) computes the fingerprint
again -- reading only the path's files, no kustomize -- and when it matches, lists the applied
objects (one LIST per resource and namespace, selected by the owner labels;
:func:`untouched`). If every object is there with the resourceVersion it had, applying would
change nothing, and the run ends with the same outcome without building or applying.

Any difference -- an edited, deleted or relabelled object, a new file under the path, a changed
variable, a restart of the controller -- means a full run, so drift is corrected as before.
Not skipped: builds with remote bases (their content is not in the artifact), Kustomizations
with ``spec.decryption`` (their keys may change unseen), and runs whose apply skipped objects
(``ssa: IfNotPresent``/``Ignore``, ``reconcile: disabled``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.errors import KubeError
from weir.kube.informer import list_all
from weir.kube.inventory import owner_labels
from weir.kube.resources import ResourceRef
from weir.ssa.apply import Action, ChangeSet

Group = tuple[ResourceRef, str | None]


@dataclass(frozen=True)
class Applied:
    """What a successful run left behind."""

    fingerprint: str
    digest: str
    """The ``status.history`` digest of the applied objects."""
    inventory: Any
    """``status.inventory`` as written."""
    versions: dict[Group, dict[str, str]] = field(default_factory=dict)
    """(resource, namespace) -> {name: resourceVersion}."""


def fingerprint(
    inputs: str, spec: Mapping[str, Any], variables: Mapping[str, str] | None, strict: bool
) -> str:
    """A digest of everything a run's output depends on besides the live objects."""
    body = json.dumps(
        {"inputs": inputs, "spec": spec, "variables": variables, "strict": strict},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(fingerprint: str, digest: str, inventory: Any, changes: ChangeSet) -> Applied | None:
    """The :class:`Applied` of a run, or None when a later run could not be skipped safely."""
    versions: dict[Group, dict[str, str]] = {}
    for change in changes.changes:
        if change.action is Action.SKIPPED or not change.resource_version:
            return None
        if change.resource is None:
            return None
        group = (change.resource, change.ref.namespace or None)
        versions.setdefault(group, {})[change.ref.name] = change.resource_version
    return Applied(fingerprint, digest, inventory, versions)


async def untouched(api: ApiClient, applied: Applied, name: str, namespace: str) -> bool:
    """True when every applied object still has the resourceVersion it had after the apply
    (see the module docstring); False on any difference or error."""
    selector = ",".join(f"{k}={v}" for k, v in owner_labels(name, namespace).items())
    for (resource, ns), versions in applied.versions.items():
        try:
            items, _ = await list_all(api, resource, namespace=ns, label_selector=selector)
        except KubeError:
            return False
        live = {
            (item.get("metadata") or {}).get("name"): str(
                (item.get("metadata") or {}).get("resourceVersion")
            )
            for item in items
        }
        if any(live.get(obj) != version for obj, version in versions.items()):
            return False
    return True
