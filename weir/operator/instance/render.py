"""The desired installation -> the Kubernetes objects that make it up.

:func:`render` is a pure function of :class:`~weir.operator.instance.desired.Desired` (the
operator applies its output; ``weir install`` and the Helm chart can render the same): for
the enabled components their CRDs, a ServiceAccount each, the RBAC, and per unit (component
or shard) a settings ConfigMap, a Deployment and, for source- and notification-controller,
Services; the network policies; the source-controller's PersistentVolumeClaims; and the sync
source and Kustomization. ``spec.kustomize.patches`` are applied afterwards
(:mod:`~weir.operator.instance.patches`).

Platform defaults (``spec.cluster.type``): ``openshift`` leaves the user and seccomp profile
to the platform's security context constraints; ``azure`` (AKS) labels the pods
``azure.workload.identity/use: "true"`` so that AKS's workload identity webhook gives them
tokens; ``kubernetes``, ``aws`` and ``gcp`` run the default restricted security context.
"""

from __future__ import annotations

import copy
from typing import Any

from weir.api.crds import generate
from weir.api.fluxinstance import Sync
from weir.api.kinds import KINDS
from weir.operator.instance.desired import Desired, Unit
from weir.operator.instance.syncref import git_ref, oci_ref

Obj = dict[str, Any]

PART_OF = "app.kubernetes.io/part-of"
INSTANCE = "app.kubernetes.io/instance"
COMPONENT = "app.kubernetes.io/component"
MANAGED_BY = "app.kubernetes.io/managed-by"
VERSION = "app.kubernetes.io/version"
OWNER_NAME = "fluxcd.controlplane.io/name"
OWNER_NAMESPACE = "fluxcd.controlplane.io/namespace"
PRUNE = "fluxcd.controlplane.io/prune"
SETTINGS_FOR = "weir.dev/settings-for"
"""Label of a unit's settings ConfigMap: the unit (Deployment / group) it configures."""
SHARD = "weir.dev/shard"
"""Label of a shard unit's settings ConfigMap: the shard."""

METRICS_PORT = 8080
HEALTH_PORT = 9440
STORAGE_PATH = "/data"


def owner_labels(desired: Desired) -> dict[str, str]:
    return {OWNER_NAME: desired.name, OWNER_NAMESPACE: desired.namespace}


def settings_name(unit: str) -> str:
    """The settings ConfigMap of a unit."""
    return f"{unit}-settings"


def render(desired: Desired) -> list[Obj]:
    """Every object of the installation (see the module docstring), before patches."""
    objects: list[Obj] = [*crds(desired), *service_accounts(desired), *rbac(desired)]
    for unit in desired.units:
        objects.append(settings_configmap(desired, unit))
        objects.extend(services(desired, unit))
        objects.extend(volume_claims(desired, unit))
        objects.append(deployment(desired, unit))
    if desired.spec.cluster is None or desired.spec.cluster.network_policy is not False:
        objects.extend(network_policies(desired))
    objects.extend(sync_objects(desired))
    return [_common(desired, o) for o in objects]


def _common(desired: Desired, obj: Obj) -> Obj:
    meta = obj.setdefault("metadata", {})
    labels = {
        **(meta.get("labels") or {}),
        PART_OF: "flux",
        INSTANCE: desired.namespace,
        MANAGED_BY: "weir",
        VERSION: desired.release.flux_tag,
        **owner_labels(desired),
    }
    common = desired.spec.common_metadata
    if common is not None and common.labels:
        labels.update(common.labels)
    meta["labels"] = labels
    if common is not None and common.annotations:
        meta["annotations"] = {**(meta.get("annotations") or {}), **common.annotations}
    return obj


def _meta(desired: Desired, name: str, component: str | None = None) -> Obj:
    meta: Obj = {"name": name, "namespace": desired.namespace}
    if component:
        meta["labels"] = {COMPONENT: component}
    return meta


