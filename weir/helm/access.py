"""Who a HelmRelease acts as, for Helm (a :class:`~weir.helmengine.engine.ClusterAccess`) and for
weir's own calls (CRDs, drift detection, inventory: an API client):

- by default the controller's own identity (``--kubeconfig`` / in-cluster);
- ``spec.serviceAccountName``: impersonating ``system:serviceaccount:<hr-ns>:<name>``;
- ``spec.kubeConfig.secretRef``: another cluster, from the kubeconfig in the Secret (key
  ``value`` or ``value.yaml`` unless ``key`` is given).

API clients are cached per identity and closed by :meth:`Identities.aclose`.
"""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass, field

from kubernetes_asyncio.client import ApiClient

from weir.api.helm import HelmReleaseSpec
from weir.errors import WeirError
from weir.helmengine.engine import ClusterAccess
from weir.kube import apply as kube
from weir.kube.client import api_client_from_kubeconfig_text, impersonating, service_account_user
from weir.kube.errors import NotFoundError
from weir.kube.resources import SECRETS
from weir.runtime.result import ReconcileError, Stalled


@dataclass
class Identities:
    """Builds and caches the (ClusterAccess, ApiClient) pairs of HelmReleases."""

    api: ApiClient
    base: ClusterAccess
    default_service_account: str | None = None
    """``--default-service-account``: impersonated when ``spec.serviceAccountName`` is empty."""
    clients: dict[str, ApiClient] = field(default_factory=dict)

    async def for_release(
        self, namespace: str, spec: HelmReleaseSpec
    ) -> tuple[ClusterAccess, ApiClient]:
        if spec.kube_config is not None:
            return await self._remote(namespace, spec)
        account = spec.service_account_name or self.default_service_account
        if account:
            user = service_account_user(namespace, account)
            if user not in self.clients:
                self.clients[user] = impersonating(self.api, user)
            return self.base.as_service_account(namespace, account), self.clients[user]
        return self.base, self.api

    async def _remote(
        self, namespace: str, spec: HelmReleaseSpec
    ) -> tuple[ClusterAccess, ApiClient]:
        assert spec.kube_config is not None
        ref = spec.kube_config.secret_ref
        if ref is None:
            raise Stalled(
                "InitFailed",
                "spec.kubeConfig.configMapRef (cloud provider access) is not supported by weir "
                "yet: use spec.kubeConfig.secretRef",
            )
        try:
            secret = await kube.get(self.api, SECRETS, namespace, ref.name)
        except NotFoundError as e:
            raise ReconcileError(
                "InitFailed",
                f"kubeconfig Secret '{namespace}/{ref.name}' not found: create it or fix "
                "spec.kubeConfig.secretRef",
            ) from e
        data = secret.get("data") or {}
        key = ref.key or ("value" if "value" in data else "value.yaml")
        if key not in data:
            raise ReconcileError(
                "InitFailed", f"kubeconfig Secret '{namespace}/{ref.name}' has no key {key!r}"
            )
        text = base64.b64decode(data[key]).decode()
        version = (secret.get("metadata") or {}).get("resourceVersion")
        cache_key = f"remote:{namespace}/{ref.name}:{version}"
        if cache_key not in self.clients:
            try:
                self.clients[cache_key] = await api_client_from_kubeconfig_text(text)
            except WeirError as e:
                raise ReconcileError("InitFailed", f"invalid kubeconfig: {e}") from e
        access = ClusterAccess(kubeconfig_content=text)
        if spec.service_account_name:
            access = access.as_service_account(namespace, spec.service_account_name)
        return access, self.clients[cache_key]

    async def aclose(self) -> None:
        for client in self.clients.values():
            with contextlib.suppress(Exception):
                await client.close()
        self.clients.clear()
