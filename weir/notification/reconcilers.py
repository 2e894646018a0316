"""The reconcilers of Provider, Alert and Receiver (the runtime's one shape).

- **Provider**: the type must be one weir implements and the address well formed (both from
  the spec: terminal, ``ValidationFailed``), ``commitStatusExpr`` must compile
  (``InvalidCELExpression``), and the Secrets must hold what the type needs (``TokenNotFound``
  / ``ValidationFailed``, retried). Ready message ``Initialized``; checked again every
  ``spec.interval`` (10m) to notice Secret changes.
- **Alert**: the inclusion/exclusion expressions must compile (terminal) and the Provider must
  exist (``DependencyNotReady``, retried; a Provider appearing queues its Alerts at once).
  Alerts forward events whatever their Ready condition says, as Flux's static Alerts do.
- **Receiver**: the type must be one weir implements, its filters must compile (terminal), its
  Secret must hold a ``token`` (``TokenNotFound``, retried). Sets ``status.webhookPath``;
  Ready message ``Receiver initialised for path: /hook/...``. Only Ready Receivers answer
  webhooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from kubernetes_asyncio.client import ApiClient

from weir.errors import ConfigError
from weir.notification import config as provider_config
from weir.notification.matching import AlertFilter
from weir.notification.receiver.resources import ResourceFilterError, compile_filter
from weir.notification.receiver.server import TokenError, read_token, webhook_path
from weir.notification.receiver.verify import SUPPORTED_TYPES as RECEIVER_TYPES
from weir.runtime import reasons
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import ReconcileError, Result, Stalled

Obj = dict[str, Any]
INITIALIZED = "Initialized"
VALIDATION_FAILED = provider_config.VALIDATION_FAILED
TOKEN_NOT_FOUND = provider_config.TOKEN_NOT_FOUND
INVALID_CEL = provider_config.INVALID_CEL
DEFAULT_INTERVAL = 600.0


class ProviderReconciler(Reconciler):
    finalizer: ClassVar[str | None] = None
    default_interval: ClassVar[float | None] = DEFAULT_INTERVAL

    def __init__(self, api: ApiClient, default_timeout: float = 15.0) -> None:
        self.api = api
        self.default_timeout = default_timeout

    async def reconcile(self, obj: Obj) -> Result:
        try:
            await provider_config.resolve(self.api, obj, default_timeout=self.default_timeout)
        except provider_config.ProviderError as e:
            if e.terminal:
                raise Stalled(e.reason, e.message) from e
            raise ReconcileError(e.reason, e.message) from e
        return Result.success(INITIALIZED)

    def interval(self, obj: Obj) -> float | None:
        try:
            return super().interval(obj)
        except ConfigError:  # spec.interval is deprecated and unused: never stall on it
            return self.default_interval


class AlertReconciler(Reconciler):
    finalizer: ClassVar[str | None] = None
    default_interval: ClassVar[float | None] = DEFAULT_INTERVAL

    def __init__(self, providers: Callable[[str, str], Obj | None]) -> None:
        self.providers = providers

    async def reconcile(self, obj: Obj) -> Result:
        flt = AlertFilter.compile(obj)
        if flt.errors:
            raise Stalled(
                VALIDATION_FAILED,
                "invalid regular expression in " + "; ".join(flt.errors) + ": fix the Alert",
            )
        if self.providers(flt.namespace, flt.provider) is None:
            return Result.requeue_after(
                30,
                f"Provider '{flt.namespace}/{flt.provider}' not found",
                reason=reasons.DEPENDENCY_NOT_READY,
            )
        return Result.success(INITIALIZED)


class ReceiverReconciler(Reconciler):
    finalizer: ClassVar[str | None] = None
    default_interval: ClassVar[float | None] = DEFAULT_INTERVAL

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    async def reconcile(self, obj: Obj) -> Result:
        meta, spec = obj["metadata"], obj.get("spec") or {}
        kind = str(spec.get("type") or "")
        if kind not in RECEIVER_TYPES:
            known = ", ".join(sorted(RECEIVER_TYPES))
            raise Stalled(
                VALIDATION_FAILED,
                f"receiver type {kind!r} is not supported by weir; supported types: {known}",
            )
        resources = spec.get("resources") or []
        for i, entry in enumerate(resources):
            if entry.get("name") == "*" and not entry.get("matchLabels"):
                raise Stalled(
                    VALIDATION_FAILED,
                    f"spec.resources[{i}]: matchLabels field not set when using wildcard '*' "
                    "as name",
                )
        try:
            if spec.get("resourceFilter"):
                compile_filter(str(spec["resourceFilter"]), "spec.resourceFilter")
            for i, entry in enumerate(resources):
                if entry.get("filter"):
                    compile_filter(str(entry["filter"]), f"spec.resources[{i}].filter")
        except ResourceFilterError as e:
            raise Stalled(INVALID_CEL, str(e)) from e
        try:
            token = await read_token(self.api, str(meta["namespace"]), obj)
        except TokenError as e:
            raise ReconcileError(TOKEN_NOT_FOUND, str(e)) from e
        path = webhook_path(token, str(meta["name"]), str(meta["namespace"]))
        obj.setdefault("status", {})["webhookPath"] = path
        return Result.success(f"Receiver initialised for path: {path}")