# ------------------------------------------------------------------------------- CRDs, RBAC
def crds(desired: Desired) -> list[Obj]:
    """The CRDs of the enabled components' kinds; never pruned (deleting a CRD deletes
    every object of its kind)."""
    controllers = {KINDS[k].crd_name: KINDS[k].controller for k in KINDS}
    out = []
    for crd in generate():
        if controllers.get(crd["metadata"]["name"]) in desired.components:
            crd["metadata"].setdefault("annotations", {})[PRUNE] = "disabled"
            out.append(crd)
    return out


def service_accounts(desired: Desired) -> list[Obj]:
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(desired, name, name)}
        for name in desired.components
    ]


FLUX_GROUPS = [
    "source.toolkit.fluxcd.io",
    "kustomize.toolkit.fluxcd.io",
    "helm.toolkit.fluxcd.io",
    "notification.toolkit.fluxcd.io",
    "image.toolkit.fluxcd.io",
    "source.extensions.fluxcd.io",
]


def rbac(desired: Desired) -> list[Obj]:
    """``crd-controller-<ns>`` (Flux kinds, Events, Leases, reading config) for every
    controller; ``cluster-reconciler-<ns>`` (cluster-admin) for those that apply objects."""
    ns = desired.namespace
    subjects = [{"kind": "ServiceAccount", "name": n, "namespace": ns} for n in desired.components]
    appliers = [
        {"kind": "ServiceAccount", "name": u.component.name, "namespace": ns}
        for u in desired.units
        if u.component.applies and u.shard is None
    ]
    rbac_v1 = "rbac.authorization.k8s.io/v1"
    out: list[Obj] = [
        {
            "apiVersion": rbac_v1,
            "kind": "ClusterRole",
            "metadata": {"name": f"crd-controller-{ns}"},
            "rules": [
                {"apiGroups": FLUX_GROUPS, "resources": ["*"], "verbs": ["*"]},
                {
                    "apiGroups": [""],
                    "resources": ["namespaces", "secrets", "configmaps", "serviceaccounts"],
                    "verbs": ["get", "list", "watch"],
                },
                {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
                {
                    "apiGroups": ["events.k8s.io"],
                    "resources": ["events"],
                    "verbs": ["create", "patch"],
                },
                {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["*"]},
            ],
        },
        {
            "apiVersion": rbac_v1,
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"crd-controller-{ns}"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": f"crd-controller-{ns}",
            },
            "subjects": subjects,
        },
    ]
    if appliers:
        out.append(
            {
                "apiVersion": rbac_v1,
                "kind": "ClusterRoleBinding",
                "metadata": {"name": f"cluster-reconciler-{ns}"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "cluster-admin",
                },
                "subjects": appliers,
            }
        )
    return out


# ------------------------------------------------------------------------------------ units
def settings_configmap(desired: Desired, unit: Unit) -> Obj:
    """The unit's live settings (read by its Deployment's ``weir run --plan-configmap``)."""
    meta = _meta(desired, settings_name(unit.name), unit.component.name)
    meta["labels"][SETTINGS_FOR] = unit.name
    if unit.shard is not None:
        meta["labels"][SHARD] = unit.shard
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": dict(unit.settings)}


def _service_host(desired: Desired, name: str) -> str:
    domain = (desired.spec.cluster.domain if desired.spec.cluster else None) or "cluster.local"
    return f"{name}.{desired.namespace}.svc.{domain}."


def services(desired: Desired, unit: Unit) -> list[Obj]:
    out = []
    pairs = [(unit.name, p) for p in unit.component.service]
    if unit.shard is None:
        pairs += list(unit.component.extra_services)
    for name, port in pairs:
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": _meta(desired, name, unit.component.name),
                "spec": {
                    "type": "ClusterIP",
                    "selector": {"app": unit.name},
                    "ports": [
                        {
                            "name": port.name,
                            "port": port.service_port,
                            "protocol": "TCP",
                            "targetPort": port.container_port,
                        }
                    ],
                },
            }
        )
    return out


