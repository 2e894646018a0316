"""The FluxReport reconciler: regenerates the singleton report ``flux`` in the operator's
namespace at start, when the FluxInstance changes, on ``reconcile.fluxcd.io/requestedAt``,
and every ``fluxcd.controlplane.io/reconcileEvery`` (default ``--reporting-interval``, 5m);
``fluxcd.controlplane.io/reconcile: disabled`` pauses it. Each run also refreshes the
``flux_resource_info`` metric.

The report's ``spec`` is written with server-side apply (field manager ``flux-operator``),
its ``status`` (``Ready``: ``Reporting finished in 272ms``) by the runtime.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient

from weir.api.fluxinstance import API_VERSION, INSTANCE_NAME
from weir.api.kinds import KINDS
from weir.kube import apply as kube
from weir.kube.errors import AlreadyExistsError, ApiError, NotFoundError
from weir.log import kv
from weir.operator.instance.reconciler import EVERY_ANNOTATION, annotation_duration, is_disabled
from weir.operator.report.build import ComponentsFn, build_report
from weir.operator.report.metrics import OperatorMetrics
from weir.runtime.reconciler import Reconciler
from weir.runtime.result import Result, Stalled

log = logging.getLogger("weir.operator")
Obj = dict[str, Any]
FIELD_MANAGER = "flux-operator"
SUCCEEDED = "ReconciliationSucceeded"

InstanceGetter = Callable[[str, str], Obj | None]


def empty_report(namespace: str) -> Obj:
    """The report the operator creates before its first run."""
    return {
        "apiVersion": API_VERSION,
        "kind": "FluxReport",
        "metadata": {"name": INSTANCE_NAME, "namespace": namespace},
        "spec": {"distribution": {"status": "Unknown"}},
    }


class FluxReportReconciler(Reconciler):
    """See the module docstring."""

    finalizer = None

    def __init__(
        self,
        api: ApiClient,
        namespace: str,
        metrics: OperatorMetrics,
        instance: InstanceGetter,
        *,
        default_interval: float = 300.0,
        components: ComponentsFn | None = None,
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.metrics = metrics
        self.instance = instance
        self.every = default_interval
        self.components = components

    def is_suspended(self, obj: Obj) -> bool:
        return is_disabled(obj)

    def interval(self, obj: Obj) -> float | None:
        return annotation_duration(obj, EVERY_ANNOTATION, self.every)

    async def reconcile(self, obj: Obj) -> Result:
        meta = obj.get("metadata") or {}
        if meta.get("name") != INSTANCE_NAME or meta.get("namespace") != self.namespace:
            raise Stalled(
                "ReconciliationFailed",
                f"the operator writes one report, {self.namespace}/{INSTANCE_NAME}; "
                "delete this one",
            )
        started = time.monotonic()
        instance = self.instance(self.namespace, INSTANCE_NAME)
        spec, objects = await build_report(
            self.api, self.namespace, instance, components=self.components
        )
        body = {
            "apiVersion": API_VERSION,
            "kind": "FluxReport",
            "metadata": {"name": INSTANCE_NAME, "namespace": self.namespace},
            "spec": spec,
        }
        stored = await kube.apply(self.api, body, FIELD_MANAGER, force=True)
        # the status written after this run observes the spec just written
        meta["generation"] = (stored.get("metadata") or {}).get("generation")
        self.metrics.set_resources(o for items in objects.values() for o in items)
        obj["status"]["lastReported"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        took = round((time.monotonic() - started) * 1000)
        return Result.success(f"Reporting finished in {took}ms", reason=SUCCEEDED)


class ReportBootstrap:
    """A manager service creating the report at start (the controller then fills it)."""

    def __init__(self, api: ApiClient, namespace: str) -> None:
        self.api = api
        self.namespace = namespace

    async def start(self) -> None:
        await ensure_report(self.api, self.namespace)

    async def stop(self) -> None:
        """Nothing to stop."""


async def ensure_report(api: ApiClient, namespace: str) -> None:
    """Create the report if it does not exist (a missing namespace is left for later)."""
    resource = KINDS["FluxReport"].resource
    try:
        await kube.get(api, resource, namespace, INSTANCE_NAME)
        return
    except NotFoundError:
        pass
    except ApiError as e:
        log.warning("cannot read the FluxReport", extra=kv(error=str(e)))
        return
    with contextlib.suppress(AlreadyExistsError, NotFoundError):
        await kube.create(api, resource, empty_report(namespace), field_manager=FIELD_MANAGER)
