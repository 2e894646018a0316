"""The HelmRelease controller's settings (helm-controller's flags weir honours)."""

from __future__ import annotations

from dataclasses import dataclass

KUBE_API_QPS = 50.0
KUBE_API_BURST = 300


@dataclass(frozen=True)
class HelmSettings:
    """helm-controller's flags weir honours."""

    requeue_dependency: float = 30.0
    """Retry delay while a chart source or a dependency is not ready (``--requeue-dependency``)."""
    no_cross_namespace_refs: bool = False
    """Refuse sources and dependencies in other namespaces (``--no-cross-namespace-refs``)."""
    default_service_account: str | None = None
    """Impersonate this service account when ``spec.serviceAccountName`` is empty
    (``--default-service-account``)."""
    external_artifact: bool = True
    """Accept ``chartRef.kind: ExternalArtifact`` (Flux's ``ExternalArtifact`` feature gate; on
    unless ``--feature-gates=ExternalArtifact=false``)."""
    kube_api_qps: float = KUBE_API_QPS
    """Queries per second of Helm's clients (``--kube-api-qps``)."""
    kube_api_burst: int = KUBE_API_BURST
    """Burst of Helm's clients (``--kube-api-burst``)."""
