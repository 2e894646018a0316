"""What every tool needs: the settings, the API client (impersonating when asked) and the
default namespace. The client is opened on first use, inside the server's event loop, and
closed when the server stops."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from kubernetes_asyncio.client import ApiClient

from weir.kube.client import api_client, impersonating
from weir.kubeconfig import DEFAULT_NAMESPACE, KubeconfigError, resolve
from weir.mcp.settings import McpSettings


@dataclass
class ToolEnv:
    """Shared by the tools of one server."""

    settings: McpSettings
    shared_api: ApiClient | None = None
    """A client owned by the host (``weir run``); never closed here."""
    _api: ApiClient | None = field(default=None, init=False)
    _owned: list[ApiClient] = field(default_factory=list, init=False)
    _lock: asyncio.Lock | None = field(default=None, init=False)
    _namespace: str | None = field(default=None, init=False)

    @property
    def default_namespace(self) -> str:
        """``--namespace``, else the kubeconfig context's namespace, else ``default``."""
        if self.settings.namespace:
            return self.settings.namespace
        if self._namespace is None:
            try:
                self._namespace = resolve(self.settings.kubeconfig, self.settings.context).namespace
            except KubeconfigError:
                self._namespace = DEFAULT_NAMESPACE
        return self._namespace

    def namespace(self, given: str | None) -> str:
        return given or self.default_namespace

    async def api(self) -> ApiClient:
        """The client the tools call the API server with (impersonating with ``--kube-as``)."""
        if self._api is not None:
            return self._api
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._api is None:
                base = self.shared_api
                if base is None:
                    base = await api_client(self.settings.kubeconfig, self.settings.context)
                    self._owned.append(base)
                if self.settings.kube_as:
                    imp = impersonating(base, self.settings.kube_as, self.settings.kube_as_groups)
                    self._owned.append(imp)
                    base = imp
                self._api = base
        return self._api

    async def close(self) -> None:
        """Close the clients opened here (not a shared one)."""
        for client in reversed(self._owned):
            with contextlib.suppress(Exception):
                await client.close()
        self._owned.clear()
        self._api = None
