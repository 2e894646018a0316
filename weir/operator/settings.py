"""The operator's settings (``weir run --operator-*`` flags, read with
``RunSettings.feature(OperatorSettings)``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from weir.runtime.settings import pod_namespace

DEFAULT_NAMESPACE = "flux-system"


@dataclass(frozen=True)
class OperatorSettings:
    """How ``weir run --controllers=operator`` runs FluxInstances and the FluxReport."""

    mode: Literal["local", "cluster"] = "local"
    """``local``: the instance's controllers run in this process (``make up``, a laptop);
    ``cluster``: the operator applies them as Deployments (``--operator-mode``)."""
    namespace: str | None = None
    """The operator's namespace, the only one a FluxInstance is accepted in
    (``--operator-namespace``); None: ``$RUNTIME_NAMESPACE``, the pod's namespace, else
    ``flux-system``."""
    reporting_interval: float = 300.0
    """Default interval of the FluxReport (``--reporting-interval``, Flux's 5m); the report's
    ``fluxcd.controlplane.io/reconcileEvery`` annotation overrides it."""
    catalog: str | None = None
    """YAML file listing the weir releases to choose from (``--distribution-catalog``);
    None: the running weir."""
    default_service_account: str | None = None
    """ServiceAccount a ResourceSet without ``spec.serviceAccountName`` is applied as
    (``--default-service-account``, shared with kustomize- and helm-controller); None: the
    operator's own identity."""
    requeue_dependency: float = 5.0
    """How often a ResourceSet's unmet ``dependsOn`` is re-checked (the Flux Operator's 5s)."""
    plan_configmap: str | None = None
    """``NS/NAME`` of a unit's settings ConfigMap to run (``--plan-configmap``; how the
    operator's Deployments run)."""

    def resolved_namespace(self) -> str:
        return (
            self.namespace
            or os.environ.get("RUNTIME_NAMESPACE")
            or pod_namespace()
            or DEFAULT_NAMESPACE
        )
