"""What every tool needs: the settings, the API client (impersonating when asked) and the
default namespace. The client is opened on first use, inside the server's event loop, and
closed when the server stops."""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field

from kubernetes_asyncio.client import ApiClient

from weir.auth.users import Identity
from weir.kube.client import api_client, impersonating
from weir.kubeconfig import DEFAULT_NAMESPACE, KubeconfigError, resolve
from weir.mcp.auth import CALLER
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
    _callers: dict[Identity, ApiClient] = field(default_factory=dict, init=False)
    _context: str | None = field(default=None, init=False)

    @property
    def context(self) -> str | None:
        """The kubeconfig context the tools use (``set_kubeconfig_context`` switches it)."""
        return self._context or self.settings.context

    @property
    def can_switch_context(self) -> bool:
        """Contexts can be switched outside a cluster, with one caller (a switch would move
        every caller of a shared server) and the server's own client."""
        multi_user = bool(self.settings.users) or self.settings.oidc is not None
        return (
            self.shared_api is None
            and not multi_user
            and not os.environ.get("KUBERNETES_SERVICE_HOST")
        )

    async def switch_context(self, name: str) -> None:
        """Use context ``name`` of the kubeconfig from now on (in memory only: the file is
        not changed); :class:`~weir.kubeconfig.KubeconfigError` when it does not exist."""
        resolve(self.settings.kubeconfig, name)  # raises, naming the contexts, when unknown
        await self.close()
        self._context = name
        self._namespace = None

    @property
    def default_namespace(self) -> str:
        """``--namespace``, else the kubeconfig context's namespace, else ``default``."""
        if self.settings.namespace:
            return self.settings.namespace
        if self._namespace is None:
            try:
                self._namespace = resolve(self.settings.kubeconfig, self.context).namespace
            except KubeconfigError:
                self._namespace = DEFAULT_NAMESPACE
        return self._namespace

    def namespace(self, given: str | None) -> str:
        return given or self.default_namespace

    @property
    def identity(self) -> str:
        """Who the current call acts as, for results, logs and error messages."""
        caller = CALLER.get()
        if caller is None:
            return self.settings.identity
        groups = f" (groups {', '.join(caller.groups)})" if caller.groups else ""
        return f"{caller.user}{groups}"

    async def api(self) -> ApiClient:
        """The client the tools call the API server with: impersonating the caller (with
        ``--users-file``) or ``--kube-as``, else the kubeconfig's user."""
        caller = CALLER.get()
        if caller is not None:
            root = await self._base()
            assert self._lock is not None  # made by _base
            async with self._lock:
                found = self._callers.get(caller)
                if found is None:
                    found = impersonating(root, caller.user, caller.groups)
                    self._callers[caller] = found
            return found
        if self._api is not None:
            return self._api
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._api is None:
                base = self.shared_api
                if base is None:
                    base = await api_client(self.settings.kubeconfig, self.context)
                    self._owned.append(base)
                if self.settings.kube_as:
                    imp = impersonating(base, self.settings.kube_as, self.settings.kube_as_groups)
                    self._owned.append(imp)
                    base = imp
                self._api = base
        return self._api

    async def service_api(self) -> ApiClient:
        """The server's own client (not the caller's): what audit Events are recorded with, so
        that a caller without rights on Events still leaves a trace."""
        return await self._base()

    async def _base(self) -> ApiClient:
        """The client impersonating clients are made from (the shared one, or one opened from
        the kubeconfig), without ``--kube-as``."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        if self.shared_api is not None:
            return self.shared_api
        async with self._lock:
            if not self._owned:
                self._owned.append(await api_client(self.settings.kubeconfig, self.context))
        return self._owned[0]

    async def close(self) -> None:
        """Close the clients opened here (not a shared one)."""
        for caller_api in self._callers.values():
            with contextlib.suppress(Exception):
                await caller_api.close()
        self._callers.clear()
        for client in reversed(self._owned):
            with contextlib.suppress(Exception):
                await client.close()
        self._owned.clear()
        self._api = None