def _persistent(desired: Desired, unit: Unit) -> bool:
    if unit.component.name != "source-controller" or desired.spec.storage is None:
        return False
    if unit.shard is None:
        return True
    sharding = desired.spec.sharding
    return sharding is not None and sharding.storage == "persistent"


def volume_claims(desired: Desired, unit: Unit) -> list[Obj]:
    storage = desired.spec.storage
    if storage is None or not _persistent(desired, unit):
        return []
    return [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": _meta(desired, unit.name, unit.component.name),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": storage.class_,
                "resources": {"requests": {"storage": storage.size}},
            },
        }
    ]


def _security_context(desired: Desired) -> Obj:
    ctx: Obj = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    if _platform(desired) != "openshift":
        ctx.update({"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}})
    return ctx


def _platform(desired: Desired) -> str:
    cluster = desired.spec.cluster
    return (cluster.type if cluster else None) or "kubernetes"


def deployment(desired: Desired, unit: Unit) -> Obj:
    """The unit's Deployment: ``weir run`` reading its settings ConfigMap, with leader
    election, metrics and health endpoints, and the source-controller's storage."""
    ns = desired.namespace
    args = [
        "run",
        f"--plan-configmap={ns}/{settings_name(unit.name)}",
        f"--metrics-addr=:{METRICS_PORT}",
        f"--health-addr=:{HEALTH_PORT}",
        "--log-level=info",
        "--log-encoding=json",
        "--enable-leader-election",
        f"--leader-election-id={unit.name}-leader-election",
        "--web-addr=0",
    ]
    ports = [
        {"containerPort": METRICS_PORT, "name": "http-prom", "protocol": "TCP"},
        {"containerPort": HEALTH_PORT, "name": "healthz", "protocol": "TCP"},
    ]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[Obj] = [{"name": "tmp", "emptyDir": {}}]
    if unit.component.name in ("source-controller", "source-watcher"):  # artifact storage
        port = unit.component.service[0]
        args += [
            f"--storage-path={STORAGE_PATH}",
            f"--storage-addr=:{port.container_port}",
            f"--storage-adv-addr={_service_host(desired, unit.name)}",
        ]
        ports.append({"containerPort": port.container_port, "name": "http", "protocol": "TCP"})
        mounts.append({"name": "data", "mountPath": STORAGE_PATH})
        if _persistent(desired, unit):
            volumes.append({"name": "data", "persistentVolumeClaim": {"claimName": unit.name}})
        else:
            volumes.append({"name": "data", "emptyDir": {}})
    elif unit.component.name == "notification-controller":
        events = unit.component.service[0].container_port
        receiver = unit.component.extra_services[0][1].container_port
        args += [f"--events-addr=:{events}", f"--receiver-addr=:{receiver}"]
        for _, extra in unit.component.extra_services:
            ports.append(
                {"containerPort": extra.container_port, "name": "http-webhook", "protocol": "TCP"}
            )
        ports.append({"containerPort": unit.component.service[0].container_port, "name": "http"})
    pod_labels = {"app": unit.name, COMPONENT: unit.component.name, PART_OF: "flux"}
    if _platform(desired) == "azure":
        pod_labels["azure.workload.identity/use"] = "true"
    pod_spec: Obj = {
        "serviceAccountName": unit.component.name,
        "terminationGracePeriodSeconds": 60,
        "securityContext": {"fsGroup": 1337},
        "containers": [
            {
                "name": "manager",
                "image": desired.image,
                "imagePullPolicy": "IfNotPresent",
                "args": args,
                "env": [
                    {
                        "name": "RUNTIME_NAMESPACE",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                    },
                    {
                        "name": "POD_NAMESPACE",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}},
                    },
                ],
                "ports": ports,
                "readinessProbe": {"httpGet": {"path": "/readyz", "port": "healthz"}},
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "healthz"}},
                "resources": unit.resources.to_k8s(),
                "securityContext": _security_context(desired),
                "volumeMounts": mounts,
            }
        ],
        "volumes": volumes,
    }
    secret = desired.spec.distribution.image_pull_secret
    if secret and desired.mode == "cluster":
        pod_spec["imagePullSecrets"] = [{"name": secret}]
    size = desired.spec.cluster.size if desired.spec.cluster else None
    annotations = {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(METRICS_PORT),
        "cluster-autoscaler.kubernetes.io/safe-to-evict": "true",
    }
    meta = _meta(desired, unit.name, unit.component.name)
    meta["labels"]["app"] = unit.name
    if size:
        meta["annotations"] = {"fluxcd.controlplane.io/profile": size}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": unit.name}},
            "template": {
                "metadata": {"labels": pod_labels, "annotations": annotations},
                "spec": pod_spec,
            },
        },
    }


# --------------------------------------------------------------------------- network policy
def network_policies(desired: Desired) -> list[Obj]:
    """Flux's three policies: pods of the namespace talk to each other and to anything
    outside (``allow-egress``); metrics are scraped from any namespace (``allow-scraping``);
    webhooks reach notification-controller from any namespace (``allow-webhooks``)."""
    np = "networking.k8s.io/v1"
    out: list[Obj] = [
        {
            "apiVersion": np,
            "kind": "NetworkPolicy",
            "metadata": _meta(desired, "allow-egress"),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
                "egress": [{}],
            },
        },
        {
            "apiVersion": np,
            "kind": "NetworkPolicy",
            "metadata": _meta(desired, "allow-scraping"),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [{"namespaceSelector": {}}],
                        "ports": [{"port": METRICS_PORT, "protocol": "TCP"}],
                    }
                ],
            },
        },
    ]
    if "notification-controller" in desired.components:
        out.append(
            {
                "apiVersion": np,
                "kind": "NetworkPolicy",
                "metadata": _meta(desired, "allow-webhooks"),
                "spec": {
                    "podSelector": {"matchLabels": {"app": "notification-controller"}},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [{"namespaceSelector": {}}]}],
                },
            }
        )
    return out


# ------------------------------------------------------------------------------------- sync
def sync_objects(desired: Desired) -> list[Obj]:
    """The sync source and its Kustomization, named like ``flux bootstrap``'s (the
    namespace, or ``spec.sync.name``)."""
    sync = desired.spec.sync
    if sync is None:
        return []
    name = desired.sync_name
    interval = sync.interval or "1m"
    source = _source(sync, name, desired.namespace, interval)
    kustomization = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": desired.namespace},
        "spec": {
            "interval": interval,
            "path": sync.path,
            "prune": True,
            "sourceRef": {"kind": sync.kind, "name": name},
        },
    }
    return [source, kustomization]


def _source(sync: Sync, name: str, namespace: str, interval: str) -> Obj:
    spec: Obj = {"interval": interval}
    if sync.kind == "GitRepository":
        spec.update({"url": sync.url, "ref": git_ref(sync.ref)})
        api_version = "source.toolkit.fluxcd.io/v1"
    elif sync.kind == "OCIRepository":
        spec.update({"url": sync.url, "ref": oci_ref(sync.ref)})
        api_version = "source.toolkit.fluxcd.io/v1"
    else:
        endpoint, insecure = _endpoint(sync.url)
        spec.update({"endpoint": endpoint, "bucketName": sync.ref})
        if insecure:
            spec["insecure"] = True
        api_version = "source.toolkit.fluxcd.io/v1"
    if sync.pull_secret:
        spec["secretRef"] = {"name": sync.pull_secret}
    if sync.provider and sync.provider != "generic":
        spec["provider"] = sync.provider
    return {
        "apiVersion": api_version,
        "kind": sync.kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": copy.deepcopy(spec),
    }


def _endpoint(url: str) -> tuple[str, bool]:
    if url.startswith("http://"):
        return url.removeprefix("http://"), True
    return url.removeprefix("https://"), False
